"""Row codec: byte layout against a hand-computed example and an independent
per-value reference encoder (struct), round trips over every type, and the
errors that name column and row."""

from __future__ import annotations

import datetime
import decimal
import struct

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from format_helpers import assert_tables_equal, expected_table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teespark.errors import (SchemaMismatchError, TableFormatError, ValueOutOfRangeError,
                             ValueTooLongError)
from teespark.format import Column, Schema, decode_rows, encode_rows

# ---------------------------------------------------------------------------
# layout
# ---------------------------------------------------------------------------


def test_rows_match_hand_computed_bytes():
    s = Schema.from_spec("id:int64 not null, name:string(4), amt:decimal(6,2), ok:bool")
    t = pa.table({"id": pa.array([1, -2], pa.int64()), "name": ["hé", None],
                  "amt": pa.array([decimal.Decimal("-1.50"), None], pa.decimal128(6, 2)),
                  "ok": [True, False]})
    rows = encode_rows(t, s)
    assert rows.shape == (2, 22) and rows.dtype == np.uint8
    assert rows[0].tobytes().hex(" ") == (
        "00 01 00 00 00 00 00 00 00 68 c3 a9 00 6a ff ff ff ff ff ff ff 01")
    # NULL bits: column 1 (name) and 2 (amt) -> 0b110; NULL values are zeros.
    assert rows[1].tobytes().hex(" ") == (
        "06 fe ff ff ff ff ff ff ff 00 00 00 00 00 00 00 00 00 00 00 00 00")
    assert_tables_equal(decode_rows(rows, s), expected_table(t, s))


def reference_encode(rows: list[dict], schema: Schema) -> bytes:
    """Per-value reference encoder written from docs/FORMAT.md with struct."""
    out = bytearray()
    for row in rows:
        bitmap = bytearray(schema.bitmap_size)
        body = bytearray()
        for i, col in enumerate(schema.columns):
            v, ct = row[col.name], col.column_type
            if v is None:
                bitmap[i // 8] |= 1 << (i % 8)
                body += bytes(col.width)
            elif ct.kind == "int32":
                body += struct.pack("<i", v)
            elif ct.kind in ("int64", "timestamp"):
                body += struct.pack("<q", v)
            elif ct.kind == "date":
                body += struct.pack("<i", v)
            elif ct.kind == "float64":
                body += struct.pack("<d", v)
            elif ct.kind == "decimal":
                body += struct.pack("<q", int(v.scaleb(ct.scale)))
            elif ct.kind == "bool":
                body += bytes([int(v)])
            else:
                raw = v.encode("utf-8")
                body += raw + bytes(ct.length - len(raw))
        out += bitmap + body
    return bytes(out)


# ---------------------------------------------------------------------------
# property-based round trip over every type
# ---------------------------------------------------------------------------

TYPES = ["int32", "int64", "float64", "decimal", "date", "timestamp", "bool", "string"]


@st.composite
def column_and_values(draw, n: int, index: int):
    kind = draw(st.sampled_from(TYPES))
    nullable = draw(st.booleans())
    if kind == "decimal":
        p = draw(st.integers(1, 18))
        s = draw(st.integers(0, p))
        type_str, arrow = f"decimal({p},{s})", pa.decimal128(p, s)
        lim = 10 ** p - 1
        value = st.builds(lambda u: decimal.Decimal(u).scaleb(-s), st.integers(-lim, lim))
    elif kind == "string":
        n_bytes = draw(st.integers(1, 12))
        type_str, arrow = f"string({n_bytes})", pa.string()

        @st.composite
        def text(d):
            s = d(st.text(max_size=n_bytes))
            while len(s.encode()) > n_bytes:
                s = s[:-1]
            s = s.rstrip("\x00")
            if d(st.booleans()):  # exactly at the limit, multi-byte chars included
                for ch in d(st.lists(st.sampled_from(["é", "日", "😀", "z"]), max_size=12)):
                    if len((s + ch).encode()) <= n_bytes:
                        s += ch
                s += "z" * (n_bytes - len(s.encode()))
            return s
        value = text()
    else:
        type_str = kind
        arrow = {"int32": pa.int32(), "int64": pa.int64(), "float64": pa.float64(),
                 "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC"),
                 "bool": pa.bool_()}[kind]
        value = {"int32": st.integers(-2**31, 2**31 - 1),
                 "int64": st.integers(-2**63, 2**63 - 1),
                 "float64": st.floats(allow_nan=True, allow_infinity=True),
                 "date": st.integers(-2**31, 2**31 - 1),
                 "timestamp": st.integers(-2**63, 2**63 - 1),
                 "bool": st.booleans()}[kind]
    if nullable:
        value = st.one_of(st.none(), value)
    values = draw(st.lists(value, min_size=n, max_size=n))
    if kind in ("date", "timestamp"):
        # Build from the integers (Python dates cannot hold the whole range).
        storage = pa.int32() if kind == "date" else pa.int64()
        array = pa.array(values, storage).view(arrow)
    else:
        array = pa.array(values, arrow)
    return Column(f"c{index}_{kind}", type_str, nullable), array, values


@st.composite
def tables(draw):
    n = draw(st.sampled_from([0, 1, 2, 7, 8, 9, 31]))
    ncols = draw(st.integers(1, 17))  # across the 8- and 16-column bitmap edges
    cols = [draw(column_and_values(n, i)) for i in range(ncols)]
    schema = Schema(c for c, _, _ in cols)
    table = pa.table({c.name: a for c, a, _ in cols})
    rows = [{c.name: vals[r] for c, _, vals in cols} for r in range(n)]
    return schema, table, rows


@given(tables())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_encode_matches_reference_and_round_trips(case):
    schema, table, rows = case
    encoded = encode_rows(table, schema)
    assert encoded.shape == (table.num_rows, schema.row_size)
    assert encoded.tobytes() == reference_encode(rows, schema)
    assert_tables_equal(decode_rows(encoded, schema), expected_table(table, schema))


def test_chunked_and_sliced_input_encodes_like_contiguous_input():
    s = Schema.from_spec("a:int64, b:string(3), c:bool, d:decimal(5,1)")
    t = pa.table({"a": [1, None, 3, 4, 5], "b": ["x", "yy", None, "zzz", ""],
                  "c": [True, False, None, True, True],
                  "d": pa.array([decimal.Decimal("1.5")] * 4 + [None], pa.decimal128(5, 1))})
    whole = encode_rows(t, s)
    chunked = pa.concat_tables([t.slice(0, 2), t.slice(2, 1), t.slice(3)])
    assert chunked.column("a").num_chunks == 3
    assert np.array_equal(encode_rows(chunked, s), whole)
    assert np.array_equal(encode_rows(t.slice(1, 3), s), whole[1:4])


def test_encode_into_a_reused_buffer_overwrites_everything():
    s = Schema.from_spec("a:int32, b:string(4)")
    t = pa.table({"a": pa.array([None, 2], pa.int32()), "b": [None, "q"]})
    buf = np.full(100, 0xAB, np.uint8)
    assert np.array_equal(encode_rows(t, s, out=buf), encode_rows(t, s))


# ---------------------------------------------------------------------------
# conversions
# ---------------------------------------------------------------------------


def test_timestamps_with_zones_are_stored_as_utc():
    s = Schema.from_spec("ts:timestamp")
    paris = pd.Series(pd.to_datetime(["2024-03-31 03:30", "2024-07-01 12:00"])
                      ).dt.tz_localize("Europe/Paris")
    t = pa.table({"ts": pa.array(paris)})
    back = decode_rows(encode_rows(t, s), s).column("ts").to_pylist()
    assert back == [datetime.datetime(2024, 3, 31, 1, 30, tzinfo=datetime.timezone.utc),
                    datetime.datetime(2024, 7, 1, 10, 0, tzinfo=datetime.timezone.utc)]
    naive = pa.table({"ts": pa.array([datetime.datetime(2024, 1, 1, 5)], pa.timestamp("s"))})
    assert decode_rows(encode_rows(naive, s), s).column("ts")[0].as_py() == \
        datetime.datetime(2024, 1, 1, 5, tzinfo=datetime.timezone.utc)


def test_integer_and_float_inputs_are_converted_exactly():
    s = Schema.from_spec("a:int32, b:int64, c:float64, d:decimal(6,2), e:date")
    t = pa.table({"a": pa.array([-128, 127], pa.int8()), "b": pa.array([0, 2**64 - 1 >> 1],
                                                                      pa.uint64()),
                  "c": pa.array([1, -(2**53)], pa.int64()), "d": [12.34, -0.5],
                  "e": pa.array([86_400_000 * 3, 0], pa.date64())})
    back = decode_rows(encode_rows(t, s), s).to_pydict()
    assert back == {"a": [-128, 127], "b": [0, 2**63 - 1], "c": [1.0, -(2.0**53)],
                    "d": [decimal.Decimal("12.34"), decimal.Decimal("-0.50")],
                    "e": [datetime.date(1970, 1, 4), datetime.date(1970, 1, 1)]}
    # pandas: float64 with NaN (missing ints) into an integer column.
    df = pd.DataFrame({"a": [1.0, None], "b": [2, 3], "c": [0.5, None],
                       "d": [1.0, 2.5], "e": [datetime.date(2020, 1, 1), None]})
    back = decode_rows(encode_rows(pa.Table.from_pandas(df), s), s).to_pydict()
    assert back["a"] == [1, None] and back["c"] == [0.5, None]


def test_embedded_nul_survives_but_trailing_nul_is_rejected():
    s = Schema.from_spec("s:string(4)")
    ok = pa.table({"s": ["a\x00b", "\x00x"]})
    assert decode_rows(encode_rows(ok, s), s).column("s").to_pylist() == ["a\x00b", "\x00x"]
    with pytest.raises(ValueOutOfRangeError, match="row 1 .*ends with a NUL"):
        encode_rows(pa.table({"s": ["a", "b\x00"]}), s)


# ---------------------------------------------------------------------------
# errors name the column and the row
# ---------------------------------------------------------------------------


def test_string_too_long_names_column_and_row():
    s = Schema.from_spec("id:int64, name:string(4)")
    t = pa.table({"id": [1, 2, 3], "name": ["日", "abcd", "日本"]})  # 3, 4, 6 bytes
    with pytest.raises(ValueTooLongError, match=r"column 'name' .*string\(4\).*row 2 .*6 UTF-8"
                       ) as e:
        encode_rows(t, s)
    assert (e.value.column, e.value.row) == ("name", 2)
    with pytest.raises(ValueTooLongError, match="row 12 "):
        encode_rows(t, s, first_row=10)


@pytest.mark.parametrize("spec, array, message", [
    ("x:int64", pa.array(["1", "2"]), "column 'x' is declared int64 but the input holds string"),
    ("x:string(3)", pa.array([1, 2]), "column 'x' is declared string\\(3\\) but .* int64"),
    ("x:bool", pa.array([0, 1]), "column 'x' is declared bool"),
    ("x:date", pa.array([0], pa.timestamp("s")), "column 'x' is declared date"),
    ("x:timestamp", pa.array([datetime.date(2020, 1, 1)]), "column 'x' is declared timestamp"),
    ("x:decimal(5,2)", pa.array(["1.0"]), "column 'x' is declared decimal\\(5,2\\)"),
    ("x:float64", pa.array([True]), "column 'x' is declared float64"),
    ("x:string(2)", pa.array([b"ab"]), "column 'x' is declared string\\(2\\)"),
])
def test_type_mismatch_names_the_column(spec, array, message):
    with pytest.raises(SchemaMismatchError, match=message) as e:
        encode_rows(pa.table({"x": array}), Schema.from_spec(spec))
    assert e.value.column == "x"


@pytest.mark.parametrize("spec, array, row", [
    ("x:decimal(4,2)", pa.array([decimal.Decimal("99.99"), decimal.Decimal("100.00")],
                                pa.decimal128(5, 2)), 1),
    ("x:decimal(4,2)", pa.array([decimal.Decimal("-99.99"), decimal.Decimal("-100.00")],
                                pa.decimal128(6, 2)), 1),
    ("x:decimal(4,1)", pa.array([decimal.Decimal("1.10"), decimal.Decimal("1.15")],
                                pa.decimal128(4, 2)), 1),
    ("x:decimal(3,0)", pa.array([1, None, 999, 1000]), 3),
    ("x:decimal(6,2)", pa.array([0.5, 0.125]), 1),
    ("x:decimal(6,2)", pa.array([0.5, float("inf")]), 1),
    ("x:decimal(18,0)", pa.array([decimal.Decimal(10**18)], pa.decimal128(38, 0)), 0),
    ("x:int32", pa.array([2**31 - 1, 2**31]), 1),
    ("x:int32", pa.array([None, -(2**31) - 1]), 1),
    ("x:int64", pa.array([2**63], pa.uint64()), 0),
    ("x:int64", pa.array([1.0, 1.5]), 1),
    ("x:int64", pa.array([2.0**63]), 0),
    ("x:float64", pa.array([2**53 + 1]), 0),
    ("x:timestamp", pa.array([1000, 1001], pa.timestamp("ns")), 1),
    ("x:timestamp", pa.array([0, 2**62], pa.timestamp("s")), 1),
    ("x:date", pa.array([0, 1], pa.date64()), 1),
])
def test_out_of_range_values_name_column_and_row(spec, array, row):
    with pytest.raises(ValueOutOfRangeError, match=f"column 'x'.*row {row} ") as e:
        encode_rows(pa.table({"x": array}), Schema.from_spec(spec))
    assert (e.value.column, e.value.row) == ("x", row)


def test_null_in_non_nullable_column_and_column_set_errors():
    s = Schema.from_spec("a:int64 not null, b:string(2)")
    with pytest.raises(SchemaMismatchError, match="column 'a' is declared not null but row 1"):
        encode_rows(pa.table({"a": [1, None], "b": ["x", "y"]}), s)
    with pytest.raises(SchemaMismatchError, match="no column 'b'"):
        encode_rows(pa.table({"a": [1]}), s)
    with pytest.raises(SchemaMismatchError, match="'zz' that the schema does not declare"):
        encode_rows(pa.table({"a": [1], "b": ["x"], "zz": [0]}), s)
    # Names match ignoring case (as in Spark); output uses the schema's names.
    out = decode_rows(encode_rows(pa.table({"B": ["x"], "A": [5]}), s), s)
    assert out.column_names == ["a", "b"] and out.to_pydict() == {"a": [5], "b": ["x"]}


def test_empty_table_and_null_typed_columns():
    s = Schema.from_spec("a:int64, b:string(3), c:bool")
    empty = pa.table({"a": pa.array([], pa.int64()), "b": pa.array([], pa.string()),
                      "c": pa.array([], pa.bool_())})
    rows = encode_rows(empty, s)
    assert rows.shape == (0, s.row_size)
    assert decode_rows(rows, s).equals(s.to_arrow_schema().empty_table())
    nulls = pa.table({"a": pa.nulls(2), "b": pa.nulls(2), "c": pa.nulls(2)})
    assert decode_rows(encode_rows(nulls, s), s).to_pydict() == {
        "a": [None] * 2, "b": [None] * 2, "c": [None] * 2}


# ---------------------------------------------------------------------------
# decoding rejects bytes that are not rows of the schema
# ---------------------------------------------------------------------------


def test_decode_rejects_malformed_rows():
    s = Schema.from_spec("a:int32 not null, b:bool, c:string(2)")
    good = encode_rows(pa.table({"a": [1], "b": [True], "c": ["é"]}), s)
    assert s.row_size == 8
    with pytest.raises(TableFormatError, match="not a whole number of 8-byte rows"):
        decode_rows(good.tobytes() + b"\0", s, where="block 3 of table 't'")
    cases = {
        "NULL in column 'a'": (0, 0x01),
        "unused null-bitmap bits": (0, 0x08),
        "bool byte other than 0 or 1": (5, 0x02),
        "not valid UTF-8": (6, 0x40),
    }
    for message, (offset, mask) in cases.items():
        bad = good.copy()
        bad[0, offset] ^= mask
        with pytest.raises(TableFormatError, match=f"block 3 of table 't'.*{message}"):
            decode_rows(bad, s, where="block 3 of table 't'")
