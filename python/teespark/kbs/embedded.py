"""An embedded KBS: the real key broker on a loopback port, in a background thread.

Local runs (a laptop, CI, a notebook) start one instead of running
``teespark kbs serve``. It is the same HTTP service with the same checks; the
difference is only where its directory and storage key live (a temporary
directory and an in-memory storage key unless told otherwise) and that the
handle gives its public key to the caller directly, so the TA can pin it
without asking the network.

Example:
    >>> with start_embedded_kbs() as kbs:                         # doctest: +SKIP
    ...     kbs.trust_device_key(ta.get_device_pubkey())
    ...     kbs.add_table("loans", table_id=tid, key_id=kid, data_key=key)
    ...     release_keys(ta, kbs, ["loans"])
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Optional, Union

from teespark.attest.evidence import DeviceKey, DeviceKeyLike
from teespark.kbs import admin
from teespark.kbs.policy import RecipientPolicy, TablePolicy
from teespark.kbs.server import KbsHTTPServer, make_server
from teespark.kbs.service import DEFAULT_NONCE_TTL, KbsService
from teespark.kbs.store import KbsStore

__all__ = ["EmbeddedKbs", "start_embedded_kbs"]

PathLike = Union[str, "os.PathLike[str]"]


class EmbeddedKbs:
    """Handle on a running embedded KBS. Use :func:`start_embedded_kbs`.

    Attributes:
        url: ``http://127.0.0.1:<port>``.
        public_key: the KBS's Ed25519 public key (32 bytes) for the TA to pin.
        dir: the KBS directory.
        store: the opened :class:`KbsStore`; ``service``: the :class:`KbsService`.
    """

    def __init__(self, server: KbsHTTPServer, service: KbsService, store: KbsStore,
                 owned_dir: Optional[Path]) -> None:
        self._server = server
        self.service = service
        self.store = store
        self.dir = store.dir
        self.url = server.url
        self.public_key = service.public_key
        self._owned_dir = owned_dir
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"teespark-kbs-{server.server_address[1]}",
                                        daemon=True)
        self._thread.start()
        self._stopped = False

    @property
    def profile(self) -> str:
        return self.service.profile

    @property
    def audit_path(self) -> Path:
        return self.store.audit_path

    # -- admin -------------------------------------------------------------------

    def add_table(self, name: str, *, table_id: bytes | str, key_id: bytes | str,
                  data_key: bytes, owner: str = "local",
                  measurements: Optional[Iterable[bytes | str]] = None,
                  recipients: Optional[Iterable[str]] = None) -> TablePolicy:
        """Load a table's data key and allow it (see :func:`teespark.kbs.admin.add_table`).

        ``measurements=None`` allows the owner's default measurements; when the
        owner has none yet, the measurement of this installation's TA image.
        """
        if measurements is None and not self._owner_measurements(owner):
            from teespark.attest.measurement import default_ta_image, measure_ta_image
            measurements = [measure_ta_image(default_ta_image())]
        return admin.add_table(self.store, owner=owner, name=name, table_id=table_id,
                               key_id=key_id, data_key=data_key, measurements=measurements,
                               recipients=recipients)

    def _owner_measurements(self, owner: str) -> list[bytes]:
        o = self.store.policy.owners.get(owner)
        return list(o.measurements) if o is not None else []

    def add_recipient(self, recipient_id: bytes | str, public_key: bytes | str, *,
                      owner: str = "local", name: Optional[str] = None) -> RecipientPolicy:
        """Allow a result recipient for ``owner``'s tables."""
        return admin.add_recipient(self.store, owner=owner, recipient_id=recipient_id,
                                   public_key=public_key, name=name)

    def trust_device_key(self, key: DeviceKeyLike, *, owner: str = "local") -> DeviceKey:
        """Trust a device attestation key, e.g. ``ta.get_device_pubkey()``."""
        return admin.trust_device_key(self.store, owner=owner, key=key)

    def set_accept_simulated(self, value: Optional[bool], *, owner: str = "local") -> None:
        """Set an owner's ``accept_simulated`` (``None`` follows the profile)."""
        with self.store.admin_lock():
            policy = self.store.policy
            policy.owner(owner, create=True).accept_simulated = value
            self.store.save_policy(policy)

    # -- lifecycle ---------------------------------------------------------------

    def stop(self) -> None:
        """Stop serving, close the socket, and delete a temporary directory. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        if self._owned_dir is not None:
            shutil.rmtree(self._owned_dir, ignore_errors=True)

    def __enter__(self) -> EmbeddedKbs:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EmbeddedKbs(url={self.url!r}, dir={str(self.dir)!r}, profile={self.profile!r})"


def start_embedded_kbs(dir: Optional[PathLike] = None, profile: str = "dev", *,
                       host: str = "127.0.0.1", port: int = 0,
                       storage_key: Optional[bytes] = None,
                       storage_key_file: Optional[PathLike] = None,
                       nonce_ttl: float = DEFAULT_NONCE_TTL) -> EmbeddedKbs:
    """Start a KBS in a background thread on a loopback port.

    Args:
        dir: KBS directory; ``None`` = a fresh temporary directory, removed by
            :meth:`EmbeddedKbs.stop`.
        profile: ``"dev"`` (accepts simulated evidence) or ``"prod"``.
        host, port: where to listen (default loopback, an ephemeral port).
        storage_key: the 32-byte storage key; with ``dir=None`` and no key, a
            random one held only in memory.
        storage_key_file: as for ``teespark kbs serve``.
        nonce_ttl: seconds a nonce stays valid.

    Returns:
        An :class:`EmbeddedKbs` (a context manager).
    """
    owned: Optional[Path] = None
    if dir is None:
        owned = Path(tempfile.mkdtemp(prefix="teespark-kbs-"))
        dir = owned
        if storage_key is None and storage_key_file is None:
            storage_key = os.urandom(32)
    try:
        store = KbsStore(dir, profile=profile, storage_key=storage_key,
                         storage_key_file=storage_key_file)
        service = KbsService(store, profile=profile, nonce_ttl=nonce_ttl)
        server = make_server(service, host, port)
    except BaseException:
        if owned is not None:
            shutil.rmtree(owned, ignore_errors=True)
        raise
    return EmbeddedKbs(server, service, store, owned)
