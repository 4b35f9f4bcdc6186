"""Attested key release with the real teespark TA in the simulator, end to end.

- an owner encrypts a table under a keyring data key, the KBS releases it to
  the TA, the TA registers, sorts and exports the table to a recipient the
  KBS named, and the recipient decrypts the result (checked against pandas);
- a recording host keeps every byte it relayed and still cannot recover the
  data key;
- the TA refuses forged, replayed and cross-session replies and a tampered
  recipient list, and seals results only to recipients from signed replies;
- 8 concurrent TA sessions each get their own keys;
- nothing the KBS logged or stored contains key material.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import struct
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import teespark.attest.client as client_mod
from conftest import get_nonce, post_keys
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from secrets_scan import SecretScanner
from teespark.attest.client import release_keys
from teespark.attest.evidence import verify_evidence
from teespark.crypto.block_seal import open_block, split_blocks
from teespark.crypto.keyring import Keyring
from teespark.crypto.master_key import MasterKey
from teespark.errors import (
    DescriptorAuthenticationError,
    KbsKeyMismatchError,
    KbsReplySignatureError,
    KbsReplyStaleError,
    KeyReleaseRefusedError,
    KeySlotEmptyError,
    RecipientUnknownError,
)
from teespark.format.row_codec import decode_rows
from teespark.format.schema import Schema
from teespark.format.table_files import iter_sealed_blocks, write_table
from teespark.kbs import start_embedded_kbs
from teespark.kbs.reply import KeyGrant, RecipientEntry, build_reply, parse_reply
from teespark.tee.teespark_ta import SortKey, pack_export_request, pack_sort_request
from teespark.tee import constants as c

SCHEMA = Schema.from_spec("id:int64 not null, balance:int64 not null, name:string(12)")


def _raw(pub) -> bytes:
    return pub.public_bytes(Encoding.Raw, PublicFormat.Raw)


class Table:
    """An owner's encrypted table on disk, its keyring entry and plaintext."""

    def __init__(self, root: Path, ring: Keyring, name: str, n: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.df = pd.DataFrame({"id": np.arange(n, dtype=np.int64),
                                "balance": rng.integers(-1000, 1000, n).astype(np.int64),
                                "name": [f"c{i:05d}" for i in range(n)]})
        kid, self.key = ring.create_data_key(name)
        self.key_id = bytes.fromhex(kid)
        self.path = root / name
        self.manifest = write_table(self.df, self.path, data_key=self.key, key_id=self.key_id,
                                    table_name=name, schema=SCHEMA, rows_per_block=7)
        self.table_id = self.manifest.table_id
        self.blocks = b"".join(b for _i, b in iter_sealed_blocks(self.path))


@pytest.fixture
def owner_ring(tmp_path) -> Keyring:
    return Keyring.create(tmp_path / "owner" / "keyring.json", MasterKey.generate())


@pytest.fixture
def recipient():
    priv = X25519PrivateKey.generate()
    return os.urandom(16), priv


@pytest.fixture
def setup(tmp_path, real_ta, ta_measurement, owner_ring, recipient):
    """An embedded KBS trusting this machine's simulator device and TA build,
    with tables 'loans' and 'cards' and recipient 'analyst'."""
    probe = real_ta()
    device = probe.get_device_pubkey()
    tables = {name: Table(tmp_path, owner_ring, name, n, seed)
              for name, n, seed in (("loans", 30, 1), ("cards", 12, 2))}
    kbs = start_embedded_kbs(tmp_path / "kbs", storage_key=os.urandom(32))
    kbs.trust_device_key(device, owner="bank")
    rid, rpriv = recipient
    kbs.add_recipient(rid, _raw(rpriv.public_key()), owner="bank", name="analyst")
    for t in tables.values():
        kbs.add_table(t.path.name, owner="bank", table_id=t.table_id, key_id=t.key_id,
                      data_key=t.key, measurements=[ta_measurement])
    yield kbs, tables, device
    kbs.stop()


def open_envelope(env: bytes, recipient_priv: X25519PrivateKey) -> tuple[bytes, bytes]:
    """The recipient's side of ts_result_envelope, written from the header."""
    magic, version, size, rid, ta_eph, nonce, reserved, wrapped, tag = \
        struct.unpack("<IHH16s32s12sI32s16s", env)
    assert (magic, version, size, reserved) == (0x45525354, 1, 120, 0)
    shared = recipient_priv.exchange(X25519PublicKey.from_public_bytes(ta_eph))
    k = HKDF(algorithm=hashes.SHA256(), length=32, salt=bytes(32),
             info=b"teespark/result-wrap/v1" + ta_eph + _raw(recipient_priv.public_key())
             ).derive(shared)
    return rid, AESGCM(k).decrypt(nonce, wrapped + tag, env[:56])


def _sorted_export(ta, t: Table, slot: int, rid: bytes) -> tuple[bytes, bytes, bytes]:
    ta.register_table(t.manifest.descriptor_bytes(), slot)
    ta.new_query_key(7)
    off = {c.name: c.offset for c in SCHEMA.layout()}
    req = pack_sort_request(keys=[SortKey("int", off["balance"], 8, descending=True),
                                  SortKey("int", off["id"], 8)],
                            rows_per_block=5, in_key_slot=slot, out_key_slot=7,
                            out_table_id=os.urandom(16), out_table_version=1,
                            schema_hash=t.manifest.schema_hash)
    _desc, sorted_blocks, rows, _n = ta.sort_blocks(t.blocks, req)
    assert rows == len(t.df)
    return ta.export_result(sorted_blocks, pack_export_request(
        in_key_slot=7, rows_per_block=4, recipient_id=rid, out_table_id=os.urandom(16),
        out_table_version=1))


def test_end_to_end_release_sort_export_decrypt(setup, real_ta, recipient, ta_measurement):
    kbs, tables, _device = setup
    rid, rpriv = recipient
    ta = real_ta()
    rel = release_keys(ta, kbs.url, ["loans", "cards"], ["analyst"],
                       kbs_public_key=kbs.public_key.hex())
    assert rel.slots == {"loans": 0, "cards": 1}
    assert rel.slot_of(tables["cards"].table_id) == 1
    assert [(r.recipient_id, r.public_key) for r in rel.recipients] == \
        [(rid, _raw(rpriv.public_key()))]
    assert rel.measurement == ta_measurement

    env, desc, blocks = _sorted_export(ta, tables["loans"], rel.slot_of("loans"), rid)
    got_rid, result_key = open_envelope(env, rpriv)
    assert got_rid == rid and desc[88:104] == rid  # key_id of the output = recipient id
    rows = b"".join(open_block(result_key, b)[1] for b in split_blocks(blocks))
    got = decode_rows(rows, SCHEMA).to_pandas()
    want = tables["loans"].df.sort_values(["balance", "id"], ascending=[False, True])
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True),
                                  check_dtype=False)

    # The cards key opens cards only: a key released for one table is bound to it.
    with pytest.raises(DescriptorAuthenticationError):
        ta.register_table(tables["loans"].manifest.descriptor_bytes(), rel.slot_of("cards"))
    ta.register_table(tables["cards"].manifest.descriptor_bytes(), rel.slot_of("cards"))


def test_real_evidence_verifies(setup, real_ta, ta_measurement):
    kbs, _tables, device = setup
    ta = real_ta()
    ta.pin_kbs_key(kbs.public_key)
    nonce = os.urandom(32)
    ev = verify_evidence(ta.get_evidence(nonce), [device], nonce=nonce,
                         kbs_public_key=kbs.public_key, measurements=[ta_measurement],
                         ta_uuid="83c7c701-68cf-4ff1-9ff7-4ba80b8f66ec", accept_simulated=True)
    assert ev.simulated and ev.tee_kind_name == "simulator" and ev.abi_version == c.TA_TEESPARK_ABI_VERSION
    # Evidence from two sessions carries two different ephemeral keys.
    other = real_ta()
    other.pin_kbs_key(kbs.public_key)
    assert verify_evidence(other.get_evidence(nonce), [device],
                           accept_simulated=True).ta_public_key != ev.ta_public_key


def test_kbs_refuses_real_ta_with_other_measurement_or_in_prod(setup, real_ta, tmp_path):
    kbs, tables, device = setup
    kbs.add_table("other", owner="bank", table_id=os.urandom(16), key_id=os.urandom(16),
                  data_key=os.urandom(32), measurements=[bytes(32)])
    with pytest.raises(KeyReleaseRefusedError) as ei:
        release_keys(real_ta(), kbs, ["other"])
    assert (ei.value.status, ei.value.reference) == (403, "measurement-not-allowed")
    with start_embedded_kbs(profile="prod", storage_key=os.urandom(32)) as prod:
        prod.trust_device_key(device, owner="bank")
        t = tables["loans"]
        prod.add_table("loans", owner="bank", table_id=t.table_id, key_id=t.key_id,
                       data_key=t.key, measurements=[kbs.store.policy.find_table("loans")
                                                     .measurements[0]])
        with pytest.raises(KeyReleaseRefusedError) as ei:
            release_keys(real_ta(), prod, ["loans"])
        assert ei.value.reference == "simulated-evidence"


def test_client_refuses_a_kbs_presenting_another_key(setup, real_ta):
    kbs, _t, _d = setup
    with pytest.raises(KbsKeyMismatchError, match="not the configured KBS key"):
        release_keys(real_ta(), kbs.url, ["loans"], kbs_public_key=bytes(32))
    with pytest.raises(ValueError, match="kbs_public_key"):
        release_keys(real_ta(), kbs.url, ["loans"])


# --------------------------------------------------------------------------
# A recording host
# --------------------------------------------------------------------------

class RecordingTA:
    """Relays to the TA and keeps every byte that crossed the host."""

    def __init__(self, ta, transcript: list[bytes]) -> None:
        self.ta, self.t = ta, transcript

    def pin_kbs_key(self, pub: bytes) -> None:
        self.t.append(bytes(pub))
        self.ta.pin_kbs_key(pub)

    def get_evidence(self, nonce: bytes) -> bytes:
        ev = self.ta.get_evidence(nonce)
        self.t += [bytes(nonce), ev]
        return ev

    def import_keys(self, reply: bytes) -> tuple[int, int]:
        self.t.append(bytes(reply))
        return self.ta.import_keys(reply)


def _record_http(monkeypatch, transcript: list[bytes]) -> None:
    real = client_mod._http

    def recording(method, url, body, timeout):
        if body is not None:
            transcript.append(json.dumps(body).encode())
        answer = real(method, url, body, timeout)
        transcript.append(json.dumps(answer).encode())
        return answer

    monkeypatch.setattr(client_mod, "_http", recording)


def _public_values(transcript: list[bytes]) -> set[bytes]:
    """Every 32-byte window of every binary message the host saw (and of the
    base64 / hex values inside the JSON ones)."""
    blobs = []
    for b in transcript:
        try:
            doc = json.loads(b)
        except (ValueError, UnicodeDecodeError):
            blobs.append(b)
            continue
        stack = [doc]
        while stack:
            x = stack.pop()
            if isinstance(x, dict):
                stack += list(x.values())
            elif isinstance(x, list):
                stack += x
            elif isinstance(x, str):
                try:
                    blobs.append(bytes.fromhex(x))
                except ValueError:
                    try:
                        blobs.append(base64.b64decode(x, validate=True))
                    except ValueError:
                        pass
    return {b[i:i + 32] for b in blobs for i in range(len(b) - 31)}


def _wrap_kek(shared: bytes, ev_hash: bytes, eph: bytes, ta_pub: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ev_hash,
                info=b"teespark/kbs-wrap/v1" + eph + ta_pub).derive(shared)


def _try_unwrap(reply: bytes, ta_pub: bytes, candidates: set[bytes]) -> list[bytes]:
    """The obvious attacks on each wrapped key; returns every key recovered.

    Each candidate v is tried as the AES key itself, as the X25519 shared
    secret, and as an X25519 private key against the KBS's ephemeral key and
    against the TA's public key."""
    r = parse_reply(reply)
    eph = X25519PublicKey.from_public_bytes(r.kbs_ephemeral_key)
    ta = X25519PublicKey.from_public_bytes(ta_pub)
    found = []
    for v in candidates:
        keys = [v, _wrap_kek(v, r.evidence_hash, r.kbs_ephemeral_key, ta_pub)]
        priv = X25519PrivateKey.from_private_bytes(v)
        for peer in (eph, ta):
            try:
                keys.append(_wrap_kek(priv.exchange(peer), r.evidence_hash,
                                      r.kbs_ephemeral_key, ta_pub))
            except ValueError:
                pass
        for entry in r.keys:
            for k in keys:
                try:
                    found.append(AESGCM(k).decrypt(entry.nonce, entry.wrapped_key + entry.tag,
                                                   entry.aad))
                except InvalidTag:
                    pass
    return found


def test_recording_host_cannot_recover_data_keys(setup, real_ta, monkeypatch):
    kbs, tables, _device = setup
    transcript: list[bytes] = []
    _record_http(monkeypatch, transcript)
    ta = real_ta()
    rel = release_keys(RecordingTA(ta, transcript), kbs, ["loans", "cards"], ["analyst"])
    assert rel.slots == {"loans": 0, "cards": 1}
    evidence = next(b for b in transcript if len(b) == 680)
    reply = next(b for b in transcript if b[:4] == b"TSKR")
    ta_pub = evidence[64:96]

    keys = {"loans": tables["loans"].key, "cards": tables["cards"].key}
    SecretScanner(keys).assert_clean(b"".join(transcript), where="host transcript")
    candidates = _public_values(transcript)
    r = parse_reply(reply)
    for named in (ta_pub, evidence[32:64], evidence[96:128], r.kbs_ephemeral_key,
                  r.evidence_hash, evidence[128:160], kbs.public_key):
        assert named in candidates
    assert _try_unwrap(reply, ta_pub, candidates) == []
    # The TA did import them: the keys open their tables' descriptors.
    ta.register_table(tables["loans"].manifest.descriptor_bytes(), 0)


def test_recording_attack_negative_control(kbs, fake_ta, owner):
    """The same attack with the TA's private key among the candidates succeeds,
    so the attack code can find a key when one is recoverable."""
    transcript: list[bytes] = []
    ta = fake_ta()
    release_keys(RecordingTA(ta, transcript), kbs, ["loans"])
    reply = next(b for b in transcript if b[:4] == b"TSKR")
    evidence = next(b for b in transcript if len(b) == 680)
    candidates = _public_values(transcript)
    assert _try_unwrap(reply, evidence[64:96], candidates) == []
    secret = ta.x25519.private_bytes_raw()
    assert _try_unwrap(reply, evidence[64:96], candidates | {secret}) == [owner.data_key]


# --------------------------------------------------------------------------
# The TA refuses what a host could try
# --------------------------------------------------------------------------

def _fresh_reply(kbs, ta, tables=("loans",), recipients=("analyst",)) -> tuple[bytes, bytes]:
    ta.pin_kbs_key(kbs.public_key)
    ev = ta.get_evidence(get_nonce(kbs))
    status, doc = post_keys(kbs, ev, list(tables), list(recipients))
    assert status == 200, doc
    return ev, base64.b64decode(doc["reply"])


def test_ta_rejects_forged_reply(setup, real_ta):
    """A host running its own 'KBS' signs with a key the TA did not pin."""
    kbs, tables, _d = setup
    ta = real_ta()
    ev, _genuine = _fresh_reply(kbs, ta)
    forger = Ed25519PrivateKey.generate()
    host_key = os.urandom(32)
    t = tables["loans"]
    forged = build_reply(evidence_hash=hashlib.sha256(ev).digest(), ta_public_key=ev[64:96],
                         grants=[KeyGrant(0, t.key_id, t.table_id, host_key)],
                         recipients=[RecipientEntry(os.urandom(16), os.urandom(32))],
                         signing_key=forger)
    with pytest.raises(KbsReplySignatureError):
        ta.import_keys(forged)
    # nothing was imported: slot 0 is still empty
    with pytest.raises(KeySlotEmptyError):
        ta.register_table(t.manifest.descriptor_bytes(), 0)


def test_ta_rejects_replayed_reply(setup, real_ta):
    kbs, _tables, _d = setup
    ta = real_ta()
    _ev, reply = _fresh_reply(kbs, ta)
    assert ta.import_keys(reply) == (1, 1)
    with pytest.raises(KbsReplyStaleError):
        ta.import_keys(reply)
    # also after new evidence: the reply answers the old one
    ta.get_evidence(os.urandom(32))
    with pytest.raises(KbsReplyStaleError):
        ta.import_keys(reply)


def test_ta_rejects_reply_for_another_session(setup, real_ta):
    kbs, _tables, _d = setup
    a, b = real_ta(), real_ta()
    _ev_a, reply_a = _fresh_reply(kbs, a)
    _ev_b, _reply_b = _fresh_reply(kbs, b)
    with pytest.raises(KbsReplyStaleError):
        b.import_keys(reply_a)
    assert a.import_keys(reply_a) == (1, 1)  # control: its own session accepts it


def test_ta_rejects_swapped_recipient_key(setup, real_ta, recipient):
    kbs, _tables, _d = setup
    rid, _rpriv = recipient
    ta = real_ta()
    _ev, reply = _fresh_reply(kbs, ta)
    r = parse_reply(reply)
    host_priv = X25519PrivateKey.generate()
    off = len(reply) - 64 - 48  # the one recipient entry
    assert reply[off:off + 16] == rid
    swapped = reply[:off + 16] + _raw(host_priv.public_key()) + reply[off + 48:]
    with pytest.raises(KbsReplySignatureError):
        ta.import_keys(swapped)
    # a host-chosen recipient id as well
    swapped_id = reply[:off] + os.urandom(16) + reply[off + 16:]
    with pytest.raises(KbsReplySignatureError):
        ta.import_keys(swapped_id)
    assert ta.import_keys(reply) == (len(r.keys), 1)  # the genuine one still imports


def test_ta_exports_only_to_recipients_from_signed_replies(setup, real_ta, recipient):
    kbs, tables, _d = setup
    rid, rpriv = recipient
    ta = real_ta()
    rel = release_keys(ta, kbs, ["loans"], ["analyst"])
    t = tables["loans"]
    ta.register_table(t.manifest.descriptor_bytes(), rel.slot_of("loans"))
    req = {"in_key_slot": 0, "rows_per_block": 8, "out_table_id": os.urandom(16),
           "out_table_version": 1}
    with pytest.raises(RecipientUnknownError):
        ta.export_result(t.blocks, pack_export_request(recipient_id=os.urandom(16), **req))
    env, _desc, _blocks = ta.export_result(t.blocks, pack_export_request(recipient_id=rid,
                                                                         **req))
    assert open_envelope(env, rpriv)[0] == rid
    # A later reply without recipients replaces the list: nobody may receive results.
    release_keys(ta, kbs, ["loans"], [])
    ta.register_table(t.manifest.descriptor_bytes(), 0)
    with pytest.raises(RecipientUnknownError):
        ta.export_result(t.blocks, pack_export_request(recipient_id=rid, **req))


def test_session_cannot_repin_another_kbs(setup, real_ta):
    kbs, _t, _d = setup
    ta = real_ta()
    release_keys(ta, kbs, ["loans"])
    with start_embedded_kbs() as other, \
            pytest.raises(KbsKeyMismatchError, match="already pinned"):
        release_keys(ta, other, ["loans"])


# --------------------------------------------------------------------------
# Concurrency and secrets
# --------------------------------------------------------------------------

def test_eight_concurrent_sessions(setup, real_ta):
    kbs, tables, _d = setup
    loans, cards = tables["loans"], tables["cards"]
    sessions = [real_ta() for _ in range(8)]
    errors: list[Exception] = []
    results: dict[int, dict[str, int]] = {}

    def run(i: int) -> None:
        try:
            ta = sessions[i]
            # half the sessions put the tables in swapped slots
            slots = [2 + i % 3, 5] if i % 2 else [5, 2 + i % 3]
            rel = release_keys(ta, kbs, ["loans", "cards"], ["analyst"], slots=slots)
            ta.register_table(loans.manifest.descriptor_bytes(), rel.slot_of("loans"))
            ta.register_table(cards.manifest.descriptor_bytes(), rel.slot_of("cards"))
            with pytest.raises(DescriptorAuthenticationError):
                ta.register_table(loans.manifest.descriptor_bytes(), rel.slot_of("cards"))
            results[i] = rel.slots
        except Exception as exc:  # noqa: BLE001 (the main thread reports it)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(results) == 8
    for i, slots in results.items():
        want = [2 + i % 3, 5] if i % 2 else [5, 2 + i % 3]
        assert slots == {"loans": want[0], "cards": want[1]}
    releases = [e for e in kbs.service.audit.entries() if e["event"] == "release"]
    assert len(releases) == 8
    assert len({e["evidence_hash"] for e in releases}) == 8


def test_no_key_material_in_logs_audit_or_files(setup, real_ta, caplog, recipient):
    kbs, tables, _d = setup
    caplog.set_level(logging.DEBUG, logger="teespark")
    ta = real_ta()
    rel = release_keys(ta, kbs, ["loans", "cards"], ["analyst"])
    with pytest.raises(KeyReleaseRefusedError):
        release_keys(real_ta(), kbs, ["nope"])
    _sorted_export(ta, tables["loans"], rel.slot_of("loans"), recipient[0])
    secrets = {"loans key": tables["loans"].key, "cards key": tables["cards"].key,
               "kbs signing key": kbs.store.signing_key().private_bytes_raw()}
    scanner = SecretScanner(secrets)
    log_text = "\n".join(r.getMessage() for r in caplog.records)
    assert "released 2 key(s)" in log_text  # the log is not empty
    scanner.assert_clean(log_text, where="KBS log records")
    scanner.assert_clean(kbs.audit_path.read_bytes(), where="audit log")
    scanner.assert_tree_clean(kbs.dir)
    # negative control: the scanner sees a key written in base64
    assert scanner.find(base64.b64encode(b"x" + tables["loans"].key), where="control")


def test_embedded_kbs_defaults_to_this_ta_build(real_ta, ta_measurement):
    """add_table without measurements allows exactly this installation's TA image."""
    ta = real_ta()
    key = os.urandom(32)
    with start_embedded_kbs() as kbs:
        kbs.trust_device_key(ta.get_device_pubkey())
        t = kbs.add_table("t", table_id=os.urandom(16), key_id=os.urandom(16), data_key=key)
        assert t.measurements == [ta_measurement]
        assert release_keys(ta, kbs, ["t"]).slots == {"t": 0}


def test_cli_trust_device_from_local_ta(real_ta, tmp_path, capsys):
    from teespark.kbs.server import main
    e, n = real_ta().get_device_pubkey()
    assert main(["trust-device", "--dir", str(tmp_path), "--owner", "bank", "--local-ta"]) == 0
    assert "sha256:" in capsys.readouterr().out
    from teespark.kbs.store import KbsStore
    keys = KbsStore(tmp_path).policy.owners["bank"].device_keys
    assert [(k.e, k.n) for k in keys] == [(e, n)]
