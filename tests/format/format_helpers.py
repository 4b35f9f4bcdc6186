"""Helpers shared by the encrypted table format tests (imported by name)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from teespark.format import Schema

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
KEY_ID = bytes.fromhex("00112233445566778899aabbccddeeff")


def expected_table(table: pa.Table, schema: Schema) -> pa.Table:
    """What decrypting ``table`` must give: its columns cast to the schema's
    Arrow types (an independent path: Arrow's own casts)."""
    arrays = []
    for field in schema.to_arrow_schema():
        col = table.column(field.name)
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if pa.types.is_timestamp(field.type) and pa.types.is_timestamp(col.type) \
                and col.type.tz is None:
            col = col.cast(pa.timestamp(col.type.unit, tz="UTC"))  # naive = UTC
        arrays.append(col.cast(field.type))
    return pa.Table.from_arrays(arrays, schema=schema.to_arrow_schema())


def assert_tables_equal(actual: pa.Table, expected: pa.Table) -> None:
    """Exact equality, floats compared bit for bit (NaN payloads, -0.0)."""
    assert actual.schema == expected.schema, (actual.schema, expected.schema)
    assert actual.num_rows == expected.num_rows
    for name in expected.column_names:
        a = actual.column(name).combine_chunks() if actual.num_rows else actual.column(name)
        e = expected.column(name).combine_chunks() if expected.num_rows else \
            expected.column(name)
        if pa.types.is_floating(e.type) and len(e):
            assert a.is_null().equals(e.is_null()), name
            av = np.asarray(a.fill_null(0.0).to_numpy(zero_copy_only=False)).view(np.int64)
            ev = np.asarray(e.fill_null(0.0).to_numpy(zero_copy_only=False)).view(np.int64)
            assert np.array_equal(av, ev), name
        else:
            assert a.equals(e), (name, a, e)


def rewrite_blocks(table_dir: Path, change) -> None:
    """Apply ``change(list of (block_index, sealed bytes)) -> list`` to a table's
    single blocks file, as an attacker with write access to storage would."""
    files = sorted(p for p in table_dir.iterdir() if p.suffix == ".parquet")
    assert len(files) == 1, files
    t = pq.read_table(files[0])
    blocks = list(zip(t.column("block_index").to_pylist(), t.column("sealed").to_pylist()))
    blocks = change(blocks)
    out = pa.table({"block_index": pa.array([b[0] for b in blocks], pa.int32()),
                    "sealed": pa.array([b[1] for b in blocks], pa.binary())})
    os.unlink(files[0])
    pq.write_table(out, files[0])


def flip(data: bytes, offset: int, mask: int = 0x01) -> bytes:
    b = bytearray(data)
    b[offset] ^= mask
    return bytes(b)
