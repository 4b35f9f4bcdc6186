"""Golden transcripts of the ``teespark`` CLI: the exact text users see, and exit codes.

Each test runs a scenario in subprocesses and compares the normalised
transcript (random ids numbered, temp paths and times replaced) with
tests/cli/golden/<test>.txt. Review a changed transcript, then rewrite the
files with ``TEESPARK_UPDATE_GOLDEN=1 pytest tests/cli``.
"""

from __future__ import annotations

import json
import os

from cli_helpers import (KNOWN_MASTER_KEY, OTHER_MASTER_KEY, PEOPLE_CSV, PEOPLE_SCHEMA,
                      assert_golden, write_master_key)

from teespark import _exit_codes as codes


def test_keys_lifecycle(cli):
    cli.run("keys", "init")
    cli.run("keys", "init", expect=codes.ERROR)                    # keyring exists
    cli.run("keys", "list")
    cli.run("encrypt", "people.csv", "t", expect=codes.INPUT_ERROR)  # no input yet
    (cli.cwd / "people.csv").write_text(PEOPLE_CSV)
    cli.run("encrypt", "people.csv", "tables/people", "--schema", PEOPLE_SCHEMA)
    cli.run("keys", "rotate", "--new-master-key-file", "new.key")
    cli.run("keys", "list", expect=0)                               # old key: mismatch shown
    cli.run("verify", "tables/people", expect=codes.KEY_ERROR)      # old key refused
    cli.run("--master-key-file", "new.key", "verify", "tables/people")
    cli.run("keys", "list", "--master-key-file", "new.key")
    cli.run("keys", "rotate", "--new-master-key-file", "new.key",
            "--master-key-file", "new.key", expect=codes.KEY_ERROR)  # same key
    assert_golden("keys_lifecycle", cli.normalized_transcript())


def test_encrypt_inspect_verify_decrypt(cli):
    write_master_key(cli.home / ".config/teespark/master.key", KNOWN_MASTER_KEY)
    cli.run("keys", "init")
    (cli.cwd / "people.csv").write_text(PEOPLE_CSV)
    cli.run("encrypt", "people.csv", "tables/people", "--schema", PEOPLE_SCHEMA,
            "--rows-per-block", "3")
    cli.run("encrypt", "people.csv", "tables/inferred", "--string-length", "name=24",
            "--string-length", "city=24", "--table-name", "people_inferred")
    cli.run("inspect", "tables/people")
    cli.run("verify", "tables/people")
    cli.run("decrypt", "tables/people", "people.out.csv")
    cli.run("decrypt", "tables/inferred", "-")
    cli.run("decrypt", "tables/people", "people.parquet")
    cli.run("keys", "list")
    assert_golden("encrypt_inspect_verify_decrypt", cli.normalized_transcript())
    # beyond the transcript: the decrypted CSV is the input, written 0600
    out = cli.cwd / "people.out.csv"
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert oct((cli.cwd / "people.parquet").stat().st_mode & 0o777) == "0o600"


def test_usage_errors(cli):
    cli.run(expect=codes.USAGE_ERROR)
    cli.run("keys", expect=codes.USAGE_ERROR)
    cli.run("encrypt", "in.csv", expect=codes.USAGE_ERROR)
    cli.run("encrypt", "in.csv", "out", "--rows-per-block", "0", expect=codes.USAGE_ERROR)
    cli.run("encrypt", "in.csv", "out", "--string-length", "name", expect=codes.USAGE_ERROR)
    cli.run("encrypt", "in.csv", "out", "--schema", "a:int64", "--string-length", "a=3",
            expect=codes.USAGE_ERROR)
    cli.run("encrypt", "in.txt", "out", expect=codes.USAGE_ERROR)
    cli.run("decrypt", "t", "out.json", expect=codes.USAGE_ERROR)
    cli.run("keys", "rotate", expect=codes.USAGE_ERROR)
    cli.run("verify", "t", "--frobnicate", expect=codes.USAGE_ERROR)
    assert_golden("usage_errors", cli.normalized_transcript())


def test_key_errors(cli):
    key_file = cli.home / ".config/teespark/master.key"
    (cli.cwd / "people.csv").write_text(PEOPLE_CSV)
    cli.run("encrypt", "people.csv", "t", expect=codes.KEY_ERROR)        # no master key
    write_master_key(key_file, KNOWN_MASTER_KEY)
    cli.run("encrypt", "people.csv", "t", expect=codes.KEY_ERROR)        # no keyring
    cli.run("keys", "init")
    os.chmod(key_file, 0o644)
    cli.run("keys", "list", expect=0)          # list needs no key: says why not checked
    cli.run("encrypt", "people.csv", "t", expect=codes.KEY_ERROR)        # unsafe mode
    os.chmod(key_file, 0o600)
    cli.run("encrypt", "people.csv", "t")
    other = {"TEESPARK_MASTER_KEY": OTHER_MASTER_KEY.hex()}
    cli.run("decrypt", "t", "x.csv", env=other, expect=codes.KEY_ERROR)  # wrong key
    cli.run("decrypt", "t", "x.csv", env={"TEESPARK_MASTER_KEY": "not-a-key"},
            expect=codes.KEY_ERROR)
    cli.run("inspect", "t", env=other)                                   # unverified
    write_master_key(cli.cwd / "other.key", OTHER_MASTER_KEY)
    cli.run("--keyring", "other-ring.json", "--master-key-file", "other.key", "keys", "init")
    cli.run("verify", "t", "--keyring", "other-ring.json", "--master-key-file", "other.key",
            expect=codes.KEY_ERROR)                                      # key not in ring
    cli.run("keys", "init", "--master-key-file", "k2.key", expect=codes.ERROR)
    assert not (cli.cwd / "x.csv").exists()
    assert_golden("key_errors", cli.normalized_transcript())


def test_data_and_integrity_errors(cli):
    write_master_key(cli.home / ".config/teespark/master.key", KNOWN_MASTER_KEY)
    cli.run("keys", "init")
    (cli.cwd / "people.csv").write_text(PEOPLE_CSV)
    cli.run("encrypt", "people.csv", "t", "--schema", PEOPLE_SCHEMA.replace("16", "8"),
            expect=codes.INPUT_ERROR)                                    # value too long
    cli.run("encrypt", "people.csv", "t", "--schema", "id:int64, name:string(20)",
            expect=codes.INPUT_ERROR)                                    # columns differ
    cli.run("encrypt", "people.csv", "t", "--schema", PEOPLE_SCHEMA.replace("date", "dat"),
            expect=codes.INPUT_ERROR)                                    # bad type
    (cli.cwd / "ragged.csv").write_text("a,b\n1,2\nsecret-value\n")
    cli.run("encrypt", "ragged.csv", "t", expect=codes.INPUT_ERROR)
    (cli.cwd / "typed.csv").write_text("a,b\n1,2\nsecret-value,3\n")
    cli.run("encrypt", "typed.csv", "t", "--schema", "a:int64, b:int64",
            expect=codes.INPUT_ERROR)
    cli.run("encrypt", "people.csv", "t", "--schema", PEOPLE_SCHEMA, "--rows-per-block", "2")
    cli.run("encrypt", "people.csv", "t", expect=codes.ERROR)            # exists
    cli.run("encrypt", "people.csv", "t", "--schema", PEOPLE_SCHEMA, "--rows-per-block", "2",
            "--overwrite")
    cli.run("verify", "missing", expect=codes.INPUT_ERROR)
    # tamper with one sealed byte of block 1
    import glob

    import pyarrow as pa
    import pyarrow.parquet as pq
    [f] = glob.glob(str(cli.cwd / "t" / "blocks-*.parquet"))
    table = pq.read_table(f)
    sealed = [bytearray(b) for b in table.column("sealed").to_pylist()]
    sealed[1][100] ^= 0x01
    pq.write_table(pa.table({"block_index": table.column("block_index"),
                             "sealed": pa.array([bytes(b) for b in sealed], pa.binary())}), f)
    cli.run("verify", "t", expect=codes.INTEGRITY_ERROR)
    cli.run("decrypt", "t", "x.csv", expect=codes.INTEGRITY_ERROR)
    # edit the manifest: inspect shows it, marked as failed, and exits non-zero
    cli.run("encrypt", "people.csv", "t", "--schema", PEOPLE_SCHEMA, "--overwrite")
    manifest = cli.cwd / "t" / "_manifest.json"
    doc = json.loads(manifest.read_text())
    doc["table_name"] = "renamed"
    manifest.write_text(json.dumps(doc))
    cli.run("inspect", "t", expect=codes.INTEGRITY_ERROR)
    cli.run("verify", "t", expect=codes.INTEGRITY_ERROR)
    assert not (cli.cwd / "x.csv").exists()
    transcript = cli.normalized_transcript()
    assert "secret-value" not in transcript  # CSV errors do not quote input values
    assert_golden("data_and_integrity_errors", transcript)
