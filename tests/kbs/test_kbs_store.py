"""The KBS directory: keys at rest, restarts, storage key handling, sealed policy."""

from __future__ import annotations

import base64
import json
import os

import pytest
from conftest import MEASUREMENT, get_nonce, post_keys
from secrets_scan import SecretScanner
from teespark.errors import KbsPolicyError, KbsStorageError
from teespark.kbs import start_embedded_kbs
from teespark.kbs.policy import Policy
from teespark.kbs.reply import unwrap_keys
from teespark.kbs.store import STORAGE_KEY_ENV, KbsStore

SKEY = bytes(range(32))


def _load(k, device, owner):
    k.trust_device_key((device.e, device.n), owner="bank")
    k.add_recipient(owner.recipient_id, owner.recipient_pub, owner="bank", name="risk-team")
    k.add_table("loans", owner="bank", table_id=owner.table_id, key_id=owner.key_id,
                data_key=owner.data_key, measurements=[MEASUREMENT])


def _release(k, ta, tables=("loans",), recipients=("risk-team",)):
    ta.pin_kbs_key(k.public_key)
    status, doc = post_keys(k, ta.get_evidence(get_nonce(k)), list(tables), list(recipients))
    assert status == 200, doc
    return base64.b64decode(doc["reply"])


def test_restart_keeps_keys_policy_and_signing_key(tmp_path, device, owner, fake_ta):
    with start_embedded_kbs(tmp_path, storage_key=SKEY) as k1:
        _load(k1, device, owner)
        pub1 = k1.public_key
    # A new process would do exactly this: open the same directory.
    with start_embedded_kbs(tmp_path, storage_key=SKEY) as k2:
        assert k2.public_key == pub1
        ta = fake_ta()
        assert unwrap_keys(_release(k2, ta), ta.x25519) == {0: owner.data_key}
        pol = k2.store.policy
        assert pol.find_table("loans").table_id == owner.table_id
        assert pol.owners["bank"].resolve_recipient("risk-team").public_key == owner.recipient_pub


def test_restart_voids_outstanding_nonces(tmp_path, device, owner, fake_ta):
    with start_embedded_kbs(tmp_path, storage_key=SKEY) as k1:
        _load(k1, device, owner)
        nonce = get_nonce(k1)
    with start_embedded_kbs(tmp_path, storage_key=SKEY) as k2:
        ta = fake_ta()
        ta.pin_kbs_key(k2.public_key)
        status, doc = post_keys(k2, ta.get_evidence(nonce), ["loans"])
        assert (status, doc["error"]) == (403, "nonce-unknown")


def test_keys_at_rest_are_encrypted(tmp_path, device, owner, fake_ta):
    with start_embedded_kbs(tmp_path, storage_key=SKEY) as k:
        _load(k, device, owner)
        signing = k.store.signing_key().private_bytes_raw()
        _release(k, fake_ta())
    scanner = SecretScanner({"data key": owner.data_key, "kbs signing key": signing,
                             "storage key": SKEY})
    scanner.assert_tree_clean(tmp_path)
    # Negative control: the scanner does find a planted key in this tree.
    (tmp_path / "planted").write_text(owner.data_key.hex())
    assert scanner.find_in_tree(tmp_path)


def test_wrong_storage_key_is_refused(tmp_path, device, owner):
    with start_embedded_kbs(tmp_path, storage_key=SKEY) as k:
        _load(k, device, owner)
    with pytest.raises(KbsStorageError, match="does not open with this storage key"):
        KbsStore(tmp_path, storage_key=bytes(32))


def test_tampered_key_entry_is_refused(tmp_path, device, owner):
    with start_embedded_kbs(tmp_path, storage_key=SKEY) as k:
        _load(k, device, owner)
    doc = json.loads((tmp_path / "keys.json").read_text())
    entries = doc["data_keys"]
    # Move the sealed key under another key id: the AAD names the id.
    entries["00" * 16] = entries.pop(owner.key_id.hex())
    (tmp_path / "keys.json").write_text(json.dumps(doc))
    store = KbsStore(tmp_path, storage_key=SKEY)
    with pytest.raises(KbsStorageError, match="does not open"):
        store.get_data_key(bytes(16))


def test_dev_creates_storage_key_file_0600(tmp_path):
    store = KbsStore(tmp_path / "kbs")
    path = tmp_path / "kbs" / "storage.key"
    assert path.stat().st_mode & 0o777 == 0o600
    pub = store.public_key
    assert KbsStore(tmp_path / "kbs").public_key == pub  # reopened with the same file


def test_exposed_storage_key_file_is_refused(tmp_path):
    KbsStore(tmp_path)
    os.chmod(tmp_path / "storage.key", 0o644)
    with pytest.raises(KbsStorageError, match="chmod 600"):
        KbsStore(tmp_path)


def test_storage_key_from_env(tmp_path, monkeypatch):
    monkeypatch.setenv(STORAGE_KEY_ENV, SKEY.hex())
    pub = KbsStore(tmp_path).public_key
    assert not (tmp_path / "storage.key").exists()
    monkeypatch.delenv(STORAGE_KEY_ENV)
    assert KbsStore(tmp_path, storage_key=SKEY).public_key == pub
    monkeypatch.setenv(STORAGE_KEY_ENV, "zz")
    with pytest.raises(KbsStorageError, match="64 hex digits"):
        KbsStore(tmp_path)


def test_prod_refuses_storage_key_beside_the_store(tmp_path):
    with pytest.raises(KbsStorageError, match="prod profile"):
        KbsStore(tmp_path / "kbs", profile="prod")
    keyfile = tmp_path / "elsewhere.key"
    keyfile.write_text(SKEY.hex())
    keyfile.chmod(0o600)
    KbsStore(tmp_path / "kbs", profile="prod", storage_key_file=keyfile)
    assert not (tmp_path / "kbs" / "storage.key").exists()


def test_policy_edited_outside_kbs_is_refused(tmp_path, device, owner, fake_ta):
    with start_embedded_kbs(tmp_path, storage_key=SKEY) as k:
        _load(k, device, owner)
    doc = json.loads((tmp_path / "policy.json").read_text())
    doc["owners"]["bank"]["tables"]["loans"]["measurements"].append("ab" * 32)
    (tmp_path / "policy.json").write_text(json.dumps(doc))
    store = KbsStore(tmp_path, storage_key=SKEY)  # opens, so set-policy can repair it
    with pytest.raises(KbsPolicyError, match="changed outside 'teespark kbs'"):
        _ = store.policy
    with pytest.raises(KbsPolicyError, match="changed outside"):
        start_embedded_kbs(tmp_path, storage_key=SKEY)  # a KBS does not start with it


def test_running_kbs_sees_admin_edits_from_another_process(tmp_path, device, owner, fake_ta):
    with start_embedded_kbs(tmp_path, storage_key=SKEY) as k:
        _load(k, device, owner)
        other = KbsStore(tmp_path, storage_key=SKEY)  # e.g. the admin CLI
        from teespark.kbs.admin import add_table
        add_table(other, owner="bank", name="cards", table_id=bytes(range(16)),
                  key_id=bytes(range(16)), data_key=bytes(range(32)),
                  measurements=[MEASUREMENT])
        ta = fake_ta()
        assert unwrap_keys(_release(k, ta, ("cards",), ()), ta.x25519) == {0: bytes(range(32))}


@pytest.mark.parametrize("doc, match", [
    ({"version": 2, "owners": {}}, "version"),
    ({"version": 1, "owners": {"b": {"tables": {"t": {"table_id": "00", "key_id": "00" * 16}}}}},
     "table_id must be 16 bytes"),
    ({"version": 1, "owners": {"b": {"bogus": 1}}}, "unknown field"),
    ({"version": 1, "owners": {"b": {"accept_simulated": "yes"}}}, "accept_simulated"),
    ({"version": 1, "owners": {"b": {"device_keys": [{"e": "3", "n": "ff"}]}}}, "2048"),
    ({"version": 1, "owners": {"b": {"tables": {"t": {"table_id": "00" * 16,
                                                      "key_id": "00" * 16,
                                                      "recipients": ["ghost"]}}}}},
     "not one of owner"),
    ({"version": 1, "owners": {
        "a": {"tables": {"t": {"table_id": "00" * 16, "key_id": "00" * 16}}},
        "b": {"tables": {"u": {"table_id": "00" * 16, "key_id": "11" * 16}}}}},
     "also used"),
])
def test_policy_validation_names_the_field(doc, match):
    with pytest.raises(KbsPolicyError, match=match):
        Policy.from_json(doc)


def test_policy_json_roundtrip(tmp_path, device, owner):
    with start_embedded_kbs(tmp_path, storage_key=SKEY) as k:
        _load(k, device, owner)
        pol = k.store.policy
    again = Policy.loads(pol.dumps())
    assert again.to_json() == pol.to_json()
    assert again.owners["bank"].device_keys[0].n == device.n


def test_running_kbs_refuses_releases_after_a_hand_edit(tmp_path, device, owner, fake_ta):
    """A policy edited under a running KBS is not used: 500, then recovery via set-policy."""
    from teespark.kbs.admin import set_policy
    with start_embedded_kbs(tmp_path, storage_key=SKEY) as k:
        _load(k, device, owner)
        text = (tmp_path / "policy.json").read_text()
        (tmp_path / "policy.json").write_text(text.replace('"loans"', '"loans2"'))
        ta = fake_ta()
        ta.pin_kbs_key(k.public_key)
        status, doc = post_keys(k, ta.get_evidence(get_nonce(k)), ["loans"])
        assert (status, doc["error"]) == (500, "kbs-misconfigured")
        assert "operator" in doc["message"]
        # the owner repairs it with set-policy (from another process)
        set_policy(KbsStore(tmp_path, storage_key=SKEY), text)
        ta2 = fake_ta()
        assert unwrap_keys(_release(k, ta2), ta2.x25519) == {0: owner.data_key}
