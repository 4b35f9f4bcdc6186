"""The Python layouts of the key-release wire structs match teespark_ta.h byte for byte.

A small C program, compiled against the real header, prints sizeof and
offsetof of every field of ts_evidence(_body), ts_kbs_reply_header,
ts_wrapped_key, ts_recipient and ts_result_envelope, and the magics and
sizes; the test compares them with the ``struct`` formats in
teespark.attest.evidence and teespark.kbs.reply. A negative control checks
that the comparison notices a moved field.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from teespark.attest import evidence as ev
from teespark.kbs import reply as rp

REPO = Path(__file__).resolve().parents[2]
HEADER_DIR = REPO / "enclave" / "ta" / "include"

# struct name -> (Python struct, field names in order); arrays count as one field.
LAYOUTS = {
    "ts_evidence_body": (ev.EVIDENCE_BODY, ["magic", "version", "tee_kind", "flags",
                                            "abi_version", "ta_uuid", "verifier_nonce",
                                            "ta_public_key", "kbs_public_key"]),
    "ts_kbs_reply_header": (rp.REPLY_HEADER, ["magic", "version", "header_size",
                                              "evidence_hash", "kbs_ephemeral_key",
                                              "key_count", "recipient_count", "issued_at",
                                              "reply_size", "reserved"]),
    "ts_wrapped_key": (rp.WRAPPED_KEY, ["slot", "flags", "key_id", "table_id", "nonce",
                                        "reserved", "wrapped_key", "tag"]),
    "ts_recipient": (rp.RECIPIENT, ["recipient_id", "public_key"]),
}
# ts_evidence = body | tail (offsets relative to the struct start)
EVIDENCE_TAIL_FIELDS = ["measurement", "signature_size", "reserved", "signature"]

CONSTANTS = {
    "TS_EVIDENCE_MAGIC": ev.EVIDENCE_MAGIC, "TS_EVIDENCE_SIZE": ev.EVIDENCE_SIZE,
    "TS_EVIDENCE_BODY_SIZE": ev.EVIDENCE_BODY_SIZE,
    "TS_TEE_KIND_SIMULATOR": ev.TEE_KIND_SIMULATOR, "TS_TEE_KIND_OPTEE": ev.TEE_KIND_OPTEE,
    "TS_TEE_KIND_ITRUSTEE": ev.TEE_KIND_ITRUSTEE,
    "TS_EVIDENCE_FLAG_SIMULATED": ev.EVIDENCE_FLAG_SIMULATED,
    "TS_NONCE_BYTES": ev.NONCE_BYTES,
    "TS_KBS_REPLY_MAGIC": rp.KBS_REPLY_MAGIC, "TS_KBS_REPLY_HEADER_SIZE": rp.KBS_REPLY_HEADER_SIZE,
    "TS_WRAPPED_KEY_SIZE": rp.WRAPPED_KEY_SIZE, "TS_WRAPPED_KEY_AAD_SIZE": rp.WRAPPED_KEY_AAD_SIZE,
    "TS_RECIPIENT_SIZE": rp.RECIPIENT_SIZE, "TS_ED25519_SIGNATURE_SIZE": rp.SIGNATURE_SIZE,
    "TS_MAX_KEY_SLOTS": rp.MAX_KEY_SLOTS, "TS_MAX_RECIPIENTS": rp.MAX_RECIPIENTS,
}


def _py_offsets(st: struct.Struct, names: list[str]) -> dict[str, tuple[int, int]]:
    """name -> (offset, size) from a '<'-format with one code per field."""
    codes = []
    fmt = st.format[1:]
    i = 0
    while i < len(fmt):
        j = i
        while fmt[j].isdigit():
            j += 1
        codes.append(fmt[i:j + 1])
        i = j + 1
    assert len(codes) == len(names), (st.format, names)
    out, off = {}, 0
    for name, code in zip(names, codes):
        size = struct.calcsize("<" + code)
        out[name] = (off, size)
        off += size
    return out


@pytest.fixture(scope="module")
def c_layout(tmp_path_factory) -> dict[str, int]:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    lines = ['#include <stdio.h>', '#include <stddef.h>', '#include "teespark_ta.h"',
             ("#define F(s, f) printf(#s \".\" #f \" %zu %zu\\n\", offsetof(struct s, f), "
              "sizeof(((struct s *)0)->f))"),
             "int main(void) {"]
    for sname, (_st, names) in LAYOUTS.items():
        lines.append(f'printf("{sname} %zu\\n", sizeof(struct {sname}));')
        lines += [f"F({sname}, {n});" for n in names]
    lines.append('printf("ts_evidence %zu\\n", sizeof(struct ts_evidence));')
    lines += [f"F(ts_evidence, {n});" for n in ["body"] + EVIDENCE_TAIL_FIELDS]
    lines += [f'printf("{k} %llu\\n", (unsigned long long)({k}));' for k in CONSTANTS]
    lines += ['printf("TS_KBS_WRAP_INFO %s\\n", TS_KBS_WRAP_INFO);', "return 0; }"]
    d = tmp_path_factory.mktemp("layout")
    (d / "l.c").write_text("\n".join(lines))
    subprocess.run([cc, "-std=c11", "-Wall", "-Werror", "-I", str(HEADER_DIR), "-o",
                    str(d / "l"), str(d / "l.c")], check=True)
    out = subprocess.run([str(d / "l")], check=True, capture_output=True, text=True).stdout
    res: dict[str, object] = {}
    for line in out.splitlines():
        key, *vals = line.split(" ")
        res[key] = tuple(int(v) for v in vals) if key.startswith("ts_") and "." in key \
            else (vals[0] if key == "TS_KBS_WRAP_INFO" else int(vals[0]))
    return res  # type: ignore[return-value]


def _compare(c_layout, sname, st, names):
    assert c_layout[sname] == st.size, f"sizeof(struct {sname})"
    for name, (off, size) in _py_offsets(st, names).items():
        assert c_layout[f"{sname}.{name}"] == (off, size), f"{sname}.{name}"


@pytest.mark.parametrize("sname", sorted(LAYOUTS))
def test_struct_layout_matches_header(c_layout, sname):
    st, names = LAYOUTS[sname]
    _compare(c_layout, sname, st, names)


def test_evidence_layout_matches_header(c_layout):
    assert c_layout["ts_evidence"] == ev.EVIDENCE_SIZE
    assert c_layout["ts_evidence.body"] == (0, ev.EVIDENCE_BODY_SIZE)
    tail = _py_offsets(ev.EVIDENCE_TAIL, EVIDENCE_TAIL_FIELDS)
    for name, (off, size) in tail.items():
        assert c_layout[f"ts_evidence.{name}"] == (ev.EVIDENCE_BODY_SIZE + off, size), name


@pytest.mark.parametrize("name", sorted(CONSTANTS))
def test_constants_match_header(c_layout, name):
    assert c_layout[name] == CONSTANTS[name]


def test_wrap_info_matches_header(c_layout):
    assert c_layout["TS_KBS_WRAP_INFO"].encode() == rp.KBS_WRAP_INFO


def test_negative_control_moved_field_is_caught(c_layout):
    swapped = struct.Struct("<II16s16s12sI16s32s")  # wrapped_key and tag swapped
    with pytest.raises(AssertionError):
        _compare(c_layout, "ts_wrapped_key", swapped, LAYOUTS["ts_wrapped_key"][1])
