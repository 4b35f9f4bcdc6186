"""The key broker service over HTTP, and the ``teespark kbs`` command line.

API (JSON over HTTP; binary values base64, identifiers hex; docs/KBS.md):

- ``GET /v1/nonce`` -> ``{"nonce": b64 (32 bytes), "expires_in": seconds}``
- ``GET /v1/kbs-key`` -> ``{"public_key": hex (Ed25519, 32 bytes), "algorithm": "Ed25519"}``
- ``GET /v1/health`` -> ``{"status": "ok", "profile": ...}``
- ``POST /v1/keys`` with ``{"evidence": b64, "tables": [...], "recipients": [...],
  "slots": [...]}`` -> ``{"reply": b64, "evidence_hash": hex, "slots": [...],
  "recipients": [...]}``, or the raw reply bytes when the request says
  ``Accept: application/octet-stream``.

Errors: ``{"error": "<reference>", "message": "..."}`` with status 400
(malformed), 403 (refused), 404 (unknown table or path), 405, 409 (nonce
reused), 411, 413 (body over 64 KiB), 415, 500, 503.

Run it with ``teespark kbs serve`` (see :func:`main`), or in-process with
:func:`teespark.kbs.embedded.start_embedded_kbs`.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

from teespark.kbs.service import KbsRefusal, KbsService

__all__ = ["MAX_BODY_BYTES", "KbsHTTPServer", "main", "make_server"]

log = logging.getLogger("teespark.kbs")

MAX_BODY_BYTES = 64 * 1024
REQUEST_TIMEOUT = 10.0
ENV_KBS_DIR = "TEESPARK_KBS_DIR"


class _Handler(BaseHTTPRequestHandler):
    server: KbsHTTPServer
    server_version = "teespark-kbs/1"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = REQUEST_TIMEOUT

    # -- plumbing -----------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.client_address[0], format % args)

    def _client(self) -> str:
        return f"{self.client_address[0]}:{self.client_address[1]}"

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        log.info("%s %s %s -> %d", self._client(), self.command, self.path, status)

    def _json(self, status: int, obj: dict[str, Any]) -> None:
        self._send(status, json.dumps(obj).encode() + b"\n", "application/json")

    def _error(self, status: int, reference: str, message: str, *, audit: bool = False) -> None:
        if audit:
            self.server.service.record_refusal(self._client(),
                                               KbsRefusal(status, reference, message))
        self._json(status, {"error": reference, "message": message})

    def _route(self) -> str:
        return self.path.split("?", 1)[0]

    # -- methods ------------------------------------------------------------------

    def do_GET(self) -> None:
        route = self._route()
        svc = self.server.service
        try:
            if route == "/v1/nonce":
                nonce = svc.new_nonce()
                self._json(200, {"nonce": base64.b64encode(nonce).decode(),
                                 "expires_in": svc.nonce_ttl})
            elif route == "/v1/kbs-key":
                self._json(200, {"public_key": svc.public_key.hex(), "algorithm": "Ed25519"})
            elif route == "/v1/health":
                self._json(200, {"status": "ok", "profile": svc.profile})
            elif route == "/v1/keys":
                self._error(405, "method-not-allowed", "use POST /v1/keys")
            else:
                self._error(404, "not-found", f"no such endpoint {route!r}")
        except KbsRefusal as r:
            self._error(r.status, r.reference, r.message)

    def do_POST(self) -> None:
        route = self._route()
        if route != "/v1/keys":
            self.close_connection = True
            if route in ("/v1/nonce", "/v1/kbs-key", "/v1/health"):
                self._error(405, "method-not-allowed", f"use GET {route}")
            else:
                self._error(404, "not-found", f"no such endpoint {route!r}")
            return
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            self._error(411, "length-required", "send the body with a Content-Length, "
                        "not chunked", audit=True)
            return
        length_text = self.headers.get("Content-Length")
        try:
            length = int(length_text) if length_text is not None else -1
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._error(411, "length-required", "a POST needs a valid Content-Length",
                        audit=True)
            return
        if length > self.server.max_body:
            self.close_connection = True  # the body is never read
            self._error(413, "body-too-large",
                        f"request body of {length} bytes exceeds the "
                        f"{self.server.max_body}-byte limit", audit=True)
            return
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        body = self.rfile.read(length)
        if ctype != "application/json":
            self._error(415, "unsupported-media-type",
                        f"send application/json, not {ctype!r}", audit=True)
            return
        try:
            request = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self._error(400, "json-malformed", "the request body is not valid UTF-8 JSON",
                        audit=True)
            return
        try:
            rel = self.server.service.release(request, client=self._client())
        except KbsRefusal as r:
            self._error(r.status, r.reference, r.message)
            return
        except Exception:  # a bug: never leak internals, but say so
            log.exception("internal error while answering a key release")
            self._error(500, "internal-error", "the KBS failed; see its log", audit=True)
            return
        if "application/octet-stream" in (self.headers.get("Accept") or ""):
            self._send(200, rel.reply, "application/octet-stream")
        else:
            self._json(200, {"reply": base64.b64encode(rel.reply).decode(),
                             "evidence_hash": rel.evidence_hash.hex(),
                             "slots": rel.slots, "recipients": rel.recipients})

    def do_PUT(self) -> None:
        self.close_connection = True
        self._error(405, "method-not-allowed", "the KBS API uses GET and POST only")

    do_DELETE = do_PUT
    do_PATCH = do_PUT


class KbsHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server around one :class:`KbsService`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], service: KbsService, *,
                 max_body: int = MAX_BODY_BYTES) -> None:
        self.service = service
        self.max_body = max_body
        super().__init__(address, _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        host = f"[{host}]" if ":" in str(host) else host
        return f"http://{host}:{port}"


def make_server(service: KbsService, host: str = "127.0.0.1", port: int = 0, *,
                max_body: int = MAX_BODY_BYTES) -> KbsHTTPServer:
    """Bind (port 0 = an ephemeral port) but do not start serving."""
    return KbsHTTPServer((host, port), service, max_body=max_body)


# ----------------------------------------------------------------------------
# Command line: teespark kbs ...
# ----------------------------------------------------------------------------

def _default_dir() -> Path:
    env = os.environ.get(ENV_KBS_DIR)
    if env:
        return Path(env)
    from teespark.crypto.master_key import config_dir
    return config_dir() / "kbs"


class _CliError(Exception):
    def __init__(self, reference: str, message: str, hint: str = "", code: int = 1) -> None:
        super().__init__(message)
        self.reference, self.message, self.hint, self.code = reference, message, hint, code


def _codes() -> Any:
    from teespark import _exit_codes
    return _exit_codes


def _open_store(args: argparse.Namespace):
    from teespark.kbs.store import KbsStore
    return KbsStore(args.dir, profile=getattr(args, "profile", "dev"),
                    storage_key_file=getattr(args, "storage_key_file", None))


def _parse_measurements(values: Sequence[str]) -> list[bytes]:
    out = []
    for v in values:
        if len(v) == 64 and all(c in "0123456789abcdefABCDEF" for c in v):
            out.append(bytes.fromhex(v))
        elif Path(v).is_file():
            from teespark.attest.measurement import measure_ta_image
            out.append(measure_ta_image(v))
        else:
            raise _CliError("bad-measurement", f"--measurement {v!r} is neither 64 hex digits "
                            "nor a TA image file", code=_codes().USAGE_ERROR)
    return out


def _cmd_serve(args: argparse.Namespace) -> int:
    store = _open_store(args)
    service = KbsService(store, profile=args.profile, nonce_ttl=args.nonce_ttl)
    server = make_server(service, args.host, args.port)
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        log.warning("the KBS listens on %s, beyond loopback: put it behind TLS if the "
                    "network is not trusted (replies are signed and keys wrapped to the TA, "
                    "but refusal messages and the policy's table names are not secret)",
                    args.host)
    print(f"teespark kbs: listening on {server.url} (profile {args.profile}, dir {args.dir})")
    print(f"KBS public key (Ed25519): {service.public_key.hex()}", flush=True)
    if args.port_file:
        Path(args.port_file).write_text(f"{server.server_address[1]}\n")
    stop = threading.Event()

    def _stop(_signum: int, _frame: object) -> None:
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    print("teespark kbs: stopped", flush=True)
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    if args.storage_key_file and not Path(args.storage_key_file).exists():
        from teespark.kbs.store import generate_storage_key_file
        generate_storage_key_file(args.storage_key_file)
        print(f"created storage key file {args.storage_key_file} (mode 0600)")
    store = _open_store(args)
    print(f"KBS directory {store.dir} ready")
    print(f"KBS public key (Ed25519): {store.public_key.hex()}")
    return 0


def _cmd_public_key(args: argparse.Namespace) -> int:
    print(_open_store(args).public_key.hex())
    return 0


def _cmd_add_table(args: argparse.Namespace) -> int:
    from teespark.crypto.keyring import Keyring, check_key_id
    from teespark.crypto.master_key import MasterKey, default_keyring_path
    from teespark.kbs.admin import add_table

    master = MasterKey.resolve(args.master_key)
    keyring = Keyring.open(args.keyring or default_keyring_path(), master)
    table_id, key_id, name = args.table_id, args.key_id, args.name
    if args.manifest:
        # The manifest's MACs are checked with the data key it names, so
        # the ids loaded into the KBS are the ones the table was sealed with.
        from teespark.format.manifest import load_manifest
        unverified = load_manifest(args.manifest)
        if key_id and key_id.lower() != unverified.key_id.hex():
            raise _CliError("key-id-mismatch", f"--key-id {key_id} is not the key id "
                            f"{unverified.key_id.hex()} of manifest {args.manifest}",
                            code=_codes().USAGE_ERROR)
        m = load_manifest(args.manifest, keyring.get(unverified.key_id.hex()))
        table_id, key_id = m.table_id.hex(), m.key_id.hex()
        name = name or m.table_name
    if not (table_id and key_id and name):
        raise _CliError("missing-argument", "add-table needs --table-id, --key-id and --name, "
                        "or --manifest", code=_codes().USAGE_ERROR)
    try:
        key_id = check_key_id(key_id.lower(), where="--key-id")
        tid = bytes.fromhex(table_id)
        if len(tid) != 16:
            raise ValueError
    except ValueError:
        raise _CliError("bad-argument", "--table-id and --key-id must be 32 hex digits",
                        code=_codes().USAGE_ERROR) from None
    data_key = keyring.get(key_id)
    measurements: Optional[list[bytes]] = None
    if args.measurement:
        measurements = _parse_measurements(args.measurement)
    elif args.local_ta:
        from teespark.attest.measurement import default_ta_image, measure_ta_image
        measurements = [measure_ta_image(default_ta_image())]
    store = _open_store(args)
    t = add_table(store, owner=args.owner, name=name, table_id=tid, key_id=key_id,
                  data_key=data_key, measurements=measurements,
                  recipients=args.recipient or None)
    del data_key
    print(f"table '{t.owner}/{t.name}' (id {t.table_id.hex()}, key {t.key_id.hex()}) loaded "
          f"into {store.dir}")
    if measurements is None and not store.policy.owners[t.owner].measurements:
        print("note: no TA measurement is allowed for this table yet; add --measurement or "
              "--local-ta, or set the owner's measurements", file=sys.stderr)
    return 0


def _cmd_add_recipient(args: argparse.Namespace) -> int:
    from teespark.kbs.admin import add_recipient
    r = add_recipient(_open_store(args), owner=args.owner, recipient_id=args.id,
                      public_key=args.public_key, name=args.name)
    print(f"recipient {r.recipient_id.hex()} allowed for owner {args.owner!r}")
    return 0


def _cmd_trust_device(args: argparse.Namespace) -> int:
    from teespark.attest.evidence import DeviceKey
    from teespark.kbs.admin import trust_device_key
    if args.local_ta:
        from teespark.tee.teespark_ta import TeesparkTA
        with TeesparkTA() as ta:
            e, n = ta.get_device_pubkey()
        key = DeviceKey.coerce((e, n))
    elif args.file:
        key = DeviceKey.coerce(json.loads(Path(args.file).read_text()))
    elif args.e and args.n:
        key = DeviceKey(int(args.e, 16), int(args.n, 16))
    else:
        raise _CliError("missing-argument", "trust-device needs --local-ta, --file or --e/--n",
                        code=_codes().USAGE_ERROR)
    k = trust_device_key(_open_store(args), owner=args.owner, key=key)
    print(f"owner {args.owner!r} trusts device key {k.fingerprint}")
    return 0


def _cmd_set_policy(args: argparse.Namespace) -> int:
    from teespark.kbs.admin import set_policy
    pol = set_policy(_open_store(args), Path(args.file).read_text())
    print(f"policy installed: {len(pol.owners)} owner(s), {len(pol.tables())} table(s)")
    return 0


def _cmd_show(args: argparse.Namespace) -> int:
    store = _open_store(args)
    doc = store.policy.to_json()
    doc["loaded_key_ids"] = sorted(k.hex() for k in store.data_key_ids())
    doc["kbs_public_key"] = store.public_key.hex()
    print(json.dumps(doc, indent=2, sort_keys=True))
    return 0


def _cmd_audit(args: argparse.Namespace) -> int:
    from teespark.kbs.audit import AuditLog
    for e in AuditLog(Path(args.dir) / "audit.log").entries()[-args.tail:]:
        print(json.dumps(e, sort_keys=True))
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="teespark kbs",
                                description="The key broker service that table owners run.")
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def common(sp: argparse.ArgumentParser, profile: bool = True) -> None:
        sp.add_argument("--dir", type=Path, default=_default_dir(),
                        help=f"KBS directory (default ${ENV_KBS_DIR} or "
                             "~/.config/teespark/kbs)")
        sp.add_argument("--storage-key-file", default=None,
                        help="file holding the storage key (64 hex digits, mode 0600); "
                             "default $TEESPARK_KBS_STORAGE_KEY, else DIR/storage.key (dev)")
        if profile:
            sp.add_argument("--profile", choices=("dev", "prod"), default="dev",
                            help="dev accepts simulated evidence; prod never does and "
                                 "needs the storage key outside DIR")

    s = sub.add_parser("serve", help="run the KBS (HTTP, loopback by default)")
    common(s)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0, help="0 = an ephemeral port")
    s.add_argument("--nonce-ttl", type=float, default=120.0, help="seconds a nonce lives")
    s.add_argument("--port-file", default=None, help="write the bound port here")
    s.set_defaults(func=_cmd_serve)

    s = sub.add_parser("init", help="create a KBS directory and its signing key")
    common(s)
    s.set_defaults(func=_cmd_init)

    s = sub.add_parser("public-key", help="print the KBS's Ed25519 public key (hex)")
    common(s)
    s.set_defaults(func=_cmd_public_key)

    s = sub.add_parser("add-table",
                       help="load a table's data key from the owner's keyring into the KBS")
    common(s)
    s.add_argument("--owner", default="default", help="owner section of the policy")
    s.add_argument("--name", help="table name")
    s.add_argument("--table-id", help="table id, 32 hex digits (from the manifest)")
    s.add_argument("--key-id", help="data key id in the keyring, 32 hex digits")
    s.add_argument("--manifest", help="read table id, key id and name from this manifest")
    s.add_argument("--keyring", help="the owner's keyring (default $TEESPARK_KEYRING or "
                                     "~/.config/teespark/keyring.json)")
    s.add_argument("--master-key", help="master key file (default $TEESPARK_MASTER_KEY or "
                                        "~/.config/teespark/master.key)")
    s.add_argument("--measurement", action="append", default=[],
                   help="allowed TA measurement: 64 hex digits or a TA image to measure "
                        "(repeatable)")
    s.add_argument("--local-ta", action="store_true",
                   help="allow the measurement of this installation's TA build")
    s.add_argument("--recipient", action="append", default=[],
                   help="allowed result recipient id or name (repeatable; default: all "
                        "of the owner's)")
    s.set_defaults(func=_cmd_add_table)

    s = sub.add_parser("add-recipient", help="allow a result recipient (X25519 key)")
    common(s)
    s.add_argument("--owner", default="default")
    s.add_argument("--id", required=True, help="recipient id, 32 hex digits")
    s.add_argument("--public-key", required=True, help="X25519 public key, 64 hex digits")
    s.add_argument("--name", default=None)
    s.set_defaults(func=_cmd_add_recipient)

    s = sub.add_parser("trust-device", help="trust a device attestation key")
    common(s)
    s.add_argument("--owner", default="default")
    s.add_argument("--local-ta", action="store_true",
                   help="read the key from this machine's TEE (GET_DEVICE_PUBKEY)")
    s.add_argument("--file", help='JSON file {"e": hex, "n": hex}')
    s.add_argument("--e", help="public exponent (hex)")
    s.add_argument("--n", help="modulus (hex)")
    s.set_defaults(func=_cmd_trust_device)

    s = sub.add_parser("set-policy", help="validate and install a policy JSON file")
    common(s)
    s.add_argument("file")
    s.set_defaults(func=_cmd_set_policy)

    s = sub.add_parser("show", help="print the policy and loaded key ids (never keys)")
    common(s)
    s.set_defaults(func=_cmd_show)

    s = sub.add_parser("audit", help="print the last audit log entries")
    common(s, profile=False)
    s.add_argument("--tail", type=int, default=50)
    s.set_defaults(func=_cmd_audit)
    return p


def _render(reference: str, message: str, hint: str = "") -> None:
    print(f"error: {reference}", file=sys.stderr)
    print(f"  {message}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``teespark kbs ...``; returns the exit code (teespark._exit_codes)."""
    from teespark.errors import (
        KbsPolicyError,
        KbsStorageError,
        KeyringError,
        ManifestAuthenticationError,
        MasterKeyError,
        TableFormatError,
        TeesparkError,
    )
    codes = _codes()
    parser = _parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO if args.command == "serve" else logging.WARNING,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except _CliError as e:
        _render(e.reference, e.message, e.hint or "Try 'teespark kbs --help' for help.")
        return e.code
    except (KbsStorageError, MasterKeyError, KeyringError) as e:
        if args.debug:
            raise
        _render("kbs-key-error", str(e))
        return codes.KEY_ERROR
    except KbsPolicyError as e:
        if args.debug:
            raise
        _render("kbs-policy-error", str(e))
        return codes.INPUT_ERROR
    except ManifestAuthenticationError as e:
        if args.debug:
            raise
        _render("manifest-authentication-failed", str(e),
                "the manifest was edited, or the keyring's key is not this table's")
        return codes.INTEGRITY_ERROR
    except TableFormatError as e:
        if args.debug:
            raise
        _render("table-format-error", str(e))
        return codes.INPUT_ERROR
    except (TeesparkError, ValueError, OSError) as e:
        if args.debug:
            raise
        _render("kbs-error", str(e))
        return codes.ERROR
    except KeyboardInterrupt:
        return codes.INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
