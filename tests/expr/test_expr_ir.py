"""The binary IR: constants agree with expr.h, the TA validator rejects every
kind of malformed program with the right error code and instruction index
before evaluating anything, mutated programs never crash it, and the
PROJECT / FILTER output helpers write the row encoding of docs/FORMAT.md."""
from __future__ import annotations

import decimal
import re
import struct

import numpy as np
import pytest
from expr_native import REPO_ROOT, EvalError, build_rows
from hypothesis import given, settings
from hypothesis import strategies as st
from teespark.format.schema import Schema
from teespark.ir import col, compile_expr, decode_program, lit, when
from teespark.ir import opcodes as oc
from teespark.ir.compile import TNode, encode_tree, like_tokens
from teespark.ir.errors import ExpressionTypeError, UnsupportedExpressionError
from teespark.ir.types import BOOL, FLOAT64, INT32, INT64, IrType

D = decimal.Decimal
SCHEMA = Schema.from_spec("a:int32, b:int64, c:decimal(10,2), s:string(5), f:float64, "
                          "d:date, t:bool")
ROWS = build_rows(SCHEMA, [(1, 2, D("3.50"), "ab", 1.5, 10, True),
                           (None, -2, None, "", None, None, None)])


# --- constants ------------------------------------------------------------------

def test_opcode_and_error_numbers_match_expr_h():
    text = (REPO_ROOT / "enclave/ta/expr/expr.h").read_text()
    found = {}
    for name, val in re.findall(r"\b(TS_(?:OP|T|EXPR_E)_[A-Z0-9_]+)\s*=\s*(0x[0-9A-Fa-f]+|\d+)",
                                text):
        found[name] = int(val, 0)
    for name, val in re.findall(r"#define\s+(TS_[A-Z0-9_]+)\s+(0x[0-9A-Fa-f]+|\d+)u?", text):
        found[name] = int(val, 0)
    checked = 0
    for name, val in found.items():
        if name.startswith("TS_OP_"):
            py = getattr(oc, "OP_" + name[6:])
        elif name.startswith("TS_T_"):
            py = getattr(oc, "T_" + name[5:])
        elif name.startswith("TS_EXPR_E_"):
            py = getattr(oc, "E_" + name[10:])
        elif name.startswith("TS_LIKE_"):
            py = getattr(oc, "LIKE_" + name[8:])
        elif name.startswith("TS_EXPR_") and hasattr(oc, name[8:]):
            py = getattr(oc, name[8:])
        else:
            continue
        assert py == val, f"{name}: expr.h has {val}, teespark.ir.opcodes has {py}"
        checked += 1
    assert checked >= 60


# --- validator rejections ------------------------------------------------------------

def insn(op, t, payload=b"", aux=0, length=None):
    ln = oc.INSN_HEADER_SIZE + len(payload) if length is None else length
    return struct.pack("<HHI", op, aux, ln) + t.descriptor() + payload


def prog(*insns, row_size=None, n=None, version=1, flags=0, magic=oc.MAGIC):
    rs = SCHEMA.row_size if row_size is None else row_size
    return magic + struct.pack("<HHII", version, flags, rs,
                               len(insns) if n is None else n) + b"".join(insns)


def col_a():
    return insn(oc.OP_COL, INT32, struct.pack("<II", 1, 0))


def lit_i32(v, null=0):
    return insn(oc.OP_LIT, INT32, bytes([null, 0, 0, 0]) + struct.pack("<q", v))


def test_a_valid_hand_written_program_runs(ev):
    p = prog(col_a(), lit_i32(5), insn(oc.OP_ADD, INT32))
    assert ev.evaluate(p, ROWS) == [6, None]


REJECTS = [
    ("header truncated", prog()[:10], oc.E_TRUNCATED, -1),
    ("bad magic", prog(col_a(), magic=b"TSXQ"), oc.E_MAGIC, -1),
    ("bad version", prog(col_a(), version=2), oc.E_VERSION, -1),
    ("nonzero flags", prog(col_a(), flags=1), oc.E_VERSION, -1),
    ("no instructions", prog(), oc.E_RESULT, -1),
    ("instruction truncated", prog(col_a(), lit_i32(1))[:-3], oc.E_TRUNCATED, 1),
    ("count beyond data", prog(col_a(), n=2), oc.E_TRUNCATED, 1),
    ("length too small", prog(insn(oc.OP_COL, INT32, struct.pack("<II", 1, 0), length=8)),
     oc.E_LENGTH, 0),
    ("unknown opcode", prog(col_a(), insn(0x7F, INT32)), oc.E_OPCODE, 1),
    ("bad type kind", prog(insn(oc.OP_COL, IrType("int32"),
                                struct.pack("<II", 1, 0))[:8] + bytes([99]) + bytes(7)
                           + struct.pack("<II", 1, 0)), oc.E_TYPE, 0),
    ("decimal scale > precision", prog(insn(oc.OP_LIT, IrType("decimal", 5, 6),
                                            bytes(4 + 16))), oc.E_TYPE, 0),
    ("string width 0", prog(insn(oc.OP_LIT, IrType("string", 0, 0, 0), bytes(4))),
     oc.E_TYPE, 0),
    ("stack underflow", prog(col_a(), insn(oc.OP_ADD, INT32)), oc.E_UNDERFLOW, 1),
    ("two results", prog(col_a(), col_a()), oc.E_RESULT, 1),
    ("column past the row", prog(insn(oc.OP_COL, INT64,
                                      struct.pack("<II", SCHEMA.row_size - 4, 0))),
     oc.E_OFFSET, 0),
    ("null bit past the row", prog(insn(oc.OP_COL, INT32,
                                        struct.pack("<II", 1, 8 * SCHEMA.row_size))),
     oc.E_OFFSET, 0),
    ("decimal(19) column", prog(insn(oc.OP_COL, IrType("decimal", 19, 2),
                                     struct.pack("<II", 1, 0))), oc.E_TYPE, 0),
    ("int32 literal out of range", prog(lit_i32(2**31)), oc.E_LITERAL, 0),
    ("NULL literal with value bytes", prog(lit_i32(3, null=1)), oc.E_LITERAL, 0),
    ("bool literal 2", prog(insn(oc.OP_LIT, BOOL, bytes([0, 0, 0, 0, 2]))),
     oc.E_LITERAL, 0),
    ("decimal literal >= 10^p", prog(insn(oc.OP_LIT, IrType.decimal(3, 0),
                                          bytes(4) + (1000).to_bytes(16, "little"))),
     oc.E_LITERAL, 0),
    ("int32 + int64 without a cast", prog(col_a(), insn(oc.OP_LIT, INT64, bytes(12)),
                                          insn(oc.OP_ADD, INT64)), oc.E_OPERAND_TYPE, 2),
    ("AND on ints", prog(col_a(), col_a(), insn(oc.OP_AND, BOOL)), oc.E_OPERAND_TYPE, 2),
    ("float %", prog(insn(oc.OP_LIT, FLOAT64, bytes(12)), insn(oc.OP_LIT, FLOAT64, bytes(12)),
                     insn(oc.OP_MOD, FLOAT64)), oc.E_UNSUPPORTED, 2),
    ("string -> int cast", prog(insn(oc.OP_LIT, IrType.string(2), bytes(4) + b"12"),
                                insn(oc.OP_CAST, INT32)), oc.E_UNSUPPORTED, 1),
    ("CASE with 0 branches", prog(col_a(), insn(oc.OP_CASE, INT32, struct.pack("<I", 1),
                                                aux=0)), oc.E_PARAM, 1),
    ("aux on ADD", prog(col_a(), col_a(), insn(oc.OP_ADD, INT32, aux=1)), oc.E_PARAM, 2),
    ("LIKE bad token", prog(insn(oc.OP_LIT, IrType.string(2), bytes(4) + b"ab"),
                            insn(oc.OP_LIKE, BOOL, struct.pack("<IH", 1, 0x300))),
     oc.E_PARAM, 1),
    ("LIKE length mismatch", prog(insn(oc.OP_LIT, IrType.string(2), bytes(4) + b"ab"),
                                  insn(oc.OP_LIKE, BOOL, struct.pack("<IH", 2, 0x61))),
     oc.E_LENGTH, 1),
    ("SUBSTR wrong width", prog(insn(oc.OP_LIT, IrType.string(8), bytes(4) + b"abcdefgh"),
                                insn(oc.OP_SUBSTR, IrType.string(8),
                                     struct.pack("<ii", 1, 1))), oc.E_OPERAND_TYPE, 1),
    ("IN empty list", prog(col_a(), insn(oc.OP_IN, BOOL, struct.pack("<II", 0, 1))),
     oc.E_PARAM, 1),
    ("ROUND float64 d < 0", prog(insn(oc.OP_LIT, FLOAT64, bytes(12)),
                                 insn(oc.OP_ROUND, FLOAT64, struct.pack("<i", -1))),
     oc.E_UNSUPPORTED, 1),
    ("trailing bytes", prog(col_a()) + b"\0", oc.E_TRAILING, -1),
]


@pytest.mark.parametrize("what,data,code,index", REJECTS, ids=[r[0] for r in REJECTS])
def test_validator_rejects_with_code_and_index(ev, what, data, code, index):
    with pytest.raises(EvalError) as e:
        ev.validate(data)
    assert (oc.ERROR_NAMES[e.value.code], e.value.bad_insn) == \
        (oc.ERROR_NAMES[code], index), what


def test_stack_deeper_than_the_limit_is_rejected(ev):
    n = oc.MAX_DEPTH + 1
    data = prog(*([lit_i32(1)] * n + [insn(oc.OP_ADD, INT32)] * (n - 1)))
    with pytest.raises(EvalError) as e:
        ev.validate(data)
    assert (e.value.code, e.value.bad_insn) == (oc.E_DEPTH, oc.MAX_DEPTH)


def test_eval_checks_row_size_and_workspace(ev):
    import ctypes

    from expr_native import ExprCol
    p = prog(col_a())
    info = ev.validate(p)
    rows = np.zeros((2, SCHEMA.row_size + 1), dtype=np.uint8)
    ws = np.zeros(1 << 16, dtype=np.uint8)
    c = ExprCol()
    base = ws.ctypes.data + (-ws.ctypes.data) % 16
    rc = ev.lib.ts_expr_eval(p, ctypes.byref(info), ctypes.c_void_p(rows.ctypes.data), 2,
                             SCHEMA.row_size + 1, ctypes.c_void_p(base), 1 << 15,
                             ctypes.byref(c))
    assert rc == oc.E_ROW_SIZE
    need = ev.lib.ts_expr_workspace_size(ctypes.byref(info), 2)
    rc = ev.lib.ts_expr_eval(p, ctypes.byref(info), ctypes.c_void_p(rows.ctypes.data), 2,
                             SCHEMA.row_size, ctypes.c_void_p(base), need - 1, ctypes.byref(c))
    assert rc == oc.E_WORKSPACE
    rc = ev.lib.ts_expr_eval(p, ctypes.byref(info), ctypes.c_void_p(rows.ctypes.data), 2,
                             SCHEMA.row_size, ctypes.c_void_p(base + 8), need,
                             ctypes.byref(c))
    assert rc == oc.E_WORKSPACE


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_programs_are_rejected_or_run_safely(ev, data):
    """Flip, truncate or extend a valid program: the validator must either
    reject it or accept a program that then evaluates without crashing."""
    bases = [
        compile_expr(when(col("c") * col("b") > lit(D("1.5")), col("a") % 3)
                     .otherwise(col("a")), SCHEMA).data,
        compile_expr(col("s").substr(-2, 1).like("a%") | col("s").isin("ab", "x"),
                     SCHEMA).data,
    ]
    base = bases[data.draw(st.integers(0, 1))]
    buf = bytearray(base)
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["flip", "truncate", "extend"]))
        if kind == "flip" and buf:
            i = data.draw(st.integers(0, len(buf) - 1))
            buf[i] ^= data.draw(st.integers(1, 255))
        elif kind == "truncate":
            del buf[data.draw(st.integers(0, len(buf))):]
        else:
            buf += bytes(data.draw(st.lists(st.integers(0, 255), max_size=20)))
    try:
        info = ev.validate(bytes(buf))
    except EvalError as e:
        assert e.code != 0
        return
    rows = ROWS
    if info.row_size != SCHEMA.row_size:   # a flipped header row size
        if info.row_size > 4096:
            return
        rows = np.random.default_rng(1).integers(0, 256, (3, info.row_size), dtype=np.uint8)
    ev.evaluate(bytes(buf), rows)


# --- encoder ------------------------------------------------------------------------

def test_decode_program_round_trips_the_instruction_stream():
    p = compile_expr((col("a") + 1).isin(2, 3) & col("s").startswith("a"), SCHEMA)
    row_size, insns = decode_program(p.data)
    assert row_size == SCHEMA.row_size and len(insns) == p.n_insn
    assert [oc.OPCODE_NAMES[i[0]] for i in insns] == \
        ["COL", "LIT", "ADD", "IN", "COL", "LIKE", "AND"]


def test_like_tokens_follow_sparks_escape_rules():
    a, s = oc.LIKE_ANY_CHAR, oc.LIKE_ANY_STRING
    assert like_tokens("a_%%\\%\\_\\\\é") == [0x61, a, s, 0x25, 0x5F, 0x5C, 0xC3, 0xA9]
    assert like_tokens("x!%", escape="!") == [0x78, 0x25]
    with pytest.raises(ExpressionTypeError, match="escape character"):
        like_tokens("a\\b")
    with pytest.raises(ExpressionTypeError, match="escape character"):
        like_tokens("abc\\")


def test_compile_errors_name_the_problem():
    with pytest.raises(ExpressionTypeError, match="column 'nope' not found"):
        compile_expr(col("nope") + 1, SCHEMA)
    with pytest.raises(UnsupportedExpressionError, match="% on float64"):
        compile_expr(col("f") % 2.0, SCHEMA)
    with pytest.raises(UnsupportedExpressionError, match="CAST"):
        compile_expr(col("s").cast("int32"), SCHEMA)
    with pytest.raises(ExpressionTypeError, match="not a string"):
        compile_expr(col("a").like("x"), SCHEMA)
    with pytest.raises(TypeError, match="truth value"):
        bool(col("a") > 1)


def test_hand_built_tree_encodes_like_compile():
    t = TNode(oc.OP_ADD, INT32, (TNode(oc.OP_COL, INT32, (), struct.pack("<II", 1, 0)),
                                 TNode(oc.OP_LIT, INT32, (), bytes(4) + struct.pack("<q", 1))))
    assert encode_tree(t, SCHEMA.row_size).data == compile_expr(col("a") + 1, SCHEMA).data


# --- PROJECT and FILTER helpers ----------------------------------------------------------

@pytest.mark.parametrize("name", ["a", "b", "c", "s", "f", "d", "t"])
def test_project_writes_the_row_encoding(ev, name):
    """Writing a column back at its own offset and null bit reproduces the
    input rows' bytes of that column (and the NULL bit)."""
    lay = SCHEMA.column(name)
    p = compile_expr(col(name), SCHEMA)
    out = ev.project(p.data, ROWS, SCHEMA.row_size, lay.offset, lay.index)
    span = slice(lay.offset, lay.offset + lay.width)
    assert (out[:, span] == ROWS[:, span]).all()
    bit = 1 << (lay.index % 8)
    assert ((out[:, lay.index // 8] & bit) == (ROWS[:, lay.index // 8] & bit)).all()
    # other bits of the bitmap byte are untouched (0xAA filler)
    others = (~bit) & 0xFF
    assert ((out[:, lay.index // 8] & others) == (0xAA & others)).all()


def test_project_rejects_unstorable_and_overlapping_targets(ev):
    p = compile_expr(col("c") * col("c") * col("c"), SCHEMA)   # decimal(32,6)
    with pytest.raises(EvalError) as e:
        ev.project(p.data, ROWS, 64, 8, oc.NOT_NULLABLE)
    assert e.value.code == oc.E_NOT_STORABLE
    p = compile_expr(col("b"), SCHEMA)
    with pytest.raises(EvalError) as e:
        ev.project(p.data, ROWS, 16, 12, oc.NOT_NULLABLE)
    assert e.value.code == oc.E_OFFSET
    with pytest.raises(EvalError) as e:
        ev.project(p.data, ROWS, 16, 0, 3)   # null bit inside the value
    assert e.value.code == oc.E_OFFSET


def test_filter_ctl_keeps_only_true(ev):
    p = compile_expr(col("t") | (col("a") > 5), SCHEMA)   # TRUE, NULL
    assert ev.filter_ctl(p.data, ROWS) == [1, 0]
    p = compile_expr(~col("t") | col("a").is_null(), SCHEMA)  # FALSE, TRUE
    assert ev.filter_ctl(p.data, ROWS) == [0, 1]
    with pytest.raises(EvalError):
        ev.filter_ctl(compile_expr(col("a"), SCHEMA).data, ROWS)


def test_zero_rows(ev):
    p = compile_expr(col("s").like("%a%") & (col("c") / col("c") > 0), SCHEMA)
    assert ev.evaluate(p.data, ROWS[:0]) == []
