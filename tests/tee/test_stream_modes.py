"""The STREAM command's ABI v4 modes on the simulator, driven directly
(teespark.tee.streaming_ta): MAP, the JOIN_PKFK variants (inner, outer,
semi, anti), WIDEN without a side byte, AGGREGATE with no key and with
COUNT(DISTINCT), and the request checks that go with them.

Inputs are sealed and outputs opened here with the ``cryptography``
package (independent of the TA). Every output is compared, row by row, with
a reference computed here by other means: dictionaries and sets for the
joins, Python sets for COUNT(DISTINCT), per-row numpy arithmetic for MAP,
pandas for the aggregate counts. The TA heap is 8 MiB; tables are small
but span several blocks.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterator, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from teespark.errors import EnclaveError
from teespark.format.schema import Schema
from teespark.ir import col, lit
from teespark.ir import compile_expr as _compile
from teespark.tee import TeesparkTA
from teespark.tee import constants as c
from teespark.tee.descriptor import build_table_descriptor, verify_table_descriptor
from teespark.tee.operators import OpProj
from teespark.tee.streaming_ta import (
    StreamAgg,
    StreamCopy,
    StreamKey,
    StreamRequest,
    pack_stream_request,
    stream,
)
from teespark.tee.wire import BlockHeader, iter_block_headers

KEY_IN = bytes(range(32))
KEY_OUT = bytes(range(64, 96))
IN_SLOT, OUT_SLOT = 0, 2
OUT_ID = b"stream-modes-out"
FLAG = 8
OUT_BUF = 4 << 20


# ----------------------------------------------------------------- helpers


def seal(rows: np.ndarray | bytes, row_size: int, rpb: int, table_id: bytes,
         schema: bytes = b"M" * 32) -> tuple[bytes, bytes]:
    """Seal rows as a table (reference block format) and its descriptor."""
    raw = rows.tobytes() if isinstance(rows, np.ndarray) else bytes(rows)
    n = len(raw) // row_size
    count = max(1, -(-n // rpb))
    aead, out = AESGCM(KEY_IN), []
    for i in range(count):
        chunk = raw[i * rpb * row_size:(i + 1) * rpb * row_size]
        nonce = os.urandom(c.TS_NONCE_SIZE)
        hdr = BlockHeader(c.TS_BLOCK_MAGIC, c.TS_FORMAT_VERSION, c.TS_BLOCK_HEADER_SIZE,
                          table_id, 1, i, count, len(chunk) // row_size, row_size, schema,
                          nonce, len(chunk)).pack()
        out.append(hdr + aead.encrypt(nonce, chunk, hdr))
    desc = build_table_descriptor(KEY_IN, table_id=table_id, table_version=1, row_count=n,
                                  row_size=row_size, rows_per_block=rpb, schema_hash=schema)
    return b"".join(out), desc


def open_blocks(data: bytes) -> tuple[bytes, list[int]]:
    """Plaintext rows of sealed output blocks, and each block's row count."""
    aead, parts, counts, end = AESGCM(KEY_OUT), [], [], 0
    for off, h in iter_block_headers(data):
        end = off + c.TS_SEALED_BLOCK_SIZE(h.ciphertext_size)
        parts.append(aead.decrypt(h.nonce, data[off + c.TS_BLOCK_HEADER_SIZE:end],
                                  data[off:off + c.TS_BLOCK_HEADER_SIZE]))
        counts.append(h.row_count)
    assert end == len(data)
    return b"".join(parts), counts


@pytest.fixture
def sta() -> Iterator[TeesparkTA]:
    saved = os.environ.get("TEESPARK_TA_DATA_SIZE")
    os.environ["TEESPARK_TA_DATA_SIZE"] = str(8 << 20)
    try:
        with TeesparkTA() as t:
            assert t.get_info().heap_bytes == 8 << 20
            t.install_dev_key(IN_SLOT, KEY_IN)
            t.install_dev_key(OUT_SLOT, KEY_OUT)
            yield t
    finally:
        if saved is None:
            os.environ.pop("TEESPARK_TA_DATA_SIZE", None)
        else:
            os.environ["TEESPARK_TA_DATA_SIZE"] = saved


def base(mode: int, **kw: object) -> StreamRequest:
    return StreamRequest(mode=mode, out_table_id=OUT_ID, out_table_version=1,  # type: ignore[arg-type]
                         out_schema_hash=b"o" * 32, in0_key_slot=IN_SLOT,
                         out_key_slot=OUT_SLOT, **kw)


def run(ta: TeesparkTA, req: StreamRequest | bytes, inputs: Sequence[bytes],
        out_row_size: int) -> tuple[np.ndarray, int, list[int]]:
    """One STREAM call: (output rows as uint8[n, out_row_size], real, block row counts)."""
    packed = req if isinstance(req, bytes) else pack_stream_request(req)
    desc, blocks, n, real = stream(ta, packed, inputs, OUT_BUF)
    d = verify_table_descriptor(KEY_OUT, desc)
    assert d.row_count == n and d.row_size == out_row_size
    raw, counts = open_blocks(blocks)
    assert sum(counts) == n
    return np.frombuffer(raw, np.uint8).reshape(n, out_row_size), real, counts


def expect_bad_request(ta: TeesparkTA, req: StreamRequest | bytes,
                       inputs: Sequence[bytes]) -> None:
    packed = req if isinstance(req, bytes) else pack_stream_request(req)
    with pytest.raises(EnclaveError) as e:
        stream(ta, packed, inputs, OUT_BUF)
    assert e.value.code == c.TS_ERROR_BAD_REQUEST, hex(e.value.code)


# --------------------------------------------------------------------- MAP

# Input (27 bytes): null bitmap | id int64 not null | x int32 | f float64 |
# name string(6). Bit 1: x NULL, bit 2: f NULL, bit 3: name NULL.
MSCHEMA = Schema.from_spec("id:int64 not null, x:int32, f:float64, name:string(6)")
MROW = np.dtype([("nb", "u1"), ("id", "<i8"), ("x", "<i4"), ("f", "<f8"), ("name", "V6")])
assert MROW.itemsize == MSCHEMA.row_size == 27
# Output: [flag word | row index | id, x + 1, f * 2, name in MSCHEMA's layout].
OUT_BASE = 16
OROW = np.dtype([("flag", "<u8"), ("seq", "<u8"), ("nb", "u1"), ("id", "<i8"), ("y", "<i4"),
                 ("g", "<f8"), ("name", "V6")])


def make_map_rows(n: int, seed: int, x_range: tuple[int, int] = (-20, 40)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r = np.zeros(n, MROW)
    r["id"] = rng.integers(-2**62, 2**62, n)
    r["x"] = rng.integers(*x_range, n)
    r["f"] = np.round(rng.normal(0, 50, n), 3)
    r["name"] = rng.integers(0, 256, (n, 6), dtype=np.uint8).view("V6")[:, 0]
    r["nb"] = (rng.random(n) < 0.15) * 2 | (rng.random(n) < 0.15) * 4 | \
        (rng.random(n) < 0.15) * 8
    # NULL values hold garbage: the evaluator must not let it through.
    return r


def map_projs(shift: int) -> list[OpProj]:
    lay = {x.name: x for x in MSCHEMA.layout()}
    exprs = [("id", col("id")), ("x", col("x") + lit(1)), ("f", col("f") * lit(2.0)),
             ("name", col("name"))]
    out = []
    for name, e in exprs:
        prog = _compile(e, MSCHEMA)
        lo = lay[name]
        out.append(OpProj(prog.data, shift + lo.offset,
                          c.TS_OP_NOT_NULLABLE if name == "id" else 8 * shift + lo.index))
    return out


def map_reference(rows: np.ndarray) -> np.ndarray:
    """Projected rows (OROW without flag and seq) computed with numpy."""
    o = np.zeros(len(rows), OROW)
    xn, fn, sn = (rows["nb"] & 2) != 0, (rows["nb"] & 4) != 0, (rows["nb"] & 8) != 0
    o["nb"] = rows["nb"] & 14
    o["id"] = rows["id"]
    o["y"] = np.where(xn, 0, rows["x"] + 1)
    o["g"] = np.where(fn, 0.0, rows["f"] * 2.0)
    names = rows["name"].copy()
    names[sn] = bytes(6)
    o["name"] = names
    return o


def map_request(variant: int, predicate: bytes = b"", reveal: bool = False,
                rpb: int = 50) -> StreamRequest:
    return base(c.TS_STREAM_MAP, rows_per_block=rpb, out_row_size=OROW.itemsize,
                variant=variant, aux_offset=8 if variant & c.TS_STREAM_MAP_SEQ else 0,
                predicate=predicate, projections=map_projs(OUT_BASE), reveal=reveal)


def load_map(ta: TeesparkTA, rows: np.ndarray, rpb: int, tid: bytes = b"stream-map-input") \
        -> bytes:
    blocks, desc = seal(rows, MROW.itemsize, rpb, tid)
    ta.register_table(desc, IN_SLOT)
    return blocks


@pytest.mark.parametrize("n,in_rpb,out_rpb", [(700, 64, 50), (1, 4, 3), (129, 128, 7)])
def test_map_flag_seq_matches_numpy(sta: TeesparkTA, n: int, in_rpb: int, out_rpb: int) -> None:
    rows = make_map_rows(n, seed=n)
    blocks = load_map(sta, rows, in_rpb)
    pred = _compile(col("x") > lit(10), MSCHEMA).data
    out, real, counts = run(sta, map_request(c.TS_STREAM_MAP_FLAG | c.TS_STREAM_MAP_SEQ, pred,
                                             reveal=True, rpb=out_rpb), [blocks], OROW.itemsize)
    assert len(out) == n and counts == [min(out_rpb, n - i) for i in range(0, n, out_rpb)]
    keep = ((rows["nb"] & 2) == 0) & (rows["x"] > 10)        # NULL > 10 is not TRUE
    assert real == int(keep.sum())
    assert 0 < real < n or n == 1
    want = map_reference(rows)
    want["flag"] = 1
    want["seq"] = np.arange(n)
    want[~keep] = np.zeros(1, OROW)
    assert out.tobytes() == want.tobytes()


def test_map_projections_only(sta: TeesparkTA) -> None:
    rows = make_map_rows(333, seed=3)
    blocks = load_map(sta, rows, 40)
    out, real, _ = run(sta, map_request(0), [blocks], OROW.itemsize)
    assert real == 0
    assert out.tobytes() == map_reference(rows).tobytes()


def test_map_copy_row_with_seq(sta: TeesparkTA) -> None:
    rows = make_map_rows(250, seed=4)
    blocks = load_map(sta, rows, 32)
    rs = MROW.itemsize
    req = base(c.TS_STREAM_MAP, rows_per_block=64, out_row_size=rs + 13,
               variant=c.TS_STREAM_MAP_SEQ, aux_offset=rs + 5, pk_offset=2)
    out, _, _ = run(sta, req, [blocks], rs + 13)
    assert out[:, 2:2 + rs].tobytes() == rows.tobytes()
    assert (out[:, rs + 5:rs + 13].copy().view("<u8")[:, 0] == np.arange(250)).all()
    assert not out[:, :2].any() and not out[:, 2 + rs:rs + 5].any()


@pytest.mark.parametrize("what", ["none", "all", "no-predicate"])
def test_map_nothing_or_all_passing(sta: TeesparkTA, what: str) -> None:
    rows = make_map_rows(300, seed=5, x_range=(0, 100))
    rows["nb"] &= ~np.uint8(2)                               # x never NULL
    blocks = load_map(sta, rows, 64)
    pred = {"none": _compile(col("x") > lit(1000), MSCHEMA).data,
            "all": _compile(col("x") >= lit(0), MSCHEMA).data, "no-predicate": b""}[what]
    out, real, _ = run(sta, map_request(c.TS_STREAM_MAP_FLAG, pred, reveal=True),
                       [blocks], OROW.itemsize)
    if what == "none":
        assert real == 0 and not out.any()
    else:
        want = map_reference(rows)
        want["flag"] = 1
        assert real == len(rows) and out.tobytes() == want.tobytes()


def test_map_empty_input(sta: TeesparkTA) -> None:
    blocks = load_map(sta, np.zeros(0, MROW), 16)
    pred = _compile(col("x") > lit(10), MSCHEMA).data
    out, real, counts = run(sta, map_request(c.TS_STREAM_MAP_FLAG | c.TS_STREAM_MAP_SEQ, pred,
                                             reveal=True), [blocks], OROW.itemsize)
    assert len(out) == 0 and real == 0 and counts == [0]


def test_map_wide_rows_many_chunks(sta: TeesparkTA) -> None:
    # 2500-row input blocks: the evaluator runs in several batches per block.
    rows = make_map_rows(5000, seed=6)
    blocks = load_map(sta, rows, 2500)
    pred = _compile((col("f") < lit(0.0)) | col("name").is_null(), MSCHEMA).data
    out, real, _ = run(sta, map_request(c.TS_STREAM_MAP_FLAG | c.TS_STREAM_MAP_SEQ, pred,
                                        reveal=True, rpb=999), [blocks], OROW.itemsize)
    keep = (((rows["nb"] & 4) == 0) & (rows["f"] < 0)) | ((rows["nb"] & 8) != 0)
    want = map_reference(rows)
    want["flag"] = 1
    want["seq"] = np.arange(len(rows))
    want[~keep] = np.zeros(1, OROW)
    assert real == int(keep.sum())
    assert out.tobytes() == want.tobytes()


# ------------------------------------------------------------------- joins

# The sorted union of a WIDEN: side | 7 | key int64 | null byte (bit 0:
# key NULL) | 7 | PK part (8) | FK part (16).
UROW = np.dtype([("side", "u1"), ("p0", "V7"), ("k", "<i8"), ("nb", "u1"), ("p1", "V7"),
                 ("pk", "V8"), ("fk", "V16")])
PK_OFF, PK_SIZE = 24, 8
JKEY = [StreamKey("int", 8, 8, nullable=True, null_offset=16, null_bit=0)]


def make_union(n0: int, n1: int, seed: int, *, dup: bool = False,
               null_pk: int = 2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pk = np.zeros(n0, UROW)
    pk["k"] = rng.permutation(np.arange(0, 3 * max(n0, 1)))[:n0]
    if dup and n0 > 8:
        pk["k"][5:8] = pk["k"][8]                   # one key four times
    pk["nb"][:min(null_pk, n0)] = 1                  # NULL keys never match
    pk["pk"] = rng.integers(0, 256, (n0, 8), dtype=np.uint8).view("V8")[:, 0]
    fk = np.zeros(n1, UROW)
    fk["side"] = 1
    fk["k"] = rng.integers(-2, 3 * max(n0, 1) + 2, n1)
    fk["nb"] = rng.random(n1) < 0.1
    # Garbage in the FK rows' PK part: INNER replaces it, OUTER zeroes it
    # when unmatched, SEMI and ANTI keep it.
    fk["pk"] = rng.integers(0, 256, (n1, 8), dtype=np.uint8).view("V8")[:, 0]
    fk["fk"] = rng.integers(0, 256, (n1, 16), dtype=np.uint8).view("V16")[:, 0]
    u = np.concatenate([pk, fk])
    u["k"][u["nb"] == 1] = 0                          # a NULL key's bytes are 0
    # Sorted by (key: NULLs last, side).
    return u[np.lexsort((u["side"], u["k"], u["nb"]))]


def join_reference(u: np.ndarray, variant: int) -> tuple[np.ndarray, int]:
    """Expected output rows (flag word | row) with dictionaries and sets."""
    pk_rows = {int(r["k"]): r["pk"] for r in u if r["side"] == 0 and r["nb"] == 0}
    out = np.zeros(len(u), np.dtype([("flag", "u1"), ("matched", "u1"), ("p", "V6"),
                                     ("row", UROW)]))
    for i, r in enumerate(u):
        if r["side"] == 0:
            continue
        matched = r["nb"] == 0 and int(r["k"]) in pk_rows
        row = r.copy()
        if variant == c.TS_STREAM_JOIN_INNER and matched:
            row["pk"] = pk_rows[int(r["k"])]
        if variant == c.TS_STREAM_JOIN_OUTER:
            row["pk"] = pk_rows[int(r["k"])] if matched else bytes(8)
        keep = {c.TS_STREAM_JOIN_INNER: matched, c.TS_STREAM_JOIN_OUTER: True,
                c.TS_STREAM_JOIN_SEMI: matched, c.TS_STREAM_JOIN_ANTI: not matched}[variant]
        if keep:
            out["flag"][i] = 1
            out["matched"][i] = matched and variant == c.TS_STREAM_JOIN_OUTER
            out["row"][i] = row
    return out, int(out["flag"].sum())


def pandas_join_count(u: np.ndarray, variant: int) -> int:
    """The number of flagged rows by pandas (merge / isin)."""
    df = pd.DataFrame({"k": pd.array(u["k"], "Int64"), "side": u["side"]})
    df.loc[u["nb"] == 1, "k"] = pd.NA
    pk = df[df["side"] == 0][["k"]].dropna()
    fk = df[df["side"] == 1][["k"]]
    if variant == c.TS_STREAM_JOIN_INNER:
        return len(pd.merge(fk.dropna(), pk, on="k"))
    if variant == c.TS_STREAM_JOIN_OUTER:
        return len(fk)
    hit = fk["k"].isin(pk["k"]).fillna(False).to_numpy(bool) & fk["k"].notna().to_numpy()
    return int(hit.sum()) if variant == c.TS_STREAM_JOIN_SEMI else int((~hit).sum())


def join_request(variant: int) -> StreamRequest:
    pk = variant in (c.TS_STREAM_JOIN_INNER, c.TS_STREAM_JOIN_OUTER)
    return base(c.TS_STREAM_JOIN_PKFK, keys=JKEY, variant=variant, reveal=True,
                pk_offset=PK_OFF if pk else 0, pk_size=PK_SIZE if pk else 0)


VARIANTS = [c.TS_STREAM_JOIN_INNER, c.TS_STREAM_JOIN_OUTER, c.TS_STREAM_JOIN_SEMI,
            c.TS_STREAM_JOIN_ANTI]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("n0,n1,rpb", [(60, 400, 37), (0, 20, 8), (25, 0, 8), (1, 1, 1)])
def test_join_variants_match_reference(sta: TeesparkTA, variant: int, n0: int, n1: int,
                                       rpb: int) -> None:
    u = make_union(n0, n1, seed=n0 * 7 + n1)
    blocks, desc = seal(u, UROW.itemsize, rpb, b"stream-join-uni!")
    sta.register_table(desc, IN_SLOT)
    out, real, counts = run(sta, join_request(variant), [blocks], FLAG + UROW.itemsize)
    want, m = join_reference(u, variant)
    assert counts == [min(rpb, len(u) - i) for i in range(0, len(u), rpb)] or len(u) == 0
    assert real == m == pandas_join_count(u, variant)
    assert out.tobytes() == want.tobytes()


@pytest.mark.parametrize("variant", [c.TS_STREAM_JOIN_SEMI, c.TS_STREAM_JOIN_ANTI])
def test_join_semi_anti_allow_repeated_keys(sta: TeesparkTA, variant: int) -> None:
    u = make_union(40, 200, seed=11, dup=True)
    u0 = u[u["side"] == 0]
    assert len(np.unique(u0["k"][u0["nb"] == 0])) < (u0["nb"] == 0).sum()
    blocks, desc = seal(u, UROW.itemsize, 16, b"stream-join-dup!")
    sta.register_table(desc, IN_SLOT)
    out, real, _ = run(sta, join_request(variant), [blocks], FLAG + UROW.itemsize)
    want, m = join_reference(u, variant)
    assert real == m == pandas_join_count(u, variant) and m > 0
    assert out.tobytes() == want.tobytes()


@pytest.mark.parametrize("variant", [c.TS_STREAM_JOIN_INNER, c.TS_STREAM_JOIN_OUTER])
def test_join_inner_outer_reject_repeated_keys(sta: TeesparkTA, variant: int) -> None:
    u = make_union(40, 200, seed=11, dup=True)
    blocks, desc = seal(u, UROW.itemsize, 16, b"stream-join-dup!")
    sta.register_table(desc, IN_SLOT)
    with pytest.raises(EnclaveError) as e:
        stream(sta, pack_stream_request(join_request(variant)), [blocks], OUT_BUF)
    assert e.value.code == c.TS_ERROR_PK_DUPLICATE
    # Repeated NULL keys are no duplicates (make_union gives two by default).
    u = make_union(40, 200, seed=11)
    blocks, desc = seal(u, UROW.itemsize, 16, b"stream-join-nul!")
    sta.register_table(desc, IN_SLOT)
    out, real, _ = run(sta, join_request(variant), [blocks], FLAG + UROW.itemsize)
    assert out.tobytes() == join_reference(u, variant)[0].tobytes()


# ------------------------------------------------------------------- WIDEN


def test_widen_without_side_byte_is_a_union(sta: TeesparkTA) -> None:
    rng = np.random.default_rng(12)
    rs = 24
    a = rng.integers(0, 256, 100 * rs, dtype=np.uint8).tobytes()
    b = rng.integers(0, 256, 37 * rs, dtype=np.uint8).tobytes()
    ba, da = seal(a, rs, 16, b"stream-widen-a!!")
    bb, db = seal(b, rs, 10, b"stream-widen-b!!")
    sta.register_table(da, IN_SLOT)
    sta.register_table(db, IN_SLOT)
    req = base(c.TS_STREAM_WIDEN, in1_key_slot=IN_SLOT, rows_per_block=30, out_row_size=rs,
               side_offset=c.TS_STREAM_NO_SIDE, in0_bytes=len(ba))
    out, _, counts = run(sta, req, [ba, bb], rs)
    assert out.tobytes() == a + b and counts == [30, 30, 30, 30, 17]
    # A wider row: nothing but the row (and the copies) is written.
    req = base(c.TS_STREAM_WIDEN, in1_key_slot=IN_SLOT, rows_per_block=64,
               out_row_size=rs + 16, side_offset=c.TS_STREAM_NO_SIDE, pk_offset=8,
               fk_offset=8, in0_bytes=len(ba), copies=[StreamCopy(0, 4, 0, 4)])
    out, _, _ = run(sta, req, [ba, bb], rs + 16)
    rows = np.frombuffer(a + b, np.uint8).reshape(-1, rs)
    assert out[:, 8:8 + rs].tobytes() == rows.tobytes()
    assert out[:100, 0:4].tobytes() == rows[:100, 0:4].tobytes()
    assert out[100:, 0:4].tobytes() == rows[100:, 4:8].tobytes()
    assert not out[:, 4:8].any() and not out[:, 8 + rs:].any()


# --------------------------------------------------------------- AGGREGATE

# Input (41 bytes): g int64 | x float64 | i int32 | s bytes(12) | null byte
# (bit 0: x, bit 1: i, bit 2: s, bit 3: v NULL) | v int64.
AROW = np.dtype([("g", "<i8"), ("x", "<f8"), ("i", "<i4"), ("s", "V12"), ("nb", "u1"),
                 ("v", "<i8")])
NEG_ZERO = struct.unpack("<d", struct.pack("<Q", 1 << 63))[0]
NANS = [struct.unpack("<d", struct.pack("<Q", b))[0]
        for b in (0x7FF8000000000000, 0xFFF8000000000001, 0x7FF0000000000123)]
CD_COLS = {"x": StreamAgg(c.TS_AGG_COUNT_DISTINCT, "float64", 8, 8, True, 32, 0),
           "i": StreamAgg(c.TS_AGG_COUNT_DISTINCT, "int", 16, 4, True, 32, 1),
           "s": StreamAgg(c.TS_AGG_COUNT_DISTINCT, "bytes", 20, 12, True, 32, 2)}
NULL_BIT = {"x": 1, "i": 2, "s": 4}


def make_agg_rows(n: int, groups: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r = np.zeros(n, AROW)
    r["g"] = rng.integers(0, max(groups, 1), n)
    pool = np.array([0.0, NEG_ZERO, 1.5, -1.5, 2.25, math.inf, -math.inf] + NANS)
    r["x"] = pool[rng.integers(0, len(pool), n)]
    r["i"] = rng.integers(-4, 5, n)
    s = np.zeros((n, 12), np.uint8)
    s[:, 0] = rng.integers(97, 100, n)
    s[:, 11] = rng.integers(0, 2, n)            # differs in the second key word
    r["s"] = s.view("V12")[:, 0]
    r["nb"] = rng.integers(0, 16, n) * (rng.random(n) < 0.3)
    r["v"] = rng.integers(-100, 100, n)
    return r


def _x_ord(x: float) -> tuple[int, float]:
    """Spark's double order: -0.0 == 0.0, every NaN equal and last."""
    return (1, 0.0) if math.isnan(x) else (0, 0.0 if x == 0 else x)


def _value(r: np.void, name: str) -> object:
    if name == "x":
        return _x_ord(float(r["x"]))
    return int(r["i"]) if name == "i" else bytes(r["s"])


def sort_for_distinct(rows: np.ndarray, name: str, seed: int, keyed: bool = True) \
        -> np.ndarray:
    """Sorted by (g, the column); NULL rows land anywhere in their group."""
    rng = np.random.default_rng(seed)
    vals = [_value(r, name) for r in rows]
    order = sorted(range(len(rows)), key=lambda k: vals[k])
    rank = np.empty(len(rows), np.float64)
    rank[order] = np.arange(len(rows))
    nulls = (rows["nb"] & NULL_BIT[name]) != 0
    rank[nulls] = rng.uniform(-1, len(rows), int(nulls.sum()))
    g = rows["g"] if keyed else np.zeros(len(rows), np.int64)
    return rows[np.lexsort((rank, g))]


def distinct_reference(rows: np.ndarray, name: str) -> int:
    """COUNT(DISTINCT) of one group with a Python set."""
    return len({_value(r, name) for r in rows if not r["nb"] & NULL_BIT[name]})


def agg_output(out: np.ndarray, rs: int, naggs: int) -> tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    base_ = FLAG + ((rs + 7) & ~7)
    vals = out[:, base_:base_ + 8 * naggs].copy().view("<i8")
    nulls = out[:, base_ + 8 * naggs:base_ + 9 * naggs]
    return out[:, 0], vals, nulls


def agg_row_size(rs: int, naggs: int) -> int:
    return FLAG + ((rs + 7) & ~7) + 8 * naggs + ((naggs + 7) & ~7)


@pytest.mark.parametrize("name", ["x", "i", "s"])
@pytest.mark.parametrize("n,groups,rpb", [(400, 30, 32), (60, 1, 7), (1, 1, 4)])
def test_count_distinct_matches_sets(sta: TeesparkTA, name: str, n: int, groups: int,
                                     rpb: int) -> None:
    rows = sort_for_distinct(make_agg_rows(n, groups, seed=n + groups), name, seed=n)
    blocks, desc = seal(rows, AROW.itemsize, rpb, b"stream-distinct!")
    sta.register_table(desc, IN_SLOT)
    aggs = [StreamAgg(c.TS_AGG_COUNT_STAR), CD_COLS[name],
            StreamAgg(c.TS_AGG_SUM, "int", 33, 8, True, 32, 3), CD_COLS[name]]
    req = base(c.TS_STREAM_AGGREGATE, keys=[StreamKey("int", 0, 8)], aggs=aggs, reveal=True)
    out, real, _ = run(sta, req, [blocks], agg_row_size(AROW.itemsize, 4))
    flag, vals, nulls = agg_output(out, AROW.itemsize, 4)
    last = np.append(rows["g"][1:] != rows["g"][:-1], True)
    assert (flag == last).all() and real == len(np.unique(rows["g"]))
    assert not out[~last].any()                                   # dummies all zero
    df = pd.DataFrame({"g": rows["g"], "v": np.where(rows["nb"] & 8, 0, rows["v"])})
    sums = df.groupby("g")["v"].sum()
    for i in np.flatnonzero(last):
        grp = rows[rows["g"] == rows["g"][i]]
        want = distinct_reference(grp, name)
        assert vals[i, 1] == vals[i, 3] == want, (i, name)
        assert vals[i, 0] == len(grp) and vals[i, 2] == sums[rows["g"][i]]
        assert not nulls[i, [0, 1, 3]].any()
    if name == "x" and n > 100:
        # -0.0 / 0.0 and the NaN payloads collapse: fewer than the raw bit patterns.
        assert vals[last, 1].sum() < sum(len(set(rows["x"][rows["g"] == g].view("<u8")))
                                         for g in np.unique(rows["g"]))


@pytest.mark.parametrize("name", ["x", "i", "s"])
def test_count_distinct_restarts_per_group(sta: TeesparkTA, name: str) -> None:
    # Every group holds the same one or two values (-0.0 and 0.0 are one):
    # a count that does not restart at a group boundary sees no new value.
    rows = make_agg_rows(120, 12, seed=23)
    rows["x"] = np.where(np.arange(120) % 2, 0.0, NEG_ZERO)
    rows["i"] = 7
    rows["s"] = np.frombuffer(b"same-value!!", "V12")[0]
    rows = sort_for_distinct(rows, name, seed=24)
    blocks, desc = seal(rows, AROW.itemsize, 16, b"stream-distinct1")
    sta.register_table(desc, IN_SLOT)
    req = base(c.TS_STREAM_AGGREGATE, keys=[StreamKey("int", 0, 8)], aggs=[CD_COLS[name]])
    out, _, _ = run(sta, req, [blocks], agg_row_size(AROW.itemsize, 1))
    flag, vals, _ = agg_output(out, AROW.itemsize, 1)
    for i in np.flatnonzero(flag):
        grp = rows[rows["g"] == rows["g"][i]]
        assert vals[i, 0] == distinct_reference(grp, name) == \
            int(((grp["nb"] & NULL_BIT[name]) == 0).any())


def test_aggregate_without_keys_is_one_group(sta: TeesparkTA) -> None:
    rows = sort_for_distinct(make_agg_rows(500, 7, seed=21), "x", seed=2, keyed=False)
    blocks, desc = seal(rows, AROW.itemsize, 64, b"stream-global!!!")
    sta.register_table(desc, IN_SLOT)
    aggs = [StreamAgg(c.TS_AGG_COUNT_STAR), StreamAgg(c.TS_AGG_SUM, "int", 33, 8, True, 32, 3),
            StreamAgg(c.TS_AGG_MIN, "int", 16, 4, True, 32, 1),
            StreamAgg(c.TS_AGG_MAX, "int", 16, 4, True, 32, 1),
            StreamAgg(c.TS_AGG_COUNT, "float64", 8, 8, True, 32, 0), CD_COLS["x"]]
    req = base(c.TS_STREAM_AGGREGATE, aggs=aggs, reveal=True)
    out, real, _ = run(sta, req, [blocks], agg_row_size(AROW.itemsize, len(aggs)))
    flag, vals, nulls = agg_output(out, AROW.itemsize, len(aggs))
    assert real == 1 and flag[-1] == 1 and not out[:-1].any()
    v = pd.Series(rows["v"]).where((rows["nb"] & 8) == 0)
    i = pd.Series(rows["i"]).where((rows["nb"] & 2) == 0)
    assert vals[-1, 0] == len(rows) and vals[-1, 1] == v.sum()
    assert vals[-1, 2] == i.min() and vals[-1, 3] == i.max()
    assert vals[-1, 4] == int(((rows["nb"] & 1) == 0).sum())
    assert vals[-1, 5] == distinct_reference(rows, "x")
    assert not nulls[-1].any()
    # The representative row is the input's last row.
    assert out[-1, FLAG:FLAG + AROW.itemsize].tobytes() == rows[-1:].tobytes()


def test_aggregate_without_keys_empty_input(sta: TeesparkTA) -> None:
    blocks, desc = seal(np.zeros(0, AROW), AROW.itemsize, 8, b"stream-global-0!")
    sta.register_table(desc, IN_SLOT)
    req = base(c.TS_STREAM_AGGREGATE, aggs=[StreamAgg(c.TS_AGG_COUNT_STAR), CD_COLS["i"]],
               reveal=True)
    out, real, counts = run(sta, req, [blocks], agg_row_size(AROW.itemsize, 2))
    assert len(out) == 0 and real == 0 and counts == [0]


def test_aggregate_without_keys_all_null_distinct(sta: TeesparkTA) -> None:
    rows = make_agg_rows(50, 1, seed=22)
    rows["nb"] |= 4
    blocks, desc = seal(rows, AROW.itemsize, 8, b"stream-global-n!")
    sta.register_table(desc, IN_SLOT)
    req = base(c.TS_STREAM_AGGREGATE, aggs=[CD_COLS["s"]], reveal=True)
    out, real, _ = run(sta, req, [blocks], agg_row_size(AROW.itemsize, 1))
    _flag, vals, nulls = agg_output(out, AROW.itemsize, 1)
    assert real == 1 and vals[-1, 0] == 0 and nulls[-1, 0] == 0


# ------------------------------------------------------------ request checks


def test_map_rejects_bad_requests(sta: TeesparkTA) -> None:
    rows = make_map_rows(40, seed=30)
    blocks = load_map(sta, rows, 16)
    pred = _compile(col("x") > lit(10), MSCHEMA).data
    F, S = c.TS_STREAM_MAP_FLAG, c.TS_STREAM_MAP_SEQ
    good = map_request(F | S, pred, reveal=True)
    run(sta, good, [blocks], OROW.itemsize)                      # the checks can pass
    other = Schema.from_spec("id:int64 not null, x:int32")
    bad_projs = [
        [OpProj(_compile(col("x"), MSCHEMA).data, 4)],               # overlaps the flag word
        [OpProj(_compile(col("x"), MSCHEMA).data, 10)],              # overlaps the row index
        [OpProj(_compile(col("x"), MSCHEMA).data, OROW.itemsize - 3)],   # beyond the row
        [OpProj(_compile(col("x"), MSCHEMA).data, 20, 3)],           # NULL bit in the flag word
        [OpProj(_compile(col("x"), MSCHEMA).data, 20, 8 * 20 + 1)],  # NULL bit in the value
        [OpProj(_compile(col("x"), other).data, 20)],                # program for other rows
    ]
    cases: list[StreamRequest | bytes] = [
        map_request(S, pred),                                    # predicate without MAP_FLAG
        map_request(S, reveal=True),                             # reveal without MAP_FLAG
        map_request(F | S | 4),                                  # unknown variant bit
        map_request(F, _compile(col("x") + lit(1), MSCHEMA).data),   # not boolean
        map_request(F, _compile(col("x") > lit(1), other).data),  # other row size
        map_request(F, b"\x00" * 16),                             # not a program
        base(c.TS_STREAM_MAP, rows_per_block=8, out_row_size=OROW.itemsize, aux_offset=8,
             projections=map_projs(OUT_BASE)),                   # aux_offset without SEQ
        base(c.TS_STREAM_MAP, rows_per_block=8, out_row_size=OROW.itemsize, variant=S,
             aux_offset=OROW.itemsize - 7, projections=map_projs(OUT_BASE)),  # index beyond
        base(c.TS_STREAM_MAP, rows_per_block=8, out_row_size=OROW.itemsize, variant=F | S,
             aux_offset=4, projections=map_projs(OUT_BASE)),     # index in the flag word
        base(c.TS_STREAM_MAP, rows_per_block=8, out_row_size=OROW.itemsize, pk_offset=8,
             projections=map_projs(OUT_BASE)),                   # pk_offset with projections
        base(c.TS_STREAM_MAP, rows_per_block=8, out_row_size=MROW.itemsize + 7,
             variant=F, pk_offset=8),                            # the row does not fit
        base(c.TS_STREAM_MAP, rows_per_block=8, out_row_size=MROW.itemsize + 8,
             variant=F, pk_offset=4),                            # the row over the flag word
        base(c.TS_STREAM_MAP, rows_per_block=0, out_row_size=OROW.itemsize),  # no capacity
        base(c.TS_STREAM_MAP, rows_per_block=8, out_row_size=OROW.itemsize,
             keys=[StreamKey("int", 1, 8)], projections=map_projs(OUT_BASE)),  # stray key
        pack_stream_request(good) + bytes(8),                    # trailing body bytes
        pack_stream_request(good)[:-8],                          # truncated body
    ]
    for projs in bad_projs:
        cases.append(base(c.TS_STREAM_MAP, rows_per_block=8, out_row_size=OROW.itemsize,
                          variant=F | S, aux_offset=8, projections=projs))
    for i, req in enumerate(cases):
        try:
            expect_bad_request(sta, req, [blocks])
        except AssertionError as e:
            raise AssertionError(f"case {i}: {e}") from None


def test_other_modes_reject_bad_requests(sta: TeesparkTA) -> None:
    u = make_union(10, 30, seed=31)
    ub, ud = seal(u, UROW.itemsize, 8, b"stream-bad-union")
    sta.register_table(ud, IN_SLOT)
    rows = make_agg_rows(30, 3, seed=32)
    ab, ad = seal(rows, AROW.itemsize, 8, b"stream-bad-aggr!")
    sta.register_table(ad, IN_SLOT)
    join = join_request(c.TS_STREAM_JOIN_SEMI)
    agg = base(c.TS_STREAM_AGGREGATE, keys=[StreamKey("int", 0, 8)],
               aggs=[CD_COLS["x"], CD_COLS["x"]])
    widen = base(c.TS_STREAM_WIDEN, in1_key_slot=IN_SLOT, rows_per_block=8,
                 out_row_size=AROW.itemsize, side_offset=c.TS_STREAM_NO_SIDE,
                 in0_bytes=len(ab))
    limit = base(c.TS_STREAM_LIMIT, rows_per_block=8, out_row_size=8, limit=5)
    # The good requests work: the rejections below are not vacuous.
    run(sta, join, [ub], FLAG + UROW.itemsize)
    run(sta, agg, [ab], agg_row_size(AROW.itemsize, 2))
    run(sta, widen, [ab, ab], AROW.itemsize)
    run(sta, limit, [ab], 8)
    cases: list[tuple[StreamRequest | bytes, list[bytes]]] = [
        (replace(join, variant=4), [ub]),                          # no such variant
        (replace(join, aux_offset=8), [ub]),                       # aux_offset on a join
        (replace(join, pk_offset=PK_OFF, pk_size=PK_SIZE), [ub]),  # SEMI has no PK part
        (replace(join, side_offset=c.TS_STREAM_NO_SIDE), [ub]),    # a join needs the side
        (replace(join, keys=()), [ub]),                            # a join needs a key
        (replace(agg, variant=1), [ab]),                           # AGGREGATE has no variant
        (replace(agg, aggs=[CD_COLS["x"], CD_COLS["i"]]), [ab]),   # two distinct columns
        (replace(agg, aggs=[CD_COLS["i"], replace(CD_COLS["i"], width=8)]), [ab]),
        (replace(agg, aggs=[CD_COLS["s"], replace(CD_COLS["s"], null_bit=3)]), [ab]),
        (replace(widen, variant=1), [ab, ab]),                     # WIDEN has no variant
        (replace(widen, side_offset=AROW.itemsize), [ab, ab]),     # side byte beyond the row
        (replace(limit, variant=2), [ab]),                         # LIMIT has no variant
        (replace(limit, predicate=_compile(col("x") > lit(1), MSCHEMA).data), [ab]),
        (pack_stream_request(limit) + bytes(16), [ab]),            # a body on LIMIT
    ]
    for i, (req, inputs) in enumerate(cases):
        try:
            expect_bad_request(sta, req, inputs)
        except AssertionError as e:
            raise AssertionError(f"case {i}: {e}") from None
