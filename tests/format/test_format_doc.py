"""docs/FORMAT.md stays true: its worked example, its row bytes and its struct
tables are checked against the code and against teespark_ta.h."""

from __future__ import annotations

import decimal
import hashlib
import re
from pathlib import Path

import pyarrow as pa
import pytest

from teespark.format import Schema, encode_rows

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "FORMAT.md").read_text()
HEADER = (REPO / "enclave" / "ta" / "include" / "teespark_ta.h").read_text()
C_SIZES = {"uint8_t": 1, "uint16_t": 2, "uint32_t": 4, "uint64_t": 8}


def doc_line(label: str) -> str:
    m = re.search(rf"^\s+{label}:\s+(.+)$", DOC, re.M)
    assert m, label
    return m.group(1).strip()


def test_worked_schema_example():
    s = Schema.from_spec(doc_line("spec"))
    assert s.canonical_json() == doc_line("canonical")
    assert s.hash().hex() == doc_line("sha256")
    assert hashlib.sha256(doc_line("canonical").encode()).hexdigest() == doc_line("sha256")


def test_worked_row_example():
    s = Schema.from_spec(doc_line("spec"))
    rows = encode_rows(pa.table({
        "id": pa.array([1, -2], pa.int64()), "name": ["hé", None],
        "amt": pa.array([decimal.Decimal("-1.50"), None], pa.decimal128(6, 2)),
        "ok": [True, False]}), s)
    documented = re.findall(r"^\| -?\d+ \|.*\| `([0-9a-f ]+)` \|$", DOC, re.M)
    assert [bytes.fromhex(h) for h in documented] == [r.tobytes() for r in rows]


def dim(count: str) -> int:
    """An array dimension: empty (scalar), a number, or a #define'd constant."""
    if not count:
        return 1
    if count.isdigit():
        return int(count)
    return int(re.search(rf"^#define {count} (\d+)", HEADER, re.M).group(1))


def c_struct_offsets(name: str) -> list[tuple[int, int, str]]:
    """(offset, size, field) of a C struct of fixed-width fields, natural alignment."""
    body = re.search(rf"struct {name} {{(.*?)}};", HEADER, re.S).group(1)
    out, offset = [], 0
    for ctype, field, count in re.findall(r"(uint\d+_t)\s+(\w+)(?:\[(\w+)\])?;", body):
        size = C_SIZES[ctype]
        offset = -(-offset // size) * size
        n = size * dim(count)
        out.append((offset, n, field))
        offset += n
    return out


@pytest.mark.parametrize("struct_name, first_field", [
    ("ts_block_header", "magic"), ("ts_table_descriptor", "magic")])
def test_struct_tables_match_the_shared_header(struct_name, first_field):
    fields = c_struct_offsets(struct_name)
    # The doc table for this struct: rows "| offset | size | field ...".
    section = DOC.split("struct ts_block_header (96 bytes)")[1] if struct_name == \
        "ts_block_header" else DOC.split("(136 bytes), the form")[1]
    rows = re.findall(r"^\| (\d+) \| (\d+) \| (\w+)", section, re.M)[:len(fields)]
    assert [(int(o), int(s), f) for o, s, f in rows] == fields
