"""Spark reads the blocks of an encrypted table natively (spark.read.parquet),
and what it reads opens with the data key."""

from __future__ import annotations

import os
import sys

import numpy as np
import pyarrow as pa
import pytest
from format_helpers import KEY, KEY_ID

from teespark.crypto.block_seal import open_block
from teespark.format import Schema, decode_rows, iter_sealed_blocks, write_table

pyspark = pytest.importorskip("pyspark")
from pyspark.sql import SparkSession  # noqa: E402

SCHEMA = Schema.from_spec("id:int64 not null, name:string(5)")


@pytest.fixture(scope="module")
def spark():
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    session = (SparkSession.builder.master("local[1]").appName("teespark-format-test")
               .config("spark.ui.enabled", "false")
               .config("spark.sql.shuffle.partitions", "1")
               .config("spark.driver.memory", "512m")
               .getOrCreate())
    yield session
    session.stop()


def test_spark_reads_the_blocks_parquet_natively(spark, tmp_path, monkeypatch):
    from teespark.format import table_files
    # Small limits: 2 blocks per row group, 10 per file, 2 files.
    monkeypatch.setattr(table_files, "ROW_GROUP_BYTES", 2 * 1024)
    monkeypatch.setattr(table_files, "FILE_BYTES", 8 * 1024)
    n = 1000
    t = pa.table({"id": pa.array(np.arange(n, dtype=np.int64)),
                  "name": [f"r{i % 997}" for i in range(n)]})
    m = write_table(t, tmp_path / "t", data_key=KEY, key_id=KEY_ID, table_name="t",
                    schema=SCHEMA, rows_per_block=50)
    assert len(m.files) == 2
    df = spark.read.parquet(str(tmp_path / "t"))  # _manifest.json is skipped
    assert [(f.name, f.dataType.simpleString()) for f in df.schema.fields] == [
        ("block_index", "int"), ("sealed", "binary")]
    got = {r.block_index: bytes(r.sealed) for r in df.collect()}
    assert got == dict(iter_sealed_blocks(tmp_path / "t"))
    assert sorted(got) == list(range(m.block_count))
    plain = b"".join(open_block(KEY, got[i])[1] for i in range(m.block_count))
    assert decode_rows(plain, SCHEMA).column("id").to_pylist() == list(range(n))
