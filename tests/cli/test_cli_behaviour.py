"""What the CLI does beyond its text: files it writes, round trips, delegation, --debug."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import sys
import tomllib

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from cli_helpers import KNOWN_MASTER_KEY, PEOPLE_CSV, PEOPLE_SCHEMA, ROOT, write_master_key

from teespark import _exit_codes as codes
from teespark import cli as cli_module


@pytest.fixture
def keyed(cli):
    write_master_key(cli.home / ".config/teespark/master.key", KNOWN_MASTER_KEY)
    cli.run("keys", "init")
    (cli.cwd / "people.csv").write_text(PEOPLE_CSV)
    return cli


def _typed_people() -> pa.Table:
    from teespark.format.schema import Schema

    schema = Schema.from_spec(PEOPLE_SCHEMA)
    return pacsv.read_csv(io.BytesIO(PEOPLE_CSV.encode()), convert_options=pacsv.ConvertOptions(
        column_types={c.name: c.column_type.to_arrow() for c in schema.columns}))


def test_keys_init_writes_0600_files_and_never_overwrites(cli):
    cli.run("keys", "init")
    key = cli.home / ".config/teespark/master.key"
    ring = cli.home / ".config/teespark/keyring.json"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(ring.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    before = key.read_bytes()
    ring.unlink()
    cli.run("keys", "init")                      # new keyring, same master key
    assert key.read_bytes() == before
    assert json.loads(ring.read_text())["keys"] == []


def test_csv_round_trip_with_schema(keyed):
    keyed.run("encrypt", "people.csv", "t", "--schema", PEOPLE_SCHEMA, "--rows-per-block", "3")
    keyed.run("decrypt", "t", "back.csv")
    keyed.run("decrypt", "t", "back.parquet")
    expected = _typed_people()
    from_parquet = pq.read_table(keyed.cwd / "back.parquet")
    assert from_parquet.cast(expected.schema).equals(expected)
    back = pacsv.read_csv(keyed.cwd / "back.csv", convert_options=pacsv.ConvertOptions(
        column_types=expected.schema))
    assert back.equals(expected)


def test_parquet_input_and_stdout_output(keyed):
    df = pd.DataFrame({"k": [3, 1, 2], "flag": [True, False, None], "v": [0.5, None, -1.25]})
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), keyed.cwd / "in.parquet")
    keyed.run("encrypt", "in.parquet", "t")
    res = keyed.run("decrypt", "t", "-")
    back = pacsv.read_csv(io.BytesIO(res.stdout_bytes))
    assert back.to_pydict() == {"k": [3, 1, 2], "flag": [True, False, None],
                                "v": [0.5, None, -1.25]}
    assert "decrypted 't': 3 rows" in res.stderr


def test_progress_bar_goes_to_stderr(keyed):
    res = keyed.run("encrypt", "people.csv", "t", "--progress")
    assert "encrypt t" in res.stderr and "row" in res.stderr
    assert "encrypted 't'" in res.stdout and "encrypt t:" not in res.stdout
    res = keyed.run("encrypt", "people.csv", "t2")  # small input, not a TTY: no bar
    assert res.stderr == ""


def test_refused_encrypt_leaves_no_key_and_no_table(keyed):
    ring = keyed.home / ".config/teespark/keyring.json"
    before = ring.read_bytes()
    keyed.run("encrypt", "people.csv", "t", "--schema", PEOPLE_SCHEMA.replace("16", "4"),
              expect=codes.INPUT_ERROR)
    assert ring.read_bytes() == before
    assert sorted(p.name for p in keyed.cwd.iterdir()) == ["people.csv"]


def test_rotation_keeps_tables_byte_identical_and_readable(keyed):
    keyed.run("encrypt", "people.csv", "t", "--schema", PEOPLE_SCHEMA)
    digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
              for p in (keyed.cwd / "t").iterdir()}
    keyed.run("keys", "rotate", "--new-master-key-file", "new.key")
    assert stat.S_IMODE((keyed.cwd / "new.key").stat().st_mode) == 0o600
    assert digest == {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                      for p in (keyed.cwd / "t").iterdir()}
    keyed.run("decrypt", "t", "x.csv", expect=codes.KEY_ERROR)
    keyed.run("--master-key-file", "new.key", "decrypt", "t", "x.csv")
    assert pacsv.read_csv(keyed.cwd / "x.csv").num_rows == 4


def test_failed_rotation_removes_the_new_key_file_and_keeps_the_keyring(keyed):
    keyed.run("encrypt", "people.csv", "t")
    ring = keyed.home / ".config/teespark/keyring.json"
    doc = json.loads(ring.read_text())
    doc["keys"][0]["table_name"] = "moved"
    ring.write_text(json.dumps(doc))
    before = ring.read_bytes()
    keyed.run("keys", "rotate", "--new-master-key-file", "new.key",
              expect=codes.INTEGRITY_ERROR)
    assert not (keyed.cwd / "new.key").exists()
    assert ring.read_bytes() == before


def test_env_master_key_hex_and_base64(cli):
    import base64
    for value in (KNOWN_MASTER_KEY.hex(), base64.b64encode(KNOWN_MASTER_KEY).decode()):
        env = {"TEESPARK_MASTER_KEY": value, "TEESPARK_KEYRING": str(cli.cwd / "ring.json")}
        if not (cli.cwd / "ring.json").exists():
            res = cli.run("keys", "init", env=env)
            assert "no master key file written" in res.stdout
            assert not (cli.home / ".config/teespark/master.key").exists()
        res = cli.run("keys", "list", env=env)
        assert "matches the master key from TEESPARK_MASTER_KEY" in res.stdout


def test_tracebacks_only_with_debug(keyed):
    res = keyed.run("verify", "nope", expect=codes.INPUT_ERROR)
    assert "Traceback" not in res.stderr
    res = keyed.run("--debug", "verify", "nope", expect=codes.INPUT_ERROR)
    assert "Traceback (most recent call last)" in res.stderr
    assert res.stderr.rstrip().splitlines()[-3].startswith("error: table-not-found")


def test_inspect_json_without_keys(keyed, tmp_path):
    keyed.run("encrypt", "people.csv", "t", "--schema", PEOPLE_SCHEMA)
    res = keyed.run("inspect", "t", "--json", env={"HOME": str(tmp_path / "empty")})
    doc = json.loads(res.stdout)
    assert doc["verified"] is False and doc["row_count"] == 4
    assert doc["schema"]["columns"][1] == {"name": "name", "type": "string(16)",
                                           "nullable": True}
    for value in ("Ann Lee", "Lyon", "1250.5", "2021-03-04"):  # no plaintext
        assert value not in res.stdout


def test_unexpected_error_is_a_bug_report_without_traceback(monkeypatch, capsys):
    def boom(args):
        raise RuntimeError("kaboom")
    monkeypatch.setattr(cli_module, "_cmd_keys_list", boom)
    assert cli_module.main(["keys", "list"]) == codes.UNEXPECTED_ERROR
    err = capsys.readouterr().err
    assert err.startswith("error: unexpected-error\n  RuntimeError: kaboom\n")
    assert "bug in teespark" in err and "Traceback" not in err
    assert cli_module.main(["--debug", "keys", "list"]) == codes.UNEXPECTED_ERROR
    assert "Traceback" in capsys.readouterr().err


def test_kbs_delegates_to_the_key_broker(cli):
    pytest.importorskip("teespark.kbs.server")
    res = cli.run("kbs", "--help")
    assert "teespark kbs" in res.stdout


def test_kbs_missing_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "teespark.kbs.server", None)  # import fails
    assert cli_module.main(["kbs", "serve"]) == codes.UNAVAILABLE
    assert capsys.readouterr().err.startswith("error: kbs-unavailable\n")


def test_console_script_points_at_cli_main():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["teespark"] == "teespark.cli:main"
    assert cli_module.main is not None


def test_exit_codes_are_distinct():
    values = [getattr(codes, n) for n in codes.__all__]
    assert len(values) == len(set(values))


def test_every_diagnosis_reference_is_kebab_case():
    import re
    for _cls, reference, _code, _hint in cli_module._DIAGNOSES:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", reference), reference
