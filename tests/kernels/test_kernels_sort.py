"""obl_sort_bitonic (directly, and behind obl_key_encode) against Python's
sorted(): the output must be an ordered permutation of the input, with
exactly the key order of the reference."""
from __future__ import annotations

import functools
import math
import struct
from typing import List, Sequence, Tuple

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kernels_ctypes import (KEY_BYTES, KEY_FLOAT64, KEY_INT, KEY_UINT, Column,
                      pack_value)

U64 = st.integers(min_value=0, max_value=2**64 - 1)
SETTINGS = settings(max_examples=150, deadline=None)


def records_strategy(key_words: int, payload_words: int, max_n: int = 300):
    """Lists of records (tuples of uint64) with keys from a small or a full
    range, so duplicates are frequent in some examples."""
    key = st.one_of(st.integers(min_value=0, max_value=3), U64,
                    st.sampled_from([0, 1, 2**63 - 1, 2**63, 2**64 - 1]))
    rec = st.tuples(*([key] * key_words), *([U64] * payload_words))
    return st.lists(rec, min_size=0, max_size=max_n)


def check_sorted_permutation(kernels, recs: List[Tuple[int, ...]], key_words: int) -> None:
    per = key_words + 2
    arr = np.array(recs, dtype=np.uint64).reshape(len(recs), per)
    got = [tuple(int(x) for x in row) for row in kernels.sort_records(arr, key_words)]
    want = sorted(recs, key=lambda r: r[:key_words])
    assert [r[:key_words] for r in got] == [r[:key_words] for r in want]
    assert sorted(got) == sorted(recs)


@SETTINGS
@given(st.lists(st.one_of(st.integers(0, 3), U64), max_size=300))
def test_sort_one_key_word_is_ordered_permutation(kernels, keys):
    # 16-byte records (key, row id): the AVX2 path
    n = len(keys)
    arr = np.array([(k, i) for i, k in enumerate(keys)], dtype=np.uint64).reshape(n, 2)
    got = [(int(k), int(i)) for k, i in kernels.sort_records(arr, 1)]
    assert [k for k, _ in got] == sorted(keys)
    assert sorted(i for _, i in got) == list(range(n))
    assert all(keys[i] == k for k, i in got)


@SETTINGS
@given(st.integers(min_value=1, max_value=3).flatmap(
    lambda kw: st.tuples(st.just(kw), records_strategy(kw, 2))))
def test_sort_multi_word_keys_is_ordered_permutation(kernels, kw_recs):
    kw, recs = kw_recs
    check_sorted_permutation(kernels, recs, kw)


def test_sort_edge_sizes_and_orders(kernels):
    rng = np.random.default_rng(7)
    for n in [0, 1, 2, 3, 5, 7, 9, 31, 33, 100, 1000, 1023, 1025, 4097]:
        base = rng.integers(0, 2**63, size=n, dtype=np.uint64)
        for keys in (base, np.sort(base), np.sort(base)[::-1],
                     np.full(n, 42, dtype=np.uint64), base % 3):
            arr = np.stack([keys, np.arange(n, dtype=np.uint64)], axis=1) if n else \
                np.zeros((0, 2), dtype=np.uint64)
            out = kernels.sort_records(arr, 1)
            assert list(out[:, 0]) == sorted(keys.tolist())
            assert sorted(out[:, 1].tolist()) == list(range(n))


# --- typed multi-column keys through obl_key_encode ---------------------------

def column_strategy():
    uint = st.sampled_from([1, 2, 4, 8]).map(lambda w: (KEY_UINT, w))
    sint = st.sampled_from([1, 2, 4, 8]).map(lambda w: (KEY_INT, w))
    flt = st.just((KEY_FLOAT64, 8))
    byt = st.integers(min_value=1, max_value=20).map(lambda w: (KEY_BYTES, w))
    return st.tuples(st.one_of(uint, sint, flt, byt), st.booleans()).map(
        lambda t: Column(t[0][0], t[0][1], t[1]))


def value_strategy(col: Column):
    if col.type == KEY_UINT:
        top = 2 ** (8 * col.width) - 1
        return st.one_of(st.integers(0, 3), st.integers(0, top), st.sampled_from([0, top]))
    if col.type == KEY_INT:
        lo, hi = -(2 ** (8 * col.width - 1)), 2 ** (8 * col.width - 1) - 1
        return st.one_of(st.integers(-2, 2), st.integers(lo, hi), st.sampled_from([lo, hi]))
    if col.type == KEY_FLOAT64:
        return st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.sampled_from([0.0, -0.0, math.inf, -math.inf, math.nan, 1.0, -1.0,
                             5e-324, -5e-324]),
            # NaNs with other payloads and sign bits must all compare equal
            st.sampled_from([0x7ff0000000000001, 0xfff8000000000000,
                             0xffffffffffffffff]).map(
                lambda b: struct.unpack("<d", b.to_bytes(8, "little"))[0]))
    alphabet = st.sampled_from([0, 1, 0x61, 0x7f, 0x80, 0xff])
    return st.lists(alphabet, max_size=col.width).map(bytes)


def table_strategy():
    """(columns, rows): rows are tuples of column values plus a row id."""
    return st.lists(column_strategy(), min_size=1, max_size=4).flatmap(
        lambda cols: st.tuples(
            st.just(cols),
            st.lists(st.tuples(*[value_strategy(c) for c in cols]), max_size=120)))


def py_cmp_value(col: Column, a, b) -> int:
    """The documented order of one column (key_encode.h), in plain Python."""
    if col.type == KEY_FLOAT64:
        an, bn = math.isnan(a), math.isnan(b)
        if an or bn:
            r = (an > bn) - (an < bn)         # NaN last, all NaNs equal
        else:                                  # Spark: -0.0 == +0.0
            r = (a > b) - (a < b)
    else:
        if col.type == KEY_BYTES:
            a, b = bytes(a).ljust(col.width, b"\0"), bytes(b).ljust(col.width, b"\0")
        r = (a > b) - (a < b)
    return -r if col.descending else r


def key_of(cols: Sequence[Column], row) -> tuple:
    """A comparable, NaN- and zero-normalised representation of a row's key
    (equality only; the order comes from py_cmp_value)."""
    out = []
    for c, v in zip(cols, row):
        if c.type == KEY_FLOAT64:
            out.append("nan" if math.isnan(v) else v + 0.0)  # Spark: -0.0 == +0.0
        elif c.type == KEY_BYTES:
            out.append(bytes(v).ljust(c.width, b"\0"))
        else:
            out.append(v)
    return tuple(out)


def pack_row(cols: Sequence[Column], row, row_id: int) -> bytes:
    return b"".join(pack_value(c, v) for c, v in zip(cols, row)) + struct.pack("<I", row_id)


def unpack_row(cols: Sequence[Column], data: bytes):
    off, vals = 0, []
    for c in cols:
        chunk = data[off:off + c.width]
        if c.type == KEY_UINT:
            vals.append(int.from_bytes(chunk, "little"))
        elif c.type == KEY_INT:
            vals.append(int.from_bytes(chunk, "little", signed=True))
        elif c.type == KEY_FLOAT64:
            vals.append(struct.unpack("<d", chunk)[0])
        else:
            vals.append(chunk)
        off += c.width
    return tuple(vals), struct.unpack("<I", data[off:off + 4])[0]


@settings(max_examples=200, deadline=None)
@given(table_strategy())
def test_sort_typed_columns_matches_python_sorted(kernels, table):
    cols, rows = table

    def cmp_rows(a, b):
        for c, x, y in zip(cols, a, b):
            r = py_cmp_value(c, x, y)
            if r:
                return r
        return 0

    packed = [pack_row(cols, r, i) for i, r in enumerate(rows)]
    row_size = sum(c.width for c in cols) + 4
    out = kernels.sort_rows(packed, cols, row_size)
    got = [unpack_row(cols, d) for d in out]
    want = sorted(rows, key=functools.cmp_to_key(cmp_rows))
    # exact key order
    assert [key_of(cols, r) for r, _ in got] == [key_of(cols, r) for r in want]
    # a permutation: every row id once, each with its own (unchanged) row
    assert sorted(i for _, i in got) == list(range(len(rows)))
    assert sorted(out) == sorted(packed)
