"""No key material ever leaves the CLI: not on stdout/stderr, not in any file it writes.

Runs every command of the owner's CLI in subprocesses, successes and failures
(tampered table, wrong master key, --debug tracebacks), with master keys the
test knows, then collects every data key from the keyring and searches all
output and every file under the temporary directory for any of those keys in
raw, hex, base64 (any alignment) or repr form (tests/secrets_scan.py). The
only file allowed to hold a master key is that key's own key file.

Plaintext sentinels from the input must not appear either, except in the
input and in what ``decrypt`` was asked to write.
"""

from __future__ import annotations

import base64
import glob
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from cli_helpers import write_master_key
from secrets_scan import SecretScanner

from teespark import _exit_codes as codes
from teespark.crypto.keyring import Keyring
from teespark.crypto.master_key import MasterKey

SENTINELS = ["SENTINEL-alpha-7d1f09", "SENTINEL-bravo-c3e2aa", "SENTINEL-charlie-51b7"]
CSV = ("id,secret_text,amount\n"
       f"1,{SENTINELS[0]},10.5\n2,{SENTINELS[1]},-3\n3,{SENTINELS[2]},7\n")


def _tamper_first_block(table_dir) -> None:
    [f] = glob.glob(str(table_dir / "blocks-*.parquet"))
    t = pq.read_table(f)
    sealed = [bytearray(b) for b in t.column("sealed").to_pylist()]
    sealed[0][-20] ^= 0x40
    pq.write_table(pa.table({"block_index": t.column("block_index"),
                             "sealed": pa.array([bytes(b) for b in sealed], pa.binary())}), f)


def test_cli_never_reveals_keys_or_plaintext(cli, tmp_path):
    master = os.urandom(32)
    other = os.urandom(32)
    key_file = write_master_key(cli.home / ".config/teespark/master.key", master)
    other_file = write_master_key(cli.cwd / "other.key", other)
    (cli.cwd / "in.csv").write_text(CSV)
    plaintext_outputs = []  # results whose stdout is decrypted data by request

    cli.run("keys", "init")
    cli.run("encrypt", "in.csv", "t", "--rows-per-block", "2")
    cli.run("--debug", "encrypt", "in.csv", "t2", "--schema",
            "id:int64, secret_text:string(32), amount:float64")
    cli.run("encrypt", "in.csv", "t3", "--schema", "id:int64, secret_text:string(4), "
            "amount:float64", expect=codes.INPUT_ERROR)
    cli.run("--debug", "encrypt", "in.csv", "t3", "--schema", "id:int64, "
            "secret_text:string(4), amount:float64", expect=codes.INPUT_ERROR)
    cli.run("decrypt", "t", "out.csv")
    cli.run("decrypt", "t2", "out.parquet")
    plaintext_outputs.append(cli.run("decrypt", "t", "-"))
    cli.run("inspect", "t")
    cli.run("inspect", "t", "--json")
    cli.run("verify", "t")
    cli.run("keys", "list")
    cli.run("keys", "list", "--json")
    _tamper_first_block(cli.cwd / "t")
    cli.run("verify", "t", expect=codes.INTEGRITY_ERROR)
    cli.run("--debug", "verify", "t", expect=codes.INTEGRITY_ERROR)
    cli.run("--debug", "decrypt", "t", "bad.csv", expect=codes.INTEGRITY_ERROR)
    wrong = {"TEESPARK_MASTER_KEY": other.hex()}
    cli.run("decrypt", "t2", "x.csv", env=wrong, expect=codes.KEY_ERROR)
    cli.run("--debug", "verify", "t2", env=wrong, expect=codes.KEY_ERROR)
    cli.run("inspect", "t2", env=wrong)
    cli.run("verify", "t2", "--master-key-file", str(other_file), expect=codes.KEY_ERROR)
    cli.run("keys", "rotate", "--new-master-key-file", "new.key")
    new_file = cli.cwd / "new.key"
    cli.run("--master-key-file", "new.key", "verify", "t2")
    cli.run("verify", "t2", expect=codes.KEY_ERROR)  # the old key is now wrong

    new_master = MasterKey.from_file(new_file)
    ring = Keyring.open(cli.home / ".config/teespark/keyring.json", new_master)
    data_keys = {f"data key {e.table_name} {e.key_id[:8]}": ring.get(e.key_id)
                 for e in ring.entries()}
    assert len(data_keys) == 2  # t and t2 (the refused t3 left no key behind)
    new_raw = bytes.fromhex(new_file.read_text().strip())
    secrets = {"master key": master, "other master key": other, "new master key": new_raw,
               **data_keys}
    scanner = SecretScanner(secrets)

    # 1. stdout and stderr of every run
    for res in cli.results:
        scanner.assert_clean(res.stdout_bytes, where=f"stdout of teespark {res.args}")
        scanner.assert_clean(res.stderr_bytes, where=f"stderr of teespark {res.args}")
        if res not in plaintext_outputs:
            for s in SENTINELS:
                assert s not in res.stdout + res.stderr, (s, res.args)
    assert sum("Traceback" in r.stderr for r in cli.results) >= 4  # --debug runs did run

    # 2. every file under the temp dir; a master key file may hold only its own key
    key_files = {key_file: "master key", other_file: "other master key",
                 new_file: "new master key"}
    scanner.assert_tree_clean(tmp_path, exclude=key_files)
    for path, own in key_files.items():
        SecretScanner({k: v for k, v in secrets.items() if k != own}).assert_clean(
            path.read_bytes(), where=str(path))

    # 3. plaintext only where it was asked for
    allowed = {cli.cwd / "in.csv", cli.cwd / "out.csv", cli.cwd / "out.parquet"}
    for dirpath, _dirs, files in os.walk(tmp_path):
        for name in files:
            path = Path(dirpath) / name
            if path in allowed:
                continue
            data = path.read_bytes()
            for s in SENTINELS:
                assert s.encode() not in data, f"plaintext {s} in {path}"

    # negative controls: the scans can fail
    keyring_text = (cli.home / ".config/teespark/keyring.json").read_bytes()
    planted = cli.cwd / "planted.log"
    first_key = next(iter(data_keys.values()))
    planted.write_bytes(b"debug: key=" + base64.b64encode(b"\x00" + first_key) + b"\n")
    assert scanner.find_in_tree(tmp_path, exclude=key_files), "planted base64 key not found"
    planted.unlink()
    assert scanner.find(key_file.read_bytes(), where="master.key"), \
        "the master key file itself must match (else the scan reads nothing)"
    assert scanner.find(keyring_text + first_key.hex().upper().encode(), where="x")
    assert SENTINELS[0].encode() in (cli.cwd / "out.csv").read_bytes()
