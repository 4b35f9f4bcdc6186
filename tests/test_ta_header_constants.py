"""teespark_ta.h (the host/TA ABI) and teespark.tee.constants / wire agree.

Parses every ``#define`` and every struct of enclave/ta/include/teespark_ta.h
and compares them with the Python copies, in both directions, so any drift
(a changed number, a new or removed command, a moved field) fails here. The
negative controls feed deliberately drifted headers to the same comparison.
"""

from __future__ import annotations

import ast
import ctypes
import operator
import re
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEADER = REPO / "enclave" / "ta" / "include" / "teespark_ta.h"

try:
    import teespark  # noqa: F401
except ImportError:  # source checkout without an installed package
    sys.path.insert(0, str(REPO / "python"))

from teespark.tee import constants, wire  # noqa: E402
from teespark.tee.teespark_ta import SortKey, pack_sort_request  # noqa: E402

# Names in the header that are not ABI values.
IGNORED_DEFINES = {"TEESPARK_TA_H"}
# Prefixes of the names that constants.py must take from the header only.
ABI_PREFIXES = ("TA_TEESPARK_", "TS_")
# Python-only helpers that share the prefixes.
PYTHON_ONLY = {"TA_TEESPARK_UUID"}  # bytes form; checked separately

CTYPES = {"uint8_t": ctypes.c_uint8, "uint16_t": ctypes.c_uint16,
          "uint32_t": ctypes.c_uint32, "uint64_t": ctypes.c_uint64}
MIRRORS = {"ts_block_header": (wire.TsBlockHeader, "TS_BLOCK_HEADER_SIZE", wire.BLOCK_HEADER),
           "ts_sort_key": (wire.TsSortKey, None, wire.SORT_KEY),
           "ts_sort_request": (wire.TsSortRequest, "TS_SORT_REQUEST_SIZE", None),
           "ts_table_descriptor": (wire.TsTableDescriptor, "TS_TABLE_DESCRIPTOR_SIZE",
                                   wire.TABLE_DESCRIPTOR),
           "ts_evidence_body": (wire.TsEvidenceBody, "TS_EVIDENCE_BODY_SIZE",
                                wire.EVIDENCE_BODY),
           "ts_evidence": (wire.TsEvidence, "TS_EVIDENCE_SIZE", None),
           "ts_kbs_reply_header": (wire.TsKbsReplyHeader, "TS_KBS_REPLY_HEADER_SIZE",
                                   wire.KBS_REPLY_HEADER),
           "ts_wrapped_key": (wire.TsWrappedKey, "TS_WRAPPED_KEY_SIZE", wire.WRAPPED_KEY),
           "ts_recipient": (wire.TsRecipient, "TS_RECIPIENT_SIZE", wire.RECIPIENT),
           "ts_export_request": (wire.TsExportRequest, "TS_EXPORT_REQUEST_SIZE",
                                 wire.EXPORT_REQUEST),
           "ts_result_envelope": (wire.TsResultEnvelope, "TS_RESULT_ENVELOPE_SIZE",
                                  wire.RESULT_ENVELOPE),
           # RUN_OPERATOR (ABI v3)
           "ts_op_request": (wire.TsOpRequest, "TS_OP_REQUEST_SIZE", wire.OP_REQUEST),
           "ts_op_key": (wire.TsOpKey, "TS_OP_KEY_SIZE", wire.OP_KEY),
           "ts_op_agg": (wire.TsOpAgg, "TS_OP_AGG_SIZE", wire.OP_AGG),
           "ts_op_proj": (wire.TsOpProj, "TS_OP_PROJ_SIZE", wire.OP_PROJ),
           # STREAM (id 13)
           "ts_stream_copy": (wire.TsStreamCopy, "TS_STREAM_COPY_SIZE", None),
           "ts_stream_ann": (wire.TsStreamAnn, "TS_STREAM_ANN_SIZE", None),
           "ts_stream_request": (wire.TsStreamRequest, "TS_STREAM_REQUEST_SIZE", None)}


# --------------------------------------------------------------------------
# A small parser for the subset of C the header uses
# --------------------------------------------------------------------------

def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.LShift: operator.lshift, ast.RShift: operator.rshift,
           ast.BitOr: operator.or_, ast.BitAnd: operator.and_}


def eval_c_int(expr: str, names: dict[str, object] | None = None) -> int:
    """Evaluate an integer C expression (literals with u/U/l suffixes, + - * << >> | &)."""
    py = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", expr.strip())

    def ev(node: ast.AST) -> int:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            return _BINOPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.Name) and names and node.id in names:
            return int(names[node.id])  # type: ignore[arg-type]
        raise ValueError(f"unsupported C expression: {expr!r}")

    return ev(ast.parse(py, mode="eval"))


def parse_header(text: str) -> tuple[dict[str, object], dict[str, tuple[list[str], str]],
                                      dict[str, list[tuple[str, str, str | None]]]]:
    """Return (object-like defines, function-like defines, structs)."""
    code = _strip_comments(text).replace("\\\n", " ")
    defines: dict[str, object] = {}
    functions: dict[str, tuple[list[str], str]] = {}
    for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+(\w+)(\(([^)]*)\))?[ \t]*(.*)$",
                         code, flags=re.M):
        name, args, body = m.group(1), m.group(3), m.group(4).strip()
        if name in IGNORED_DEFINES:
            continue
        if m.group(2) is not None:
            functions[name] = ([a.strip() for a in args.split(",")], body)
        elif body.startswith('"'):
            defines[name] = ast.literal_eval(body)
        elif body.startswith("{"):
            defines[name] = [eval_c_int(x) for x in re.findall(r"0[xX][0-9a-fA-F]+|\d+", body)]
        else:
            defines[name] = eval_c_int(body, defines)
    structs: dict[str, list[tuple[str, str, str | None]]] = {}
    for m in re.finditer(r"struct\s+(\w+)\s*\{(.*?)\}\s*;", code, flags=re.S):
        fields = []
        for f in re.finditer(r"(struct\s+\w+|\w+)\s+(\w+)\s*(?:\[\s*(\w+)\s*\])?\s*;",
                             m.group(2)):
            fields.append((f.group(1), f.group(2), f.group(3)))
        structs[m.group(1)] = fields
    return defines, functions, structs


def ctypes_from_header(structs: dict[str, list[tuple[str, str, str | None]]],
                       defines: dict[str, object]) -> dict[str, type]:
    """Build ctypes.Structure classes (C layout rules) from parsed structs."""
    built: dict[str, type] = {}
    for sname, fields in structs.items():
        cfields = []
        for ctype, fname, dim in fields:
            if ctype.startswith("struct"):
                base = built[ctype.split()[1]]
            else:
                base = CTYPES[ctype]
            if dim is not None:
                n = int(dim) if dim.isdigit() else int(defines[dim])  # type: ignore[arg-type]
                base = base * n
            cfields.append((fname, base))
        built[sname] = type(sname, (ctypes.LittleEndianStructure,), {"_fields_": cfields})
    return built


def _layout(cls: type) -> list[tuple[str, int, int]]:
    return [(name, getattr(cls, name).offset, getattr(cls, name).size)
            for name, *_ in cls._fields_]


def compare(text: str) -> list[str]:
    """Every difference between a header text and the Python side."""
    problems: list[str] = []
    defines, functions, structs = parse_header(text)
    py = {k: v for k, v in vars(constants).items() if k.isupper()}

    for name, value in defines.items():
        if name == "TA_TEESPARK_UUID":
            fields = value  # [timeLow, timeMid, timeHi, 8 x clockSeqAndNode]
            assert isinstance(fields, list)
            raw = (fields[0].to_bytes(4, "big") + fields[1].to_bytes(2, "big")
                   + fields[2].to_bytes(2, "big") + bytes(fields[3:]))
            if raw != constants.TA_TEESPARK_UUID:
                problems.append(f"TA_TEESPARK_UUID: header {raw.hex()}, "
                                f"python {constants.TA_TEESPARK_UUID.hex()}")
            continue
        if name not in py:
            problems.append(f"{name} is in the header but not in constants.py")
        elif py[name] != value:
            problems.append(f"{name}: header {value!r}, constants.py {py[name]!r}")

    for name, (args, body) in functions.items():
        fn = py.get(name)
        if not callable(fn):
            problems.append(f"macro {name} has no function in constants.py")
            continue
        for sample in (0, 1, 4096, 4 << 20):
            want = eval_c_int(body, {**defines, **{a: sample for a in args}})
            if fn(sample) != want:
                problems.append(f"{name}({sample}): header {want}, constants.py {fn(sample)}")

    for name in py:
        if (name.startswith(ABI_PREFIXES) and name not in defines and name not in functions
                and name not in PYTHON_ONLY):
            problems.append(f"{name} is in constants.py but not in the header")

    if uuid.UUID(str(defines.get("TA_TEESPARK_UUID_STR"))).bytes != constants.TA_TEESPARK_UUID:
        problems.append("TA_TEESPARK_UUID_STR does not match TA_TEESPARK_UUID")
    for cmd, cname in constants.COMMAND_NAMES.items():
        if defines.get(f"TA_TEESPARK_CMD_{cname}") != cmd:
            problems.append(f"COMMAND_NAMES[{cmd}] = {cname!r} has no matching command")
    cmds = {k for k in defines if k.startswith("TA_TEESPARK_CMD_")}
    if len(cmds) != len(constants.COMMAND_NAMES):
        problems.append(f"COMMAND_NAMES has {len(constants.COMMAND_NAMES)} entries, "
                        f"the header {len(cmds)} commands")

    built = ctypes_from_header(structs, defines)
    for sname, (mirror, size_name, fmt) in MIRRORS.items():
        if sname not in built:
            problems.append(f"struct {sname} missing from the header")
            continue
        theirs, ours = _layout(built[sname]), _layout(mirror)
        if theirs != ours:
            problems.append(f"struct {sname}: header layout {theirs}, mirror {ours}")
        csize = ctypes.sizeof(built[sname])
        if ctypes.sizeof(mirror) != csize:
            problems.append(f"struct {sname}: header {csize} bytes, mirror "
                            f"{ctypes.sizeof(mirror)}")
        if size_name is not None and defines.get(size_name) != csize:
            problems.append(f"{size_name} = {defines.get(size_name)} but struct {sname} "
                            f"is {csize} bytes")
        if fmt is not None and fmt.size != csize:
            problems.append(f"struct {sname}: struct format is {fmt.size} bytes, C {csize}")
    for sname in structs:
        if sname not in MIRRORS:
            problems.append(f"struct {sname} has no ctypes mirror in wire.py")
    return problems


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def header_text() -> str:
    return HEADER.read_text()


def test_header_and_python_constants_agree(header_text: str) -> None:
    assert compare(header_text) == []


def test_wire_struct_sizes_are_96_and_200(header_text: str) -> None:
    defines, _, structs = parse_header(header_text)
    built = ctypes_from_header(structs, defines)
    assert ctypes.sizeof(built["ts_block_header"]) == 96 == constants.TS_BLOCK_HEADER_SIZE
    assert ctypes.sizeof(built["ts_sort_request"]) == 200 == constants.TS_SORT_REQUEST_SIZE
    assert ctypes.sizeof(wire.TsBlockHeader) == 96
    assert ctypes.sizeof(wire.TsSortRequest) == 200


def test_parser_sees_every_define(header_text: str) -> None:
    # Guards the comparison itself: a parser that found nothing would agree
    # with anything.
    defines, functions, structs = parse_header(header_text)
    n_lines = len(re.findall(r"^\s*#\s*define\s", header_text, flags=re.M))
    assert len(defines) + len(functions) + len(IGNORED_DEFINES) == n_lines
    assert set(structs) == set(MIRRORS)
    assert len(structs["ts_block_header"]) == 12


def test_block_header_format_matches_mirror() -> None:
    values = wire.BlockHeader(
        magic=constants.TS_BLOCK_MAGIC, format_version=1, header_size=96,
        table_id=bytes(range(16)), table_version=0x0102030405060708, block_index=7,
        block_count=9, row_count=1000, row_size=48, schema_hash=bytes(range(32, 64)),
        nonce=bytes(range(100, 112)), ciphertext_size=48000)
    raw = values.pack()
    c = wire.TsBlockHeader.from_buffer_copy(raw)
    assert raw[:4] == b"TSB1"
    assert (c.magic, c.format_version, c.header_size) == (constants.TS_BLOCK_MAGIC, 1, 96)
    assert bytes(c.table_id) == values.table_id
    assert c.table_version == values.table_version
    assert (c.block_index, c.block_count, c.row_count, c.row_size) == (7, 9, 1000, 48)
    assert bytes(c.schema_hash) == values.schema_hash
    assert bytes(c.nonce) == values.nonce
    assert c.ciphertext_size == 48000
    assert wire.BlockHeader.unpack(raw) == values


def test_pack_sort_request_matches_mirror() -> None:
    keys = [SortKey("uint", 0, 8), SortKey(constants.TS_KEY_BYTES, 8, 20, descending=True),
            SortKey("float64", 40, 8)]
    raw = pack_sort_request(keys=keys, rows_per_block=513, in_key_slot=2, out_key_slot=5,
                            out_table_id=bytes(range(16)), out_table_version=2**40 + 3,
                            schema_hash=bytes(range(1, 33)))
    assert len(raw) == constants.TS_SORT_REQUEST_SIZE
    r = wire.TsSortRequest.from_buffer_copy(raw)
    assert (r.in_key_slot, r.out_key_slot, r.rows_per_block, r.key_count) == (2, 5, 513, 3)
    assert bytes(r.out_table_id) == bytes(range(16))
    assert r.out_table_version == 2**40 + 3
    assert bytes(r.schema_hash) == bytes(range(1, 33))
    got = [(k.type, k.descending, k.offset, k.width, k.reserved) for k in r.keys]
    assert got[:3] == [(constants.TS_KEY_UINT, 0, 0, 8, 0),
                       (constants.TS_KEY_BYTES, 1, 8, 20, 0),
                       (constants.TS_KEY_FLOAT64, 0, 40, 8, 0)]
    assert got[3:] == [(0, 0, 0, 0, 0)] * 5


@pytest.mark.parametrize("kwargs, message", [
    ({"rows_per_block": 0}, "'rows_per_block'"),
    ({"in_key_slot": 8}, "'in_key_slot'"),
    ({"out_key_slot": -1}, "'out_key_slot'"),
    ({"out_table_id": bytes(15)}, "'out_table_id' must be 16 bytes, got 15"),
    ({"schema_hash": "x" * 32}, "'schema_hash' must be 32 bytes"),
    ({"keys": []}, "'keys' must hold 1..8"),
    ({"keys": [SortKey("uint", 0, 3)]}, r"keys\[0\].width must be 1, 2, 4, 8"),
    ({"keys": [SortKey("float64", 0, 4)]}, r"keys\[0\].width must be 8 for TS_KEY_FLOAT64"),
    ({"keys": [SortKey("uint", 0, 8), SortKey("text", 8, 4)]}, r"keys\[1\].type"),
    ({"keys": [SortKey("bytes", 65530, 10)]}, r"keys\[0\] ends at byte 65540"),
])
def test_pack_sort_request_names_the_bad_argument(kwargs: dict, message: str) -> None:
    args = dict(keys=[SortKey("uint", 0, 8)], rows_per_block=10, in_key_slot=0,
                out_key_slot=1, out_table_id=bytes(16), out_table_version=1,
                schema_hash=bytes(32))
    args.update(kwargs)
    with pytest.raises(ValueError, match="pack_sort_request: " + message):
        pack_sort_request(**args)


# -- negative controls: drifted headers must be reported ----------------------

@pytest.mark.parametrize("old, new, expect", [
    ("#define TS_MAX_KEY_SLOTS 8", "#define TS_MAX_KEY_SLOTS 9", "TS_MAX_KEY_SLOTS"),
    ("#define TA_TEESPARK_CMD_SORT_BLOCKS 5", "#define TA_TEESPARK_CMD_SORT_BLOCKS 6",
     "TA_TEESPARK_CMD_SORT_BLOCKS"),
    ("#define TS_ERROR_BAD_REQUEST 0x80010005u",
     "#define TS_ERROR_BAD_REQUEST 0x80010005u\n#define TS_ERROR_NEW 0x80010006u",
     "TS_ERROR_NEW is in the header"),
    ("#define TS_KEY_BYTES 4     /* byte string compared lexicographically, width 1..256 */",
     "", "TS_KEY_BYTES is in constants.py"),
    ("0x9f, 0xf7, 0x4b", "0x9f, 0xf7, 0x4c", "TA_TEESPARK_UUID"),
    ("\tuint32_t block_index;       /* 0-based position in the table */\n"
     "\tuint32_t block_count;       /* blocks in the table */",
     "\tuint32_t block_count;\n\tuint32_t block_index;", "struct ts_block_header"),
    ("\tuint16_t descending;", "\tuint32_t descending;", "struct ts_sort_key"),
    ("(TS_BLOCK_HEADER_SIZE + (plaintext_bytes) + TS_TAG_SIZE)",
     "(TS_BLOCK_HEADER_SIZE + (plaintext_bytes))", "TS_SEALED_BLOCK_SIZE"),
    ("#define TS_SORT_REQUEST_SIZE 200", "#define TS_SORT_REQUEST_SIZE 208",
     "TS_SORT_REQUEST_SIZE"),
])
def test_drifted_header_is_reported(header_text: str, old: str, new: str, expect: str) -> None:
    assert old in header_text, f"negative control is stale: {old!r} not in the header"
    problems = compare(header_text.replace(old, new))
    assert any(expect in p for p in problems), problems
