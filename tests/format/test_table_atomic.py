"""Atomic writes: an interrupted writer (exception, or SIGKILL of a writer
process) leaves no half-written table at the target path, and an existing
table survives an interrupted overwrite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from format_helpers import KEY, KEY_ID

from teespark.errors import TableNotFoundError
from teespark.format import read_manifest, read_table, write_table

REPO = Path(__file__).resolve().parents[2]


def table(n: int) -> pa.Table:
    return pa.table({"id": pa.array(np.arange(n, dtype=np.int64)),
                     "v": pa.array(np.linspace(0, 1, n))})


class Interrupted(Exception):
    pass


def interrupt_after_first_chunk(done: int, total: int) -> None:
    if done < total:
        raise Interrupted


def write(path, n, **kw):
    return write_table(table(n), path, data_key=KEY, key_id=KEY_ID, table_name="t",
                       schema="id:int64 not null, v:float64", rows_per_block=100, **kw)


@pytest.fixture
def small_chunks(monkeypatch):
    from teespark.format import table_files
    monkeypatch.setattr(table_files, "ROW_GROUP_BYTES", 4096)  # ~2 blocks per chunk


def test_exception_mid_write_leaves_nothing(tmp_path, small_chunks):
    with pytest.raises(Interrupted):
        write(tmp_path / "t", 5000, progress=interrupt_after_first_chunk)
    assert os.listdir(tmp_path) == []


def test_exception_mid_overwrite_keeps_the_old_table(tmp_path, small_chunks):
    old = write(tmp_path / "t", 300)
    with pytest.raises(Interrupted):
        write(tmp_path / "t", 5000, overwrite=True, progress=interrupt_after_first_chunk)
    assert os.listdir(tmp_path) == ["t"]
    assert read_manifest(tmp_path / "t", KEY).table_id == old.table_id
    assert read_table(tmp_path / "t", data_key=KEY).num_rows == 300


WRITER = textwrap.dedent("""
    import sys, time
    import numpy as np, pyarrow as pa
    from teespark.format import table_files, write_table
    table_files.ROW_GROUP_BYTES = 4096
    def progress(done, total):
        if done >= 1000:                      # some row groups are on disk
            print("writing", flush=True)
            time.sleep(120)
    n = 20000
    write_table(pa.table({"id": pa.array(np.arange(n)), "v": pa.array(np.ones(n))}),
                sys.argv[1], data_key=bytes(range(32)), key_id=bytes(16), table_name="t",
                schema="id:int64 not null, v:float64", rows_per_block=100,
                overwrite=True, progress=progress)
""")


def kill_writer_mid_way(target: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO / "python"))
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line == "writing\n", proc.stderr.read()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL


def test_killed_writer_leaves_no_table(tmp_path):
    kill_writer_mid_way(tmp_path / "t")
    assert not (tmp_path / "t").exists()
    with pytest.raises(TableNotFoundError):
        read_table(tmp_path / "t", data_key=KEY)
    # What is left is a hidden temporary directory, holding blocks but no manifest.
    leftovers = os.listdir(tmp_path)
    assert len(leftovers) == 1 and leftovers[0].startswith(".t.tmp-")
    assert not (tmp_path / leftovers[0] / "_manifest.json").exists()
    assert any(p.suffix == ".parquet" for p in (tmp_path / leftovers[0]).iterdir())


def test_killed_overwrite_keeps_the_old_table(tmp_path):
    old = write(tmp_path / "t", 250)
    kill_writer_mid_way(tmp_path / "t")
    assert read_manifest(tmp_path / "t", KEY).table_id == old.table_id
    assert read_table(tmp_path / "t", data_key=KEY).column("id").to_pylist() == \
        list(range(250))
