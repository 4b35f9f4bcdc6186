"""The key broker service (KBS) that table owners run.

A KBS holds the owners' table data keys (encrypted at rest) and a release
policy. It gives a data key only to a teespark TA that proves, with fresh
attestation evidence, that it runs an allowed measurement on a trusted device,
and only wrapped to that TA's ephemeral key in a reply signed with the KBS's
Ed25519 key. See docs/KBS.md.

- :func:`start_embedded_kbs`: the KBS in a background thread (local runs).
- ``teespark kbs serve``: the KBS as a service (:func:`teespark.kbs.server.main`).
- :func:`teespark.attest.client.release_keys`: the host side of a release.
"""

from teespark.kbs.embedded import EmbeddedKbs, start_embedded_kbs

__all__ = ["EmbeddedKbs", "start_embedded_kbs"]
