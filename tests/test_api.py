"""The owner-side public API: encrypt_table / read_encrypted / verify_encrypted."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import teespark
from teespark import Keyring, MasterKey, encrypt_table, read_encrypted, verify_encrypted
from teespark.crypto.keyring import rotate_master
from teespark.errors import (BlockAuthenticationError, DataKeyNotFoundError,
                             KeyringNotFoundError, MasterKeyNotFoundError, TableExistsError,
                             ValueTooLongError, WrongMasterKeyError)
from teespark.format.schema import Schema


@pytest.fixture
def master() -> MasterKey:
    return MasterKey(bytes(range(32)))


@pytest.fixture
def ring(tmp_path, master) -> Keyring:
    return Keyring.create(tmp_path / "keyring.json", master)


def test_public_names_are_exported():
    assert {"encrypt_table", "read_encrypted", "verify_encrypted", "MasterKey",
            "Keyring"} <= set(teespark.__all__)
    for name in teespark.__all__:
        assert getattr(teespark, name) is not None
    with pytest.raises(AttributeError):
        teespark.not_a_name  # noqa: B018


def test_import_teespark_does_not_import_pyarrow():
    code = "import sys, teespark; print('pyarrow' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=str(Path(teespark.__file__).parent.parent))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True).stdout.strip()
    assert out == "False"


def test_pandas_round_trip(tmp_path, ring):
    df = pd.DataFrame({"id": np.arange(1000, dtype=np.int64),
                       "name": [f"customer-{i}" if i % 7 else None for i in range(1000)],
                       "score": np.linspace(-1, 1, 1000)})
    m = encrypt_table(df, tmp_path / "people", keyring=ring, rows_per_block=128)
    assert m.table_name == "people" and m.row_count == 1000 and m.block_count == 8
    assert m.key_id.hex() in [e.key_id for e in ring.entries()]
    back = read_encrypted(tmp_path / "people", keyring=ring)
    pd.testing.assert_frame_equal(back, df)
    report = verify_encrypted(tmp_path / "people", keyring=ring)
    assert report.block_count == 8 and report.row_count == 1000


def test_arrow_round_trip_every_type(tmp_path, ring):
    table = pa.table({
        "i32": pa.array([1, None, -(2**31)], pa.int32()),
        "i64": pa.array([2**62, 0, None], pa.int64()),
        "f": pa.array([0.5, float("inf"), None]),
        "d": pa.array([decimal.Decimal("12.34"), None, decimal.Decimal("-0.01")],
                      pa.decimal128(10, 2)),
        "day": pa.array([dt.date(2024, 2, 29), None, dt.date(1970, 1, 1)]),
        "ts": pa.array([dt.datetime(2024, 1, 1, 12, 30, tzinfo=dt.timezone.utc), None,
                        dt.datetime(1969, 12, 31, tzinfo=dt.timezone.utc)],
                       pa.timestamp("us", tz="UTC")),
        "b": pa.array([True, None, False]),
        "s": pa.array(["ünïcødé", "", None]),
    })
    encrypt_table(table, tmp_path / "t", keyring=ring, string_lengths={"s": 20})
    back = read_encrypted(tmp_path / "t", keyring=ring)
    expected = table.to_pandas()
    expected["i32"] = pd.array([1, None, -(2**31)], dtype="Int32")
    expected["i64"] = pd.array([2**62, 0, None], dtype="Int64")
    pd.testing.assert_frame_equal(back, expected)


def test_schema_spec_and_object(tmp_path, ring):
    df = pd.DataFrame({"id": [1, 2], "name": ["a", "bb"]})
    m = encrypt_table(df, tmp_path / "a", keyring=ring, schema="id:int64 not null, name:string(9)")
    assert m.schema.to_spec() == "id:int64 not null, name:string(9)"
    m2 = encrypt_table(df, tmp_path / "b", keyring=ring,
                       schema=Schema.from_spec("id:int32, name:string(3)"), table_name="bee")
    assert m2.table_name == "bee" and m2.schema.row_size == 1 + 4 + 3
    with pytest.raises(ValueError, match="either 'schema' or 'string_lengths'"):
        encrypt_table(df, tmp_path / "c", keyring=ring, schema="id:int64, name:string(9)",
                      string_lengths={"name": 4})


def test_refused_writes_leave_no_data_key(tmp_path, ring):
    df = pd.DataFrame({"name": ["short", "much too long"]})
    with pytest.raises(ValueTooLongError, match=r"column 'name'.*row 1"):
        encrypt_table(df, tmp_path / "t", keyring=ring, schema="name:string(6)")
    assert ring.entries() == [] and not (tmp_path / "t").exists()
    encrypt_table(df, tmp_path / "t", keyring=ring)
    with pytest.raises(TableExistsError):
        encrypt_table(df, tmp_path / "t", keyring=ring)
    assert len(ring.entries()) == 1
    m = encrypt_table(df, tmp_path / "t", keyring=ring, overwrite=True)
    assert len(ring.entries()) == 2  # the old key stays: it still opens backups
    assert read_encrypted(tmp_path / "t", keyring=ring)["name"].tolist() == df["name"].tolist()
    assert m.key_id.hex() == ring.entries()[-1].key_id


def test_keys_are_found_by_default_paths_and_env(tmp_path, monkeypatch, master):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("TEESPARK_KEYRING", raising=False)
    monkeypatch.delenv("TEESPARK_MASTER_KEY", raising=False)
    df = pd.DataFrame({"x": [1]})
    with pytest.raises(MasterKeyNotFoundError):
        encrypt_table(df, tmp_path / "t")
    monkeypatch.setenv("TEESPARK_MASTER_KEY", bytes(range(32)).hex())
    with pytest.raises(KeyringNotFoundError):
        encrypt_table(df, tmp_path / "t")
    Keyring.create(tmp_path / ".config/teespark/keyring.json", master)
    encrypt_table(df, tmp_path / "t")
    assert read_encrypted(tmp_path / "t")["x"].tolist() == [1]
    # explicit arguments: raw bytes, or a key file path
    assert read_encrypted(tmp_path / "t", master_key=bytes(range(32)))["x"].tolist() == [1]
    key_file = master.write(tmp_path / "mk")
    assert read_encrypted(tmp_path / "t", master_key=key_file)["x"].tolist() == [1]
    with pytest.raises(WrongMasterKeyError):
        read_encrypted(tmp_path / "t", master_key=bytes(32))


def test_argument_errors_name_the_argument(tmp_path, ring, master):
    with pytest.raises(TypeError, match="'df' must be a pandas.DataFrame"):
        encrypt_table([1, 2], tmp_path / "t", keyring=ring)
    with pytest.raises(ValueError, match="'rows_per_block' must be a positive integer"):
        encrypt_table(pd.DataFrame({"x": [1]}), tmp_path / "t", keyring=ring,
                      rows_per_block=0)
    with pytest.raises(ValueError, match="not both"):
        encrypt_table(pd.DataFrame({"x": [1]}), tmp_path / "t", keyring=ring,
                      master_key=master)
    with pytest.raises(TypeError, match="'master_key'"):
        read_encrypted(tmp_path / "t", keyring=tmp_path / "keyring.json", master_key=42)


def test_rotation_keeps_tables_readable_and_untouched(tmp_path, ring, master):
    df = pd.DataFrame({"v": range(50)})
    encrypt_table(df, tmp_path / "t", keyring=ring, rows_per_block=16)
    digests = {p.name: hashlib.sha256(p.read_bytes()).digest()
               for p in (tmp_path / "t").iterdir()}
    new = MasterKey.generate()
    assert rotate_master(ring.path, master, new) == 1
    with pytest.raises(WrongMasterKeyError):
        read_encrypted(tmp_path / "t", keyring=ring.path, master_key=master)
    pd.testing.assert_frame_equal(read_encrypted(tmp_path / "t", keyring=ring.path,
                                                 master_key=new), df)
    assert digests == {p.name: hashlib.sha256(p.read_bytes()).digest()
                       for p in (tmp_path / "t").iterdir()}


def test_table_from_another_keyring(tmp_path, ring):
    encrypt_table(pd.DataFrame({"x": [1]}), tmp_path / "t", keyring=ring)
    other = Keyring.create(tmp_path / "other.json", MasterKey.generate())
    with pytest.raises(DataKeyNotFoundError, match="does not hold"):
        read_encrypted(tmp_path / "t", keyring=other)


def test_a_block_copied_from_another_table_is_rejected(tmp_path, ring):
    """Two tables under different keys: swapping their block files must fail."""
    df = pd.DataFrame({"x": range(10)})
    encrypt_table(df, tmp_path / "a", keyring=ring)
    encrypt_table(df, tmp_path / "b", keyring=ring)
    shutil.copy(tmp_path / "b" / "blocks-00000.parquet", tmp_path / "a" / "blocks-00000.parquet")
    with pytest.raises(BlockAuthenticationError):
        read_encrypted(tmp_path / "a", keyring=ring)


def test_progress_callback(tmp_path, ring):
    calls = []
    encrypt_table(pd.DataFrame({"x": range(1000)}), tmp_path / "t", keyring=ring,
                  rows_per_block=100, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (1000, 1000)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.one_of(st.none(), st.integers(-2**63, 2**63 - 1)),
                               st.one_of(st.none(), st.text(max_size=8))),
                     max_size=40),
       rows_per_block=st.integers(1, 7))
def test_round_trip_property(tmp_path_factory, ring, rows, rows_per_block):
    table = pa.table({"n": pa.array([r[0] for r in rows], pa.int64()),
                      "s": pa.array([r[1] for r in rows], pa.string())})
    path = tmp_path_factory.mktemp("t") / "t"
    if any(r[1] is not None and r[1].endswith("\x00") for r in rows):
        return  # trailing NUL is refused by the codec (tested in tests/format)
    encrypt_table(table, path, keyring=ring, rows_per_block=rows_per_block,
                  string_lengths={"s": 40})
    back = read_encrypted(path, keyring=ring)
    # exact, also beyond 2**53 (nullable Int64, not float64)
    assert [None if v is pd.NA else v for v in back["n"].tolist()] == [r[0] for r in rows]
    assert [None if v is None or (isinstance(v, float) and np.isnan(v)) else v
            for v in back["s"].tolist()] == [r[1] for r in rows]


def test_nullable_integers_beyond_2_53_survive(tmp_path, ring):
    big = 2**53 + 1
    encrypt_table(pa.table({"n": pa.array([big, None], pa.int64()),
                            "m": pa.array([1, None], pa.int32())}), tmp_path / "t", keyring=ring)
    back = read_encrypted(tmp_path / "t", keyring=ring)
    assert str(back["n"].dtype) == "Int64" and str(back["m"].dtype) == "Int32"
    assert back["n"].tolist()[0] == big and back["n"].isna().tolist() == [False, True]


def _spark():
    pyspark = pytest.importorskip("pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("no Java for a local SparkSession")
    from pyspark.sql import SparkSession
    try:
        return pyspark, (SparkSession.builder.master("local[1]").appName("teespark-test-api")
                         .config("spark.ui.enabled", "false")
                         .config("spark.sql.shuffle.partitions", "1").getOrCreate())
    except Exception as exc:  # pragma: no cover - environment problem, not ours
        pytest.skip(f"cannot start a local SparkSession: {exc}")


def test_spark_dataframe_round_trip(tmp_path, ring):
    _, spark = _spark()
    try:
        sdf = spark.createDataFrame([(1, "ann", 2.5), (2, None, -1.0), (3, "cy", None)],
                                    "id long, name string, v double")
        m = encrypt_table(sdf, tmp_path / "t", keyring=ring, string_lengths={"name": 8})
        assert m.schema.to_spec() == "id:int64, name:string(8), v:float64"
        back = read_encrypted(tmp_path / "t", keyring=ring)
        expected = sdf.toPandas()
        pd.testing.assert_frame_equal(back.sort_values("id").reset_index(drop=True),
                                      expected.sort_values("id").reset_index(drop=True),
                                      check_dtype=False)
    finally:
        spark.stop()
