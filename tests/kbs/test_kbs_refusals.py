"""Every refusal of POST /v1/keys, over real HTTP, with a clear status and reference.

Each test starts from a request the KBS accepts (the first test shows it
does) and changes one thing, so a refusal cannot come from another cause.
The audit log must record each refusal with its reference.
"""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
from conftest import MEASUREMENT, get_nonce, http_json, post_keys
from fake_ta import build_evidence
from teespark.kbs import start_embedded_kbs
from teespark.kbs.reply import parse_reply, unwrap_keys, verify_reply


def _evidence(kbs, ta, nonce=None):
    ta.pin_kbs_key(kbs.public_key)
    return ta.get_evidence(get_nonce(kbs) if nonce is None else nonce)


def _refused(kbs, status, reference, resp):
    got_status, doc = resp
    assert (got_status, doc.get("error")) == (status, reference), doc
    assert doc["message"]
    last = kbs.service.audit.entries()[-1]
    assert last["event"] == "refusal" and last["outcome"] == reference
    assert last["status"] == status
    return doc["message"]


def test_valid_request_is_released(kbs, fake_ta, owner):
    ta = fake_ta()
    status, doc = post_keys(kbs, _evidence(kbs, ta), ["loans"], ["risk-team"])
    assert status == 200, doc
    reply = verify_reply(base64.b64decode(doc["reply"]), kbs.public_key)
    assert unwrap_keys(reply, ta.x25519) == {0: owner.data_key}
    assert [(r.recipient_id, r.public_key) for r in reply.recipients] == \
        [(owner.recipient_id, owner.recipient_pub)]
    assert doc["slots"] == [{"slot": 0, "table": "bank/loans", "table_id": owner.table_id.hex(),
                             "key_id": owner.key_id.hex()}]
    last = kbs.service.audit.entries()[-1]
    assert last["event"] == "release" and last["outcome"] == "released"
    assert last["tables"] == [owner.table_id.hex()] and last["measurement"] == MEASUREMENT.hex()


def test_binary_reply_on_accept_octet_stream(kbs, fake_ta, owner):
    ta = fake_ta()
    ev = _evidence(kbs, ta)
    body = json.dumps({"evidence": base64.b64encode(ev).decode(), "tables": ["loans"]}).encode()
    status, raw = http_json(kbs.url, "POST", "/v1/keys", body,
                            {"Accept": "application/octet-stream"})
    assert status == 200 and isinstance(raw, bytes)
    assert unwrap_keys(verify_reply(raw, kbs.public_key), ta.x25519) == {0: owner.data_key}


def test_tables_by_id_and_requested_slots(kbs, fake_ta, owner):
    ta = fake_ta()
    status, doc = post_keys(kbs, _evidence(kbs, ta), [owner.table_id.hex()], slots=[5])
    assert status == 200, doc
    assert unwrap_keys(base64.b64decode(doc["reply"]), ta.x25519) == {5: owner.data_key}


# -- 400 / 411 / 413 / 415: malformed requests ---------------------------------

@pytest.mark.parametrize("body, why", [
    (b"{not json", "json-malformed"),
    (b"\xff\xfe", "json-malformed"),
    (b"[]", "request-malformed"),
    (b'{"tables": ["loans"]}', "request-malformed"),
    (b'{"evidence": "!!!", "tables": ["loans"]}', "request-malformed"),
    (b'{"evidence": "AAAA", "tables": []}', "request-malformed"),
    (b'{"evidence": "AAAA", "tables": ["loans"], "extra": 1}', "request-malformed"),
    (b'{"evidence": "AAAA", "tables": ["loans"]}', "evidence-malformed"),
])
def test_malformed_request_400(kbs, body, why):
    _refused(kbs, 400, why, http_json(kbs.url, "POST", "/v1/keys", body))


def test_evidence_with_bad_magic_400(kbs, fake_ta):
    ev = bytearray(_evidence(kbs, fake_ta()))
    ev[0] ^= 1
    msg = _refused(kbs, 400, "evidence-malformed", post_keys(kbs, bytes(ev), ["loans"]))
    assert "magic" in msg


def test_oversize_body_413(kbs):
    body = b'{"evidence": "' + b"A" * (64 * 1024) + b'", "tables": ["loans"]}'
    _refused(kbs, 413, "body-too-large", http_json(kbs.url, "POST", "/v1/keys", body))


def test_wrong_content_type_415(kbs):
    _refused(kbs, 415, "unsupported-media-type",
             http_json(kbs.url, "POST", "/v1/keys", b"x", {"Content-Type": "text/plain"}))


def test_unknown_path_and_method(kbs):
    assert http_json(kbs.url, "GET", "/v1/nope")[0] == 404
    assert http_json(kbs.url, "GET", "/v1/keys")[0] == 405
    assert http_json(kbs.url, "DELETE", "/v1/keys")[0] == 405


# -- nonces ---------------------------------------------------------------------

def test_unknown_nonce_403(kbs, fake_ta):
    ev = _evidence(kbs, fake_ta(), nonce=bytes(32))
    _refused(kbs, 403, "nonce-unknown", post_keys(kbs, ev, ["loans"]))


def test_reused_nonce_409(kbs, fake_ta):
    ta = fake_ta()
    ev = _evidence(kbs, ta)
    assert post_keys(kbs, ev, ["loans"])[0] == 200
    _refused(kbs, 409, "nonce-reused", post_keys(kbs, ev, ["loans"]))
    # the same nonce in fresh evidence is refused too
    ev2 = ta.get_evidence(ev[32:64])  # verifier_nonce is at body offset 32
    assert ev2 != ev and ev2[32:64] == ev[32:64]
    _refused(kbs, 409, "nonce-reused", post_keys(kbs, ev2, ["loans"]))


def test_expired_nonce_403(device, owner, fake_ta):
    with start_embedded_kbs(nonce_ttl=0.3) as k:
        k.trust_device_key((device.e, device.n), owner="bank")
        k.add_table("loans", owner="bank", table_id=owner.table_id, key_id=owner.key_id,
                    data_key=owner.data_key, measurements=[MEASUREMENT])
        ev = _evidence(k, fake_ta())
        time.sleep(0.5)
        _refused(k, 403, "nonce-expired", post_keys(k, ev, ["loans"]))


def test_failed_request_does_not_burn_nonce_unless_signed(kbs, fake_ta, other_device):
    """Evidence that fails the signature check does not consume the nonce."""
    from fake_ta import FakeTA
    nonce = get_nonce(kbs)
    forger = FakeTA(other_device, MEASUREMENT)
    forger.pin_kbs_key(kbs.public_key)
    _refused(kbs, 403, "signature-invalid", post_keys(kbs, forger.get_evidence(nonce), ["loans"]))
    ta = fake_ta()
    ta.pin_kbs_key(kbs.public_key)
    assert post_keys(kbs, ta.get_evidence(nonce), ["loans"])[0] == 200


# -- evidence checks ----------------------------------------------------------------

def test_untrusted_device_key_403(kbs, other_device):
    from fake_ta import FakeTA
    ta = FakeTA(other_device, MEASUREMENT)
    msg = _refused(kbs, 403, "signature-invalid",
                   post_keys(kbs, _evidence(kbs, ta), ["loans"]))
    assert "trusted device key" in msg


def test_tampered_evidence_body_403(kbs, fake_ta):
    ev = bytearray(_evidence(kbs, fake_ta()))
    ev[64] ^= 1  # first byte of ta_public_key (body offset 64)
    _refused(kbs, 403, "signature-invalid", post_keys(kbs, bytes(ev), ["loans"]))


def test_tampered_measurement_403(kbs, fake_ta):
    ev = bytearray(_evidence(kbs, fake_ta()))
    ev[128] ^= 1
    _refused(kbs, 403, "signature-invalid", post_keys(kbs, bytes(ev), ["loans"]))


def test_device_key_trusted_by_another_owner_only_403(kbs, other_device, fake_ta):
    """Owner 'bank' trusts ``device``; a table of 'bureau' trusts only another device."""
    from fake_ta import FakeTA
    kbs.trust_device_key((other_device.e, other_device.n), owner="bureau")
    kbs.add_table("tradelines", owner="bureau", table_id=bytes(range(16)),
                  key_id=bytes(range(1, 17)), data_key=bytes(32), measurements=[MEASUREMENT])
    ta = FakeTA(other_device, MEASUREMENT)
    assert post_keys(kbs, _evidence(kbs, ta), ["tradelines"])[0] == 200
    msg = _refused(kbs, 403, "device-key-untrusted",
                   post_keys(kbs, _evidence(kbs, FakeTA(other_device, MEASUREMENT)),
                             ["tradelines", "loans"]))
    assert "'bank/loans'" in msg


def test_simulated_evidence_refused_in_prod_profile(device, owner, fake_ta, tmp_path):
    with start_embedded_kbs(profile="prod", storage_key=bytes(32)) as k:
        k.trust_device_key((device.e, device.n), owner="bank")
        k.add_table("loans", owner="bank", table_id=owner.table_id, key_id=owner.key_id,
                    data_key=owner.data_key, measurements=[MEASUREMENT])
        msg = _refused(k, 403, "simulated-evidence",
                       post_keys(k, _evidence(k, fake_ta()), ["loans"]))
        assert "prod profile" in msg
        # Negative control: hardware evidence (OP-TEE, flag clear) is accepted.
        hw = fake_ta(tee_kind=2, flags=0)
        assert post_keys(k, _evidence(k, hw), ["loans"])[0] == 200
        # Either marker alone makes evidence simulated.
        for kind, flags in ((1, 0), (2, 1)):
            _refused(k, 403, "simulated-evidence",
                     post_keys(k, _evidence(k, fake_ta(tee_kind=kind, flags=flags)), ["loans"]))


def test_simulated_evidence_refused_when_owner_says_so(kbs, fake_ta):
    kbs.set_accept_simulated(False, owner="bank")
    msg = _refused(kbs, 403, "simulated-evidence",
                   post_keys(kbs, _evidence(kbs, fake_ta()), ["loans"]))
    assert "accept_simulated: false" in msg
    kbs.set_accept_simulated(None, owner="bank")
    assert post_keys(kbs, _evidence(kbs, fake_ta()), ["loans"])[0] == 200


def test_measurement_not_allowed_403(kbs, fake_ta):
    msg = _refused(kbs, 403, "measurement-not-allowed",
                   post_keys(kbs, _evidence(kbs, fake_ta(measurement=bytes(32))), ["loans"]))
    assert "'bank/loans'" in msg and "00" * 32 in msg


def test_measurement_allowed_for_one_table_only_403(kbs, fake_ta, owner):
    other = bytes.fromhex("22" * 32)
    kbs.add_table("cards", owner="bank", table_id=bytes(range(16)), key_id=bytes(range(1, 17)),
                  data_key=bytes(range(32)), measurements=[other])
    assert post_keys(kbs, _evidence(kbs, fake_ta(other)), ["cards"])[0] == 200
    msg = _refused(kbs, 403, "measurement-not-allowed",
                   post_keys(kbs, _evidence(kbs, fake_ta(other)), ["cards", "loans"]))
    assert "'bank/loans'" in msg


def test_evidence_naming_another_kbs_key_403(kbs, fake_ta):
    ta = fake_ta()
    ta.pin_kbs_key(bytes(range(32)))  # the host pinned another KBS
    msg = _refused(kbs, 403, "kbs-key-mismatch",
                   post_keys(kbs, ta.get_evidence(get_nonce(kbs)), ["loans"]))
    assert kbs.public_key.hex() in msg


def test_evidence_from_another_ta_403(kbs, fake_ta):
    ta = fake_ta(ta_uuid=uuid.UUID("6aa0af66-8560-40fa-93d6-80c6912b560e"))
    _refused(kbs, 403, "ta-uuid-mismatch", post_keys(kbs, _evidence(kbs, ta), ["loans"]))


def test_low_order_ta_key_refused(kbs, device):
    ev = build_evidence(device, nonce=get_nonce(kbs), ta_public_key=bytes(32),
                        kbs_public_key=kbs.public_key, measurement=MEASUREMENT)
    _refused(kbs, 400, "evidence-malformed", post_keys(kbs, ev, ["loans"]))


# -- tables and recipients ---------------------------------------------------------

def test_unknown_table_404(kbs, fake_ta):
    msg = _refused(kbs, 404, "table-unknown",
                   post_keys(kbs, _evidence(kbs, fake_ta()), ["loans", "no-such-table"]))
    assert "no-such-table" in msg


def test_too_many_tables_400(kbs, fake_ta):
    _refused(kbs, 400, "too-many-tables",
             post_keys(kbs, _evidence(kbs, fake_ta()), [f"t{i}" for i in range(9)]))


def test_recipient_not_allowed_403(kbs, fake_ta, owner):
    kbs.add_recipient(bytes(range(16)), bytes(range(32)), owner="bureau", name="outsider")
    msg = _refused(kbs, 403, "recipient-not-allowed",
                   post_keys(kbs, _evidence(kbs, fake_ta()), ["loans"], ["outsider"]))
    assert "outsider" in msg
    _refused(kbs, 403, "recipient-not-allowed",
             post_keys(kbs, _evidence(kbs, fake_ta()), ["loans"], ["00" * 16]))


def test_recipient_restricted_per_table_403(kbs, fake_ta, owner):
    kbs.add_recipient(bytes(range(16)), bytes(range(32)), owner="bank", name="auditor")
    kbs.add_table("cards", owner="bank", table_id=bytes(range(16)), key_id=bytes(range(1, 17)),
                  data_key=bytes(range(32)), measurements=[MEASUREMENT],
                  recipients=["auditor"])
    assert post_keys(kbs, _evidence(kbs, fake_ta()), ["cards"], ["auditor"])[0] == 200
    assert post_keys(kbs, _evidence(kbs, fake_ta()), ["loans"], ["auditor"])[0] == 200
    _refused(kbs, 403, "recipient-not-allowed",
             post_keys(kbs, _evidence(kbs, fake_ta()), ["cards"], ["risk-team"]))
    # both tables: only recipients allowed for both
    _refused(kbs, 403, "recipient-not-allowed",
             post_keys(kbs, _evidence(kbs, fake_ta()), ["cards", "loans"], ["risk-team"]))
    status, doc = post_keys(kbs, _evidence(kbs, fake_ta()), ["cards", "loans"], ["auditor"])
    assert status == 200, doc
    assert len(parse_reply(base64.b64decode(doc["reply"])).keys) == 2


def test_data_key_missing_404(kbs, fake_ta):
    """A policy naming a table whose data key is not loaded (hand-installed policy)."""
    pol = kbs.store.policy
    from teespark.kbs.policy import TablePolicy
    pol.put_table(TablePolicy(name="ghost", owner="bank", table_id=bytes(range(16)),
                              key_id=bytes(range(16)), measurements=[MEASUREMENT]))
    kbs.store.save_policy(pol)
    _refused(kbs, 404, "data-key-missing", post_keys(kbs, _evidence(kbs, fake_ta()), ["ghost"]))


def test_refusals_never_release(kbs, fake_ta):
    """No refusal response carries a reply."""
    for resp in (post_keys(kbs, _evidence(kbs, fake_ta(bytes(32))), ["loans"]),
                 post_keys(kbs, _evidence(kbs, fake_ta()), ["nope"])):
        assert "reply" not in resp[1]
