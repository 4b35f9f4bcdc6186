"""Schema: parsing, canonical JSON and its hash, layout, inference."""

from __future__ import annotations

import datetime
import decimal
import hashlib

import pandas as pd
import pyarrow as pa
import pytest

from teespark.errors import InvalidSchemaError, SchemaMismatchError
from teespark.format import Column, Schema


def test_from_spec_parses_types_aliases_and_nullability():
    s = Schema.from_spec(
        "id: BIGINT not null, n:int, amount:decimal( 12 , 2 ), name:varchar(20),"
        " d:date, ts:timestamp NULL, ok:boolean, x:double")
    assert [(c.name, c.type, c.nullable) for c in s] == [
        ("id", "int64", False), ("n", "int32", True), ("amount", "decimal(12,2)", True),
        ("name", "string(20)", True), ("d", "date", True), ("ts", "timestamp", True),
        ("ok", "bool", True), ("x", "float64", True)]
    assert Schema.from_spec(s.to_spec()) == s


@pytest.mark.parametrize("spec, message", [
    ("", "empty"),
    ("id", "not 'name:type'"),
    ("id:int128", "unknown column type 'int128'"),
    ("a:decimal(19,2)", "precision <= 18"),
    ("a:decimal(4,5)", "scale <= precision"),
    ("a:string(0)", "between 1 and"),
    ("a:int64, A:int32", "duplicate column name 'A'"),
    (" :int64", "not 'name:type'"),
    ("a:string(40000), b:string(40000)", "more than the limit of 65536"),
])
def test_invalid_specs_are_rejected_with_a_reason(spec, message):
    with pytest.raises(InvalidSchemaError, match=message):
        Schema.from_spec(spec)


def test_column_names_are_checked():
    with pytest.raises(InvalidSchemaError, match="control character"):
        Column("a\nb", "int64")
    with pytest.raises(InvalidSchemaError, match="white space"):
        Column(" a", "int64")
    with pytest.raises(InvalidSchemaError, match="at least one column"):
        Schema([])


def test_layout_offsets_match_a_hand_computed_example():
    # 9 columns -> 2 bitmap bytes; then 8+4+8+8+4+8+1+5+8 bytes, no padding.
    s = Schema.from_spec("a:int64, b:int32, c:float64, d:decimal(18,4), e:date, "
                         "f:timestamp, g:bool, h:string(5), i:int64")
    assert s.bitmap_size == 2
    assert [(c.offset, c.width) for c in s.layout()] == [
        (2, 8), (10, 4), (14, 8), (22, 8), (30, 4), (34, 8), (42, 1), (43, 5), (48, 8)]
    assert s.row_size == 56
    assert (s.column("i").null_byte, s.column("i").null_bit) == (1, 0)
    assert (s.column("H").null_byte, s.column("H").null_bit) == (0, 7)


def test_canonical_json_is_the_documented_golden_text_and_hash():
    s = Schema([Column("id", "int64", False), Column("név", "string(10)"),
                Column("amt", "decimal(12,2)")])
    golden = ('{"columns":[{"name":"id","nullable":false,"type":"int64"},'
              '{"name":"n\\u00e9v","nullable":true,"type":"string(10)"},'
              '{"name":"amt","nullable":true,"type":"decimal(12,2)"}],'
              '"teespark_schema":1}')
    assert s.canonical_json() == golden
    assert s.hash() == hashlib.sha256(golden.encode("ascii")).digest()
    # Spelling does not change the hash; names, order, types, nullability do.
    assert Schema.from_spec("id:BIGINT not null, név:varchar(10), amt:decimal(12, 2)") \
        .hash() == s.hash()
    for other in ["id:int64, név:string(10), amt:decimal(12,2)",
                  "id:int64 not null, név:string(11), amt:decimal(12,2)",
                  "id:int64 not null, amt:decimal(12,2), név:string(10)",
                  "Id:int64 not null, név:string(10), amt:decimal(12,2)"]:
        assert Schema.from_spec(other).hash() != s.hash(), other


def test_json_round_trip_and_strictness():
    s = Schema.from_spec("id:int64 not null, name:string(3)")
    assert Schema.from_json(s.to_json()) == s
    assert Schema.from_json(s.canonical_json()) == s
    with pytest.raises(InvalidSchemaError, match="teespark_schema=2"):
        Schema.from_json('{"teespark_schema":2,"columns":[]}')
    with pytest.raises(InvalidSchemaError, match="unknown members"):
        Schema.from_json('{"teespark_schema":1,"columns":[],"x":1}')
    with pytest.raises(InvalidSchemaError, match="does not parse"):
        Schema.from_json("{")


def test_infer_maps_arrow_types_and_measures_utf8_bytes():
    t = pa.table({
        "i8": pa.array([1], pa.int8()), "u16": pa.array([1], pa.uint16()),
        "i32": pa.array([1], pa.int32()), "u32": pa.array([1], pa.uint32()),
        "i64": pa.array([1], pa.int64()), "f32": pa.array([1.0], pa.float32()),
        "dec": pa.array([decimal.Decimal("1.5")], pa.decimal128(10, 1)),
        "d": pa.array([datetime.date(2000, 1, 1)]), "d64": pa.array([0], pa.date64()),
        "ts": pa.array([0], pa.timestamp("ns", tz="Asia/Tokyo")),
        "b": pa.array([True]), "s": pa.array(["日本"]), "empty": pa.array([""]),
        "cat": pa.array(["xyz"]).dictionary_encode(),
        "ls": pa.array(["abcd"], pa.large_string()),
    })
    s = Schema.infer(t)
    assert [c.type for c in s] == [
        "int32", "int32", "int32", "int64", "int64", "float64", "decimal(10,1)", "date",
        "date", "timestamp", "bool", "string(6)", "string(1)", "string(3)", "string(4)"]
    assert Schema.infer(t, string_lengths={"s": 40}).column("s").type == "string(40)"
    non_null = pa.schema([pa.field("x", pa.int64(), nullable=False)])
    assert not Schema.infer(pa.table({"x": [1]}, schema=non_null)).columns[0].nullable


def test_infer_from_pandas_and_errors_name_the_column():
    df = pd.DataFrame({"a": [1, 2], "b": ["x", None]})
    assert Schema.infer(df).to_spec() == "a:int64, b:string(1)"
    with pytest.raises(SchemaMismatchError, match="column 'l'.*cannot store"):
        Schema.infer(pa.table({"l": pa.array([[1]])}))
    with pytest.raises(SchemaMismatchError, match="column 'n' holds only NULLs"):
        Schema.infer(pa.table({"n": pa.array([None, None])}))
    with pytest.raises(SchemaMismatchError, match="column 'big'.*decimal\\(18,2\\)"):
        Schema.infer(pa.table({"big": pa.array([decimal.Decimal(1)], pa.decimal128(30, 2))}))
    with pytest.raises(InvalidSchemaError, match="not in the table: zz"):
        Schema.infer(pa.table({"a": ["x"]}), string_lengths={"zz": 3})
    with pytest.raises(InvalidSchemaError, match="'a', which holds int64"):
        Schema.infer(pa.table({"a": [1]}), string_lengths={"a": 3})


def test_arrow_schema_of_decrypted_tables():
    s = Schema.from_spec("a:int32 not null, b:decimal(5,2), c:timestamp, d:date, e:string(2)")
    assert s.to_arrow_schema() == pa.schema([
        pa.field("a", pa.int32(), nullable=False), ("b", pa.decimal128(5, 2)),
        ("c", pa.timestamp("us", tz="UTC")), ("d", pa.date32()), ("e", pa.string())])
