"""Encrypted table directories: round trips from pandas, CSV and Parquet,
block boundaries, the on-disk layout, and the block format checked with two
independent AES-GCM implementations."""

from __future__ import annotations

import datetime
import decimal
import json
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from Crypto.Cipher import AES
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from format_helpers import KEY, KEY_ID, assert_tables_equal, expected_table
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from teespark.crypto.block_seal import HEADER_SIZE, TAG_SIZE, BlockHeader
from teespark.errors import SchemaMismatchError, TableExistsError, ValueTooLongError
from teespark.format import (Schema, encode_rows, iter_sealed_blocks, read_manifest,
                             read_table, verify_table, write_table)
from teespark.format import table_files

SCHEMA = Schema.from_spec("id:int64 not null, name:string(12), amount:decimal(12,2), "
                          "opened:date, seen:timestamp, score:float64, active:bool, n:int32")


def sample(n: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    names = ["Zoë", "Ørsted", "李", "O'Brien", "", "ascii-only12"]
    valid = rng.random(n) > 0.2
    return pa.table({
        "id": pa.array(np.arange(n, dtype=np.int64)),
        "name": pa.array([names[i % len(names)] if v else None
                          for i, v in zip(rng.integers(0, 6, n), valid)], pa.string()),
        "amount": pa.array([decimal.Decimal(int(x)).scaleb(-2) for x in
                            rng.integers(-10**11, 10**11, n)], pa.decimal128(12, 2)),
        "opened": pa.array(rng.integers(-3000, 30000, n).astype(np.int32)).cast(pa.date32()),
        "seen": pa.array(rng.integers(-2**40, 2**50, n), pa.timestamp("us", tz="UTC")),
        "score": pa.array(np.where(valid, rng.normal(size=n), np.nan)),
        "active": pa.array(rng.random(n) > 0.5, mask=~valid),
        "n": pa.array(rng.integers(-2**31, 2**31, n).astype(np.int32), mask=~valid),
    })


def write(table, path, **kw):
    kw.setdefault("schema", SCHEMA)
    return write_table(table, path, data_key=KEY, key_id=KEY_ID, table_name="loans", **kw)


# ---------------------------------------------------------------------------
# round trips
# ---------------------------------------------------------------------------


def test_round_trip_arrow_and_manifest_contents(tmp_path):
    t = sample(1000)
    m = write(t, tmp_path / "loans", rows_per_block=64, table_version=5)
    assert (m.row_count, m.rows_per_block, m.block_count, m.table_version) == (1000, 64, 16, 5)
    assert_tables_equal(read_table(tmp_path / "loans", data_key=KEY), expected_table(t, SCHEMA))
    assert sorted(os.listdir(tmp_path / "loans")) == ["_manifest.json", "blocks-00000.parquet"]
    doc = json.loads((tmp_path / "loans" / "_manifest.json").read_text())
    assert doc["row_size"] == SCHEMA.row_size and doc["schema_hash"] == SCHEMA.hash().hex()
    assert doc["key_id"] == KEY_ID.hex() and doc["table_id"] == m.table_id.hex()
    assert KEY.hex() not in json.dumps(doc)
    assert read_manifest(tmp_path / "loans") == m


def test_round_trip_from_pandas_with_inferred_schema(tmp_path):
    df = pd.DataFrame({"id": [3, 1, 2], "city": ["Zürich", None, "Genève"],
                       "rate": [0.5, None, -1.25], "flag": [True, False, True],
                       "when": pd.to_datetime(["2024-01-01", "2024-02-29", "1999-12-31"])})
    m = write_table(df, tmp_path / "t", data_key=KEY, key_id=KEY_ID, table_name="t")
    assert m.schema.to_spec() == ("id:int64, city:string(7), rate:float64, flag:bool, "
                                  "when:timestamp")
    back = read_table(tmp_path / "t", data_key=KEY).to_pandas()
    expected = df.assign(when=df["when"].dt.tz_localize("UTC").astype("datetime64[us, UTC]"))
    pd.testing.assert_frame_equal(back, expected)


def test_round_trip_from_csv(tmp_path):
    csv = tmp_path / "in.csv"
    csv.write_text("id,name,amount,day\n1,Ana,12.50,2024-01-31\n2,,-0.01,\n"
                   "3,Bjørn,99999.99,1970-01-01\n", encoding="utf-8")
    schema = Schema.from_spec("id:int64 not null, name:string(8), amount:decimal(7,2), "
                              "day:date")
    t = pacsv.read_csv(csv, convert_options=pacsv.ConvertOptions(
        column_types=schema.to_arrow_schema(), strings_can_be_null=True))
    write_table(t, tmp_path / "t", data_key=KEY, key_id=KEY_ID, table_name="t", schema=schema)
    back = read_table(tmp_path / "t", data_key=KEY)
    assert back.to_pydict() == {
        "id": [1, 2, 3], "name": ["Ana", None, "Bjørn"],
        "amount": [decimal.Decimal("12.50"), decimal.Decimal("-0.01"),
                   decimal.Decimal("99999.99")],
        "day": [datetime.date(2024, 1, 31), None, datetime.date(1970, 1, 1)]}


def test_round_trip_from_parquet(tmp_path):
    t = sample(300, seed=3)
    pq.write_table(t, tmp_path / "in.parquet")
    write(pq.read_table(tmp_path / "in.parquet"), tmp_path / "t", rows_per_block=7)
    assert_tables_equal(read_table(tmp_path / "t", data_key=KEY), expected_table(t, SCHEMA))


@pytest.mark.parametrize("rows", [0, 1, 9, 10, 11, 29, 30, 31])
def test_block_boundaries(tmp_path, rows):
    t = sample(rows, seed=rows)
    m = write(t, tmp_path / "t", rows_per_block=10)
    assert m.block_count == max(1, -(-rows // 10))  # an empty table has one empty block
    blocks = list(iter_sealed_blocks(tmp_path / "t"))
    assert [i for i, _ in blocks] == list(range(m.block_count))
    counts = [BlockHeader.unpack(b).row_count for _, b in blocks]
    assert sum(counts) == rows and all(c == 10 for c in counts[:-1])
    assert_tables_equal(read_table(tmp_path / "t", data_key=KEY), expected_table(t, SCHEMA))
    report = verify_table(tmp_path / "t", data_key=KEY)
    assert (report.row_count, report.block_count) == (rows, m.block_count)
    assert report.sealed_bytes == sum(len(b) for _, b in blocks)
    assert report.plaintext_bytes == rows * SCHEMA.row_size


@given(n=st.integers(0, 60), rpb=st.integers(1, 25), seed=st.integers(0, 2**16))
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_round_trip_property(tmp_path_factory, n, rpb, seed):
    path = tmp_path_factory.mktemp("prop") / "t"
    t = sample(n, seed)
    write(t, path, rows_per_block=rpb)
    assert_tables_equal(read_table(path, data_key=KEY), expected_table(t, SCHEMA))


def test_default_block_size_and_limits(tmp_path):
    t = sample(50)
    m = write(t, tmp_path / "a")
    assert m.rows_per_block == (1 << 20) // SCHEMA.row_size
    m = write(t, tmp_path / "b", block_bytes=SCHEMA.row_size * 8 + 5)
    assert m.rows_per_block == 8 and m.block_count == 7
    with pytest.raises(ValueError, match="block_bytes"):
        write(t, tmp_path / "c", block_bytes=4 * 1024 * 1024 + 1)
    with pytest.raises(ValueError, match="exceed the block limit"):
        write(t, tmp_path / "c", rows_per_block=4 * 1024 * 1024 // SCHEMA.row_size + 1)
    assert not (tmp_path / "c").exists()


def test_many_files_and_row_groups(tmp_path, monkeypatch):
    # Small limits so that one table spans several row groups and files.
    monkeypatch.setattr(table_files, "ROW_GROUP_BYTES", 3 * 1024)
    monkeypatch.setattr(table_files, "FILE_BYTES", 7 * 1024)
    t = sample(500)
    m = write(t, tmp_path / "t", rows_per_block=10)  # 10 * 62 bytes per block
    assert len(m.files) > 2
    assert [f.first_block for f in m.files] == \
        list(np.cumsum([0] + [f.block_count for f in m.files[:-1]]))
    assert pq.ParquetFile(tmp_path / "t" / m.files[0].path).num_row_groups > 1
    assert_tables_equal(read_table(tmp_path / "t", data_key=KEY), expected_table(t, SCHEMA))


def test_progress_callable_tqdm_object_and_flag(tmp_path, capsys):
    calls = []
    write(sample(95), tmp_path / "a", rows_per_block=10,
          progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1] == (95, 95) and all(t == 95 for _, t in calls)

    class Bar:
        n = 0

        def update(self, k):
            self.n += k
    bar = Bar()
    write(sample(95), tmp_path / "b", progress=bar)
    assert bar.n == 95
    write(sample(5), tmp_path / "c", progress=True)
    assert "encrypt loans" in capsys.readouterr().err


def test_errors_in_the_data_leave_nothing_behind(tmp_path):
    t = sample(40).set_column(1, "name", pa.array(["x" * 13] + ["y"] * 39))
    with pytest.raises(ValueTooLongError, match="column 'name'.*row 0"):
        write(t, tmp_path / "t", rows_per_block=4)
    t = sample(40).set_column(1, "name", pa.array(["x"] * 39 + ["z" * 13]))
    with pytest.raises(ValueTooLongError, match="row 39 "):
        write(t, tmp_path / "t", rows_per_block=4)
    with pytest.raises(SchemaMismatchError, match="no column 'name'"):
        write(sample(3).drop_columns(["name"]), tmp_path / "t")
    assert os.listdir(tmp_path) == []


def test_overwrite_rules(tmp_path):
    write(sample(10), tmp_path / "t")
    with pytest.raises(TableExistsError, match="already exists; pass overwrite=True"):
        write(sample(3), tmp_path / "t")
    m = write(sample(3), tmp_path / "t", overwrite=True)
    assert read_manifest(tmp_path / "t").table_id == m.table_id
    assert read_table(tmp_path / "t", data_key=KEY).num_rows == 3
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("precious")
    with pytest.raises(TableExistsError, match="is not an encrypted teespark table"):
        write(sample(3), tmp_path / "mine", overwrite=True)
    assert (tmp_path / "mine" / "keep.txt").read_text() == "precious"
    assert sorted(os.listdir(tmp_path)) == ["mine", "t"]


def test_overwrite_without_renameat2_uses_the_rename_fallback(tmp_path, monkeypatch):
    write(sample(10), tmp_path / "t")
    monkeypatch.setattr(table_files, "_renameat2", lambda *a: False)
    write(sample(4), tmp_path / "t", overwrite=True)
    assert read_table(tmp_path / "t", data_key=KEY).num_rows == 4
    assert os.listdir(tmp_path) == ["t"]


# ---------------------------------------------------------------------------
# the block format, checked independently
# ---------------------------------------------------------------------------


def test_blocks_decrypt_with_independent_aes_gcm_implementations(tmp_path):
    t = sample(70)
    m = write(t, tmp_path / "t", rows_per_block=16, table_version=9)
    stored = pq.read_table(tmp_path / "t" / "blocks-00000.parquet")
    assert stored.schema.field("block_index").type == pa.int32()
    assert stored.schema.field("sealed").type == pa.binary()
    plain = b""
    nonces = set()
    for i, sealed in enumerate(stored.column("sealed").to_pylist()):
        head = sealed[:HEADER_SIZE]
        # struct ts_block_header, field by field.
        magic, version, hsize = np.frombuffer(head[:8], "<u4", 1)[0], \
            int.from_bytes(head[4:6], "little"), int.from_bytes(head[6:8], "little")
        assert (magic, version, hsize) == (0x31425354, 1, 96)
        assert head[8:24] == m.table_id
        assert int.from_bytes(head[24:32], "little") == 9
        idx, count, rows, row_size = np.frombuffer(head[32:48], "<u4")
        assert (idx, count, row_size) == (i, 5, SCHEMA.row_size)
        assert head[48:80] == SCHEMA.hash()
        nonce = head[80:92]
        assert int.from_bytes(head[92:96], "little") == rows * row_size
        assert len(sealed) == HEADER_SIZE + rows * row_size + TAG_SIZE
        nonces.add(nonce)
        body = sealed[HEADER_SIZE:]
        a = AESGCM(KEY).decrypt(nonce, body, head)
        cipher = AES.new(KEY, AES.MODE_GCM, nonce=nonce, mac_len=16)
        cipher.update(head)
        b = cipher.decrypt_and_verify(body[:-TAG_SIZE], body[-TAG_SIZE:])
        assert a == b
        plain += a
    assert len(nonces) == 5
    assert plain == encode_rows(t, SCHEMA).tobytes()


def test_same_table_written_twice_shares_no_nonce_or_ciphertext(tmp_path):
    t = sample(40)
    write(t, tmp_path / "a", rows_per_block=8, table_id=bytes(16))
    write(t, tmp_path / "b", rows_per_block=8, table_id=bytes(16))
    a = dict(iter_sealed_blocks(tmp_path / "a"))
    b = dict(iter_sealed_blocks(tmp_path / "b"))
    assert all(a[i][80:92] != b[i][80:92] and a[i][96:] != b[i][96:] for i in a)
