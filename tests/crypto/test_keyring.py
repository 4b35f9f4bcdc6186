"""Master key and keyring: formats against an independent reference, misuse, rotation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import multiprocessing
import os
import pickle
import stat
import struct

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teespark.crypto.keyring import Keyring, read_keyring_info, rotate_master
from teespark.crypto.master_key import MasterKey, default_keyring_path, default_master_key_path
from teespark.errors import (DataKeyNotFoundError, DataKeyUnwrapError, KeyringExistsError,
                             KeyringFormatError, KeyringNotFoundError, MasterKeyExistsError,
                             MasterKeyFormatError, MasterKeyNotFoundError,
                             MasterKeyPermissionError, WrongMasterKeyError)

KNOWN = bytes(range(32))
OTHER = bytes(range(100, 132))


# --- an independent HKDF (RFC 5869) and keyring unwrap, written from docs/KEYS.md ---

def rfc5869_hkdf(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    prk = hmac.new(salt or bytes(32), ikm, hashlib.sha256).digest()
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
        out += block
        i += 1
    return out[:length]


def reference_unwrap(doc: dict, entry: dict, master: bytes) -> bytes:
    kek = rfc5869_hkdf(master, bytes.fromhex(doc["kdf"]["salt"]),
                       b"teespark/v1/keyring/wrap-data-key", 32)
    name = entry["table_name"].encode()
    aad = (b"teespark-keyring\x00" + struct.pack("<H", doc["version"])
           + bytes.fromhex(entry["key_id"]) + struct.pack("<I", len(name)) + name)
    return AESGCM(kek).decrypt(bytes.fromhex(entry["wrap"]["nonce"]),
                               bytes.fromhex(entry["wrap"]["ciphertext"]), aad)


# --- master key ---------------------------------------------------------------------

def test_master_key_id_is_hkdf_check_value():
    expected = rfc5869_hkdf(KNOWN, b"", b"teespark/v1/master-key-id", 8).hex()
    assert MasterKey(KNOWN).key_id == expected
    assert MasterKey(OTHER).key_id != expected


def test_master_key_repr_and_str_hide_the_key():
    mk = MasterKey(KNOWN)
    for text in (repr(mk), str(mk), f"{mk}", repr([mk])):
        assert KNOWN.hex() not in text and base64.b64encode(KNOWN).decode() not in text
        assert mk.key_id in text


def test_master_key_refuses_pickling():
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(MasterKey(KNOWN))


def test_master_key_file_round_trip_mode_0600(tmp_path):
    path = MasterKey(KNOWN).write(tmp_path / "sub" / "master.key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.read_text() == KNOWN.hex() + "\n"
    assert MasterKey.from_file(path) == MasterKey(KNOWN)


def test_master_key_write_refuses_overwrite(tmp_path):
    path = MasterKey(KNOWN).write(tmp_path / "master.key")
    with pytest.raises(MasterKeyExistsError, match="already exists"):
        MasterKey(OTHER).write(path)
    assert MasterKey.from_file(path) == MasterKey(KNOWN)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_master_key_file_readable_by_others_is_refused(tmp_path, mode):
    path = MasterKey(KNOWN).write(tmp_path / "master.key")
    os.chmod(path, mode)
    with pytest.raises(MasterKeyPermissionError, match=f"mode {mode:04o}.*0600"):
        MasterKey.from_file(path)


def test_master_key_file_0400_is_accepted(tmp_path):  # negative control
    path = MasterKey(KNOWN).write(tmp_path / "master.key")
    os.chmod(path, 0o400)
    assert MasterKey.from_file(path) == MasterKey(KNOWN)


@pytest.mark.parametrize("text", [
    KNOWN.hex(), KNOWN.hex().upper(), "  " + KNOWN.hex() + "\n",
    base64.b64encode(KNOWN).decode(), base64.urlsafe_b64encode(KNOWN).decode().rstrip("=")])
def test_master_key_from_text_hex_or_base64(text):
    assert MasterKey.from_text(text) == MasterKey(KNOWN)


@pytest.mark.parametrize("text", ["", "00", KNOWN.hex()[:-2], KNOWN.hex() + "00",
                                  "zz" * 32, base64.b64encode(KNOWN[:31]).decode()])
def test_master_key_from_bad_text_does_not_echo_it(text):
    with pytest.raises(MasterKeyFormatError) as info:
        MasterKey.from_text(text, source="TEESPARK_MASTER_KEY")
    if text:
        assert text not in str(info.value)
    assert "TEESPARK_MASTER_KEY" in str(info.value)


def test_master_key_file_with_raw_bytes(tmp_path):
    path = tmp_path / "raw.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, OTHER)
    os.close(fd)
    assert MasterKey.from_file(path) == MasterKey(OTHER)


def test_master_key_resolve_order(tmp_path):
    env = {"HOME": str(tmp_path)}
    with pytest.raises(MasterKeyNotFoundError, match="TEESPARK_MASTER_KEY is not set"):
        MasterKey.resolve(environ=env)
    MasterKey(KNOWN).write(default_master_key_path(env))
    assert MasterKey.resolve(environ=env) == MasterKey(KNOWN)
    env["TEESPARK_MASTER_KEY"] = OTHER.hex()
    assert MasterKey.resolve(environ=env) == MasterKey(OTHER)       # env beats default
    explicit = MasterKey(bytes(32)).write(tmp_path / "explicit.key")
    assert MasterKey.resolve(explicit, environ=env) == MasterKey(bytes(32))  # path beats env
    assert default_master_key_path(env) == tmp_path / ".config" / "teespark" / "master.key"
    assert default_keyring_path({"XDG_CONFIG_HOME": "/x"}).as_posix() == \
        "/x/teespark/keyring.json"
    assert default_keyring_path({"TEESPARK_KEYRING": "/y/k.json"}).as_posix() == "/y/k.json"


# --- keyring -----------------------------------------------------------------------

@pytest.fixture
def ring(tmp_path):
    return Keyring.create(tmp_path / "keyring.json", MasterKey(KNOWN))


def test_keyring_round_trip_and_file_format(ring):
    kid1, key1 = ring.create_data_key("loans")
    kid2, key2 = ring.create_data_key("cards ü")
    assert len(key1) == 32 and key1 != key2 and len(kid1) == 32 and kid1 != kid2
    assert ring.get(kid1) == key1 and ring.get(kid2) == key2
    assert stat.S_IMODE(ring.path.stat().st_mode) == 0o600
    doc = json.loads(ring.path.read_text())
    assert doc["format"] == "teespark-keyring" and doc["version"] == 1
    assert doc["master_key_id"] == MasterKey(KNOWN).key_id
    by_id = {e["key_id"]: e for e in doc["keys"]}
    # the documented format unwraps with an independent implementation
    assert reference_unwrap(doc, by_id[kid1], KNOWN) == key1
    assert reference_unwrap(doc, by_id[kid2], KNOWN) == key2
    assert [e.table_name for e in ring.entries()] == ["loans", "cards ü"]
    raw = ring.path.read_bytes()
    for key in (key1, key2, KNOWN):
        assert key not in raw and key.hex().encode() not in raw
        assert base64.b64encode(key) not in raw
    assert not [p for p in ring.path.parent.iterdir() if p.name.endswith(".tmp")]


def test_keyring_create_refuses_overwrite(ring):
    ring.create_data_key("t")
    before = ring.path.read_bytes()
    with pytest.raises(KeyringExistsError, match="already exists"):
        Keyring.create(ring.path, MasterKey(OTHER))
    assert ring.path.read_bytes() == before


def test_keyring_wrong_master_key_is_refused_without_key_material(ring):
    ring.create_data_key("loans")
    with pytest.raises(WrongMasterKeyError) as info:
        Keyring.open(ring.path, MasterKey(OTHER))
    message = str(info.value)
    assert str(ring.path) in message
    assert MasterKey(OTHER).key_id in message and MasterKey(KNOWN).key_id in message
    assert KNOWN.hex() not in message and OTHER.hex() not in message


def test_keyring_missing_and_unknown_key(tmp_path, ring):
    with pytest.raises(KeyringNotFoundError, match="does not exist"):
        Keyring.open(tmp_path / "nope.json", MasterKey(KNOWN))
    with pytest.raises(DataKeyNotFoundError, match="no data key with id 0{32}"):
        ring.get("0" * 32)
    with pytest.raises(ValueError, match="32 lower-case hex"):
        ring.get("xyz")


def _mutate(path, fn):
    doc = json.loads(path.read_text())
    fn(doc)
    path.write_text(json.dumps(doc))


@pytest.mark.parametrize("tamper", [
    "rename_table", "swap_wraps", "flip_ciphertext", "flip_nonce", "change_salt",
    "change_key_id"])
def test_keyring_tampered_entry_fails_authentication(ring, tamper):
    kid1, _ = ring.create_data_key("loans")
    kid2, _ = ring.create_data_key("cards")

    def apply(doc):
        e1, e2 = doc["keys"]
        if tamper == "rename_table":
            e1["table_name"] = "cards"
        elif tamper == "swap_wraps":
            e1["wrap"], e2["wrap"] = e2["wrap"], e1["wrap"]
        elif tamper == "flip_ciphertext":
            ct = bytearray.fromhex(e1["wrap"]["ciphertext"])
            ct[5] ^= 1
            e1["wrap"]["ciphertext"] = ct.hex()
        elif tamper == "flip_nonce":
            n = bytearray.fromhex(e1["wrap"]["nonce"])
            n[0] ^= 0x80
            e1["wrap"]["nonce"] = n.hex()
        elif tamper == "change_salt":
            s = bytearray.fromhex(doc["kdf"]["salt"])
            s[-1] ^= 1
            doc["kdf"]["salt"] = s.hex()
        elif tamper == "change_key_id":
            e1["key_id"] = "f" * 32

    _mutate(ring.path, apply)
    target = "f" * 32 if tamper == "change_key_id" else kid1
    with pytest.raises(DataKeyUnwrapError, match="failed AES-GCM authentication"):
        ring.get(target)


def test_keyring_forged_master_key_id_still_fails(ring):
    """Editing master_key_id to match another key gets past the id check, not GCM."""
    kid, _ = ring.create_data_key("loans")
    _mutate(ring.path, lambda d: d.update(master_key_id=MasterKey(OTHER).key_id))
    with pytest.raises(DataKeyUnwrapError):
        Keyring.open(ring.path, MasterKey(OTHER)).get(kid)


@pytest.mark.parametrize("content, match", [
    ("{", "not valid JSON"), ("[]", "not a teespark keyring"),
    ('{"format": "teespark-keyring", "version": 2}', "version 2"),
    ('{"format": "teespark-keyring", "version": 1}', "malformed")])
def test_keyring_bad_files(tmp_path, content, match):
    path = tmp_path / "k.json"
    path.write_text(content)
    with pytest.raises(KeyringFormatError, match=match):
        Keyring.open(path, MasterKey(KNOWN))


def test_rotate_master_rewraps_and_locks_out_old_key(ring):
    keys = dict(ring.create_data_key(f"t{i}") for i in range(3))
    old_salt = json.loads(ring.path.read_text())["kdf"]["salt"]
    assert rotate_master(ring.path, MasterKey(KNOWN), MasterKey(OTHER)) == 3
    with pytest.raises(WrongMasterKeyError):
        Keyring.open(ring.path, MasterKey(KNOWN))
    new = Keyring.open(ring.path, MasterKey(OTHER))
    assert {kid: new.get(kid) for kid in keys} == keys
    doc = json.loads(ring.path.read_text())
    assert doc["kdf"]["salt"] != old_salt
    for e in doc["keys"]:  # independent check under the new key
        assert reference_unwrap(doc, e, OTHER) == keys[e["key_id"]]
        with pytest.raises(InvalidTag):
            reference_unwrap(doc, e, KNOWN)
    assert read_keyring_info(ring.path).master_key_id == MasterKey(OTHER).key_id


def test_rotate_master_with_wrong_old_key_writes_nothing(ring):
    ring.create_data_key("t")
    before = ring.path.read_bytes()
    with pytest.raises(WrongMasterKeyError):
        rotate_master(ring.path, MasterKey(OTHER), MasterKey(bytes(32)))
    assert ring.path.read_bytes() == before


def test_rotate_master_with_a_tampered_entry_writes_nothing(ring):
    ring.create_data_key("a")
    ring.create_data_key("b")
    _mutate(ring.path, lambda d: d["keys"][1].update(table_name="z"))
    before = ring.path.read_bytes()
    with pytest.raises(DataKeyUnwrapError):
        ring.rotate_master(MasterKey(OTHER))
    assert ring.path.read_bytes() == before


def test_remove(ring):
    kid, _ = ring.create_data_key("a")
    kid2, key2 = ring.create_data_key("b")
    ring.remove(kid)
    with pytest.raises(DataKeyNotFoundError):
        ring.get(kid)
    assert ring.get(kid2) == key2


def _create_many(path: str, n: int, queue) -> None:
    ring = Keyring.open(path, MasterKey(KNOWN))
    queue.put([ring.create_data_key(f"p{os.getpid()}") for _ in range(n)])


def test_concurrent_writers_lose_no_key(ring):
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_create_many, args=(str(ring.path), 5, queue))
             for _ in range(3)]
    for p in procs:
        p.start()
    made = dict(kv for _ in procs for kv in queue.get(timeout=60))
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(made) == 15
    assert {kid: ring.get(kid) for kid in made} == made


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=40))
def test_any_table_name_round_trips(ring, name):
    kid, key = ring.create_data_key(name)
    assert ring.get(kid) == key and ring.entry(kid).table_name == name
