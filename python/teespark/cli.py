"""The ``teespark`` command line: a thin layer over the owner-side API.

    teespark keys init | rotate --new-master-key-file F | list
    teespark encrypt INPUT OUTPUT      CSV/Parquet -> encrypted table
    teespark decrypt TABLE OUTPUT      encrypted table -> CSV/Parquet
    teespark inspect TABLE             manifest and counts (no key needed)
    teespark verify TABLE              authenticate every block and the manifest
    teespark kbs ...                   the key broker (teespark.kbs.server)

Errors are printed in pip's shape (``error: <reference>``, the message
indented, ``hint: ...``) with the exit codes of :mod:`teespark._exit_codes`;
tracebacks appear only with ``--debug``. Nothing here prints key material or
table contents (``decrypt`` writes plaintext only to the output it was
given); tests/cli/test_no_secrets_leak.py checks it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TextIO

from teespark import _exit_codes as codes
from teespark import errors as E

PROG = "teespark"
#: Input above this many plaintext bytes gets a progress bar (when stderr is a TTY).
PROGRESS_THRESHOLD_BYTES = 64 << 20

log = logging.getLogger("teespark.cli")


# --------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------


class CliError(Exception):
    """An expected failure found by the CLI itself (not by the library)."""

    def __init__(self, reference: str, message: str, *, hint: str | None = None,
                 exit_code: int = codes.ERROR) -> None:
        super().__init__(message)
        self.reference = reference
        self.message = message
        self.hint = hint
        self.exit_code = exit_code


class _UsageError(Exception):
    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


@dataclass(frozen=True)
class Diagnostic:
    """What the CLI prints for a failure, and the exit code."""

    reference: str
    message: str
    hint: str | None
    exit_code: int
    note: str | None = None

    def render(self) -> str:
        lines = [f"error: {self.reference}"]
        lines += ["  " + line for line in self.message.splitlines() or [""]]
        if self.note:
            lines.append(f"note: {self.note}")
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines) + "\n"


_RESTORE_TABLE = ("Do not trust this copy. Restore the table from a backup, or encrypt it "
                  "again from its source with 'teespark encrypt'.")

# (exception class, reference, exit code, hint); the first matching entry wins,
# so subclasses come before their bases.
_DIAGNOSES: list[tuple[type[BaseException], str, int, str | None]] = [
    (E.MasterKeyNotFoundError, "master-key-not-found", codes.KEY_ERROR,
     "Create one with 'teespark keys init', pass --master-key-file PATH, or set "
     "TEESPARK_MASTER_KEY."),
    (E.MasterKeyPermissionError, "master-key-file-unprotected", codes.KEY_ERROR,
     "Run 'chmod 600' on the file. If anyone else could have read it, rotate the key: "
     "'teespark keys rotate --new-master-key-file NEW'."),
    (E.MasterKeyFormatError, "master-key-malformed", codes.KEY_ERROR,
     "A master key is 64 hex characters (or base64 of 32 bytes); 'teespark keys init' "
     "writes one."),
    (E.MasterKeyExistsError, "master-key-exists", codes.ERROR,
     "teespark never overwrites a master key: the tables encrypted under it would become "
     "unreadable. Choose another path with --master-key-file."),
    (E.KeyringNotFoundError, "keyring-not-found", codes.KEY_ERROR,
     "Create one with 'teespark keys init', or point --keyring (or TEESPARK_KEYRING) at "
     "an existing keyring."),
    (E.KeyringExistsError, "keyring-exists", codes.ERROR,
     "Keep using the existing keyring, or choose another path with --keyring."),
    (E.KeyringFormatError, "keyring-malformed", codes.KEY_ERROR,
     "Restore the keyring file from a backup."),
    (E.WrongMasterKeyError, "wrong-master-key", codes.KEY_ERROR,
     "Use the master key this keyring was created with (--master-key-file or "
     "TEESPARK_MASTER_KEY); after 'teespark keys rotate' that is the new key."),
    (E.DataKeyNotFoundError, "data-key-not-found", codes.KEY_ERROR,
     "Pass the keyring that holds the table's key with --keyring ('teespark keys list' "
     "shows the key ids of a keyring, 'teespark inspect' the key id of a table)."),
    (E.DataKeyUnwrapError, "keyring-tampered", codes.INTEGRITY_ERROR,
     "Restore the keyring from a backup, and find out who could write to it."),
    (E.ManifestAuthenticationError, "manifest-authentication-failed",
     codes.INTEGRITY_ERROR, _RESTORE_TABLE),
    (E.BlockAuthenticationError, "block-authentication-failed", codes.INTEGRITY_ERROR,
     _RESTORE_TABLE),
    (E.BlockSequenceError, "block-sequence-invalid", codes.INTEGRITY_ERROR, _RESTORE_TABLE),
    (E.BlockFormatError, "block-malformed", codes.INTEGRITY_ERROR, _RESTORE_TABLE),
    (E.TableNotFoundError, "table-not-found", codes.INPUT_ERROR,
     "Give the directory that 'teespark encrypt' wrote (it holds _manifest.json)."),
    (E.TableFormatError, "table-malformed", codes.INTEGRITY_ERROR, _RESTORE_TABLE),
    (E.TableExistsError, "output-exists", codes.ERROR, "Pass --overwrite to replace it."),
    (E.ValueTooLongError, "value-too-long", codes.INPUT_ERROR,
     "Declare a longer string: --schema 'COLUMN:string(N), ...' or --string-length "
     "COLUMN=N."),
    (E.ValueOutOfRangeError, "value-out-of-range", codes.INPUT_ERROR,
     "Declare a type that holds the value in --schema, or correct the input."),
    (E.SchemaMismatchError, "schema-mismatch", codes.INPUT_ERROR,
     "Make --schema match the input's columns and types."),
    (E.InvalidSchemaError, "invalid-schema", codes.INPUT_ERROR,
     "Write the schema as 'name:type, ...' with types int32, int64, float64, "
     "decimal(p,s), date, timestamp, bool, string(n); add 'not null' where needed."),
    (E.KbsError, "kbs-error", codes.ERROR, None),
    (E.EnclaveError, "enclave-error", codes.ERROR, None),
]


def _kebab(name: str) -> str:
    name = re.sub(r"Error$", "", name)
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower() or "error"


def diagnose(exc: BaseException) -> Diagnostic:
    """Map an exception to what the CLI prints (reference, message, hint, exit code)."""
    if isinstance(exc, CliError):
        return Diagnostic(exc.reference, exc.message, exc.hint, exc.exit_code)
    for cls, reference, exit_code, hint in _DIAGNOSES:
        if isinstance(exc, cls):
            return Diagnostic(reference, str(exc), hint, exit_code)
    if isinstance(exc, E.TeesparkError):
        return Diagnostic(_kebab(type(exc).__name__), str(exc), None, codes.ERROR)
    if isinstance(exc, PermissionError):
        return Diagnostic("permission-denied", str(exc),
                          "Check the permissions of the file and its directory.", codes.ERROR)
    if isinstance(exc, OSError):
        return Diagnostic("os-error", str(exc), None, codes.ERROR)
    return Diagnostic("unexpected-error", f"{type(exc).__name__}: {exc}",
                      "Rerun with --debug to see the traceback, and report it.",
                      codes.UNEXPECTED_ERROR, note="This is likely a bug in teespark.")


# --------------------------------------------------------------------------------------
# argument parsing
# --------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors raise (rendered in pip's shape by main)."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(self, message)


def _add_global_options(p: argparse.ArgumentParser, *, top: bool) -> None:
    # On subcommands the defaults are SUPPRESS, so `teespark --keyring K encrypt`
    # and `teespark encrypt --keyring K` both work and neither erases the other.
    d = (lambda v: v) if top else (lambda v: argparse.SUPPRESS)
    g = p.add_argument_group("global options")
    g.add_argument("--keyring", metavar="PATH", default=d(None),
                   help="keyring file (default: $TEESPARK_KEYRING, else "
                        "~/.config/teespark/keyring.json)")
    g.add_argument("--master-key-file", metavar="PATH", default=d(None),
                   help="master key file, mode 0600 (default: $TEESPARK_MASTER_KEY, else "
                        "~/.config/teespark/master.key)")
    g.add_argument("--debug", action="store_true", default=d(False),
                   help="show tracebacks and debug logs")


def _string_length(text: str) -> tuple[str, int]:
    name, sep, n = text.rpartition("=")
    if not sep or not name or not n.isdigit() or int(n) < 1:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not COLUMN=N with N a positive number of bytes")
    return name, int(n)


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive integer")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree of ``teespark`` (exposed for tests and docs)."""
    from teespark import __version__

    parser = _Parser(
        prog=PROG,
        description="Encrypt tables for teespark, manage the owner's keys, and check "
                    "encrypted tables.",
        epilog="Run 'teespark COMMAND --help' for the options of a command. "
               "docs/KEYS.md describes the keys.")
    parser.add_argument("--version", action="version", version=f"teespark {__version__}")
    _add_global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(parent: Any, name: str, help_text: str, func: Any) -> argparse.ArgumentParser:
        p = parent.add_parser(name, help=help_text, description=help_text)
        _add_global_options(p, top=False)
        p.set_defaults(func=func)
        return p

    keys = sub.add_parser("keys", help="create, rotate and list the owner's keys",
                          description="Create, rotate and list the owner's keys.")
    keys_sub = keys.add_subparsers(dest="keys_command", metavar="KEYS_COMMAND",
                                   parser_class=_Parser)
    keys.set_defaults(func=None, parser=keys)
    command(keys_sub, "init", "create a master key file (mode 0600) and an empty keyring",
            _cmd_keys_init)
    p = command(keys_sub, "rotate",
                "re-wrap every data key under a new master key (tables are not touched)",
                _cmd_keys_rotate)
    p.add_argument("--new-master-key-file", metavar="PATH", required=True,
                   help="the new master key; created (mode 0600) if it does not exist")
    p = command(keys_sub, "list", "list the data keys of a keyring (ids and tables, never keys)",
                _cmd_keys_list)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command(sub, "encrypt", "encrypt a CSV or Parquet file into an encrypted table",
                _cmd_encrypt)
    p.add_argument("input", metavar="INPUT", help="a .csv (.csv.gz) or .parquet file")
    p.add_argument("output", metavar="OUTPUT", help="the table directory to create")
    p.add_argument("--schema", metavar="SPEC",
                   help="column types, e.g. \"id:int64 not null, name:string(20), "
                        "amount:decimal(12,2)\" (default: inferred from the input)")
    p.add_argument("--string-length", metavar="COLUMN=N", action="append", default=[],
                   type=_string_length,
                   help="declared UTF-8 byte length of a string column of an inferred "
                        "schema (repeatable; default: the longest value, which the row "
                        "size then reveals)")
    p.add_argument("--table-name", metavar="NAME",
                   help="the table's name (default: OUTPUT's directory name)")
    p.add_argument("--rows-per-block", metavar="N", type=_positive_int,
                   help="rows per sealed block (default: about 1 MiB of rows)")
    p.add_argument("--input-format", choices=("csv", "parquet"),
                   help="the input's format (default: from its extension)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing table")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_const", const=True,
                     default=None, help="always show a progress bar on stderr")
    bar.add_argument("--no-progress", dest="progress", action="store_const", const=False,
                     help="never show a progress bar (default: on large inputs when "
                          "stderr is a terminal)")

    p = command(sub, "decrypt", "decrypt an encrypted table into a CSV or Parquet file",
                _cmd_decrypt)
    p.add_argument("table", metavar="TABLE", help="the encrypted table directory")
    p.add_argument("output", metavar="OUTPUT",
                   help="a .csv or .parquet file (created with mode 0600), or - for CSV "
                        "on stdout")
    p.add_argument("--output-format", choices=("csv", "parquet"),
                   help="the output's format (default: from its extension)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")

    p = command(sub, "inspect", "show a table's manifest and counts (no key needed, no "
                "plaintext)", _cmd_inspect)
    p.add_argument("table", metavar="TABLE", help="the encrypted table directory")
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command(sub, "verify", "authenticate a table's manifest and every block",
                _cmd_verify)
    p.add_argument("table", metavar="TABLE", help="the encrypted table directory")

    p = sub.add_parser("kbs", help="run and administer the key broker (teespark kbs --help)",
                       add_help=False, prefix_chars="\0")
    p.add_argument("kbs_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=_cmd_kbs)
    return parser


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _keyring_path(args: argparse.Namespace) -> Path:
    from teespark.crypto.master_key import default_keyring_path

    return Path(args.keyring) if args.keyring else default_keyring_path()


def _master_key(args: argparse.Namespace):
    from teespark.crypto.master_key import MasterKey

    return MasterKey.resolve(args.master_key_file)


def _open_keyring(args: argparse.Namespace):
    from teespark.crypto.keyring import Keyring

    return Keyring.open(_keyring_path(args), _master_key(args))


def _table_dir(path: str) -> Path:
    p = Path(path)
    return p.parent if p.name == "_manifest.json" else p


def _format_of(path: str, explicit: str | None, *, what: str, option: str) -> str:
    if explicit:
        return explicit
    name = path.lower()
    if name.endswith((".csv", ".csv.gz", ".csv.bz2", ".csv.zst", ".tsv")):
        return "csv"
    if name.endswith((".parquet", ".pq", ".parq")):
        return "parquet"
    raise CliError("unknown-file-format",
                   f"cannot tell the format of {what} '{path}' from its extension",
                   hint=f"Name it .csv or .parquet, or pass {option} csv|parquet.",
                   exit_code=codes.USAGE_ERROR)


def _scrub_arrow_message(message: str, names: Sequence[str]) -> str:
    """Drop quoted input values from a pyarrow CSV error; name the column."""
    message = re.sub(r"(Expected \d+ columns, got \d+):.*", r"\1", message, flags=re.S)
    message = re.sub(r"'[^'\n]*'", "<value>", message)

    def column(m: re.Match[str]) -> str:
        i = int(m.group(1))
        return f"column '{names[i]}'" if i < len(names) else m.group(0)
    return re.sub(r"CSV column #(\d+)", column, message)


def _csv_header(path: str) -> list[str]:
    try:
        import pyarrow.csv as pacsv

        with pacsv.open_csv(path) as reader:
            return list(reader.schema.names)
    except Exception:  # noqa: BLE001 - only used to improve a message
        return []


def _read_input(args: argparse.Namespace, schema: Any) -> Any:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = args.input
    fmt = _format_of(path, args.input_format, what="input", option="--input-format")
    if not os.path.exists(path):
        raise CliError("input-not-found", f"input file '{path}' does not exist",
                       hint="Check the path.", exit_code=codes.INPUT_ERROR)
    if os.path.isdir(path) and fmt == "csv":
        raise CliError("input-not-found", f"input '{path}' is a directory, not a CSV file",
                       exit_code=codes.INPUT_ERROR)
    try:
        if fmt == "parquet":
            return pq.read_table(path)
        convert = pacsv.ConvertOptions()
        if schema is not None:
            types = {}
            for c in schema.columns:
                t = c.column_type.to_arrow()
                if pa.types.is_timestamp(t):
                    t = pa.timestamp("us")  # CSV text has no zone; read as UTC wall time
                types[c.name] = t
            convert = pacsv.ConvertOptions(column_types=types)
        return pacsv.read_csv(path, convert_options=convert)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        names = _csv_header(path) if fmt == "csv" else []
        raise CliError("input-unreadable",
                       f"cannot read '{path}' as {fmt.upper()}: "
                       f"{_scrub_arrow_message(str(exc), names)}",
                       hint="Check the file (for CSV: a header line, one row per line, the "
                            "same number of fields in every row), or fix --schema.",
                       exit_code=codes.INPUT_ERROR) from None


class _TqdmProgress:
    """A tqdm bar on stderr fed with the rows write_table reports."""

    def __init__(self, total: int, desc: str) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="row", unit_scale=True, desc=desc,
                        file=sys.stderr, leave=False, dynamic_ncols=True)

    def update(self, n: int) -> None:
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


@contextlib.contextmanager
def _private_output(path: Path, overwrite: bool):
    """Yield a temporary path beside ``path`` (mode 0600); rename it into place on success."""
    if path.exists() and not overwrite:
        raise CliError("output-exists", f"'{path}' already exists",
                       hint="Pass --overwrite to replace it.")
    if path.is_dir():
        raise CliError("output-exists", f"'{path}' is a directory", hint="Give a file name.")
    parent = path.parent if str(path.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=parent)
    os.fchmod(fd, 0o600)  # decrypted data: readable by its owner only
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _table_key(table: Path, args: argparse.Namespace) -> tuple[Any, bytes]:
    from teespark.api import _data_key_for

    return _data_key_for(table, _open_keyring(args))


# --------------------------------------------------------------------------------------
# commands
# --------------------------------------------------------------------------------------


def _cmd_keys_init(args: argparse.Namespace) -> int:
    from teespark.crypto.keyring import Keyring
    from teespark.crypto.master_key import ENV_MASTER_KEY, MasterKey, default_master_key_path

    ring_path = _keyring_path(args)
    if ring_path.exists():
        raise E.KeyringExistsError(f"keyring '{ring_path}' already exists; refusing to "
                                   "overwrite it")
    if args.master_key_file is None and os.environ.get(ENV_MASTER_KEY):
        master = MasterKey.from_env()
        _out(f"using the master key from {ENV_MASTER_KEY} (no master key file written)")
    else:
        key_path = Path(args.master_key_file) if args.master_key_file \
            else default_master_key_path()
        if key_path.exists():
            master = MasterKey.from_file(key_path)
            _out(f"using existing master key file {key_path}")
        else:
            master = MasterKey.generate()
            master.write(key_path)
            _out(f"created master key file {key_path} (mode 0600)")
    ring = Keyring.create(ring_path, master)
    _out(f"created keyring {ring.path} (mode 0600)")
    _out(f"  master key id  {master.key_id}")
    _out("Back up the master key somewhere safe and offline: without it, no table "
         "encrypted with this keyring can be decrypted.")
    return codes.SUCCESS


def _cmd_keys_rotate(args: argparse.Namespace) -> int:
    from teespark.crypto.keyring import Keyring
    from teespark.crypto.master_key import MasterKey

    old = _master_key(args)
    ring = Keyring.open(_keyring_path(args), old)
    new_path = Path(args.new_master_key_file)
    created = not new_path.exists()
    new = MasterKey.generate() if created else MasterKey.from_file(new_path)
    if new == old:
        raise CliError("same-master-key",
                       f"the new master key ({new_path}) is the key that already opens "
                       f"keyring '{ring.path}' (id {old.key_id})",
                       hint="Give a file that does not exist yet: teespark creates a new "
                            "key there.", exit_code=codes.KEY_ERROR)
    if created:
        new.write(new_path)
        _out(f"created new master key file {new_path} (mode 0600)")
    try:
        count = ring.rotate_master(new)
    except BaseException:
        if created:  # the new key never wrapped anything: do not leave it around
            with contextlib.suppress(OSError):
                new_path.unlink()
        raise
    _out(f"re-wrapped {_plural(count, 'data key')} in keyring {ring.path}")
    _out(f"  old master key id  {old.key_id} (no longer opens this keyring)")
    _out(f"  new master key id  {new.key_id} ({new_path})")
    _out("Tables are unchanged. From now on use --master-key-file "
         f"{new_path} (or replace {old.source} with it). Keep the old key until the new "
         "one has worked, then destroy it.")
    return codes.SUCCESS


def _cmd_keys_list(args: argparse.Namespace) -> int:
    from teespark.crypto.keyring import read_keyring_info

    info = read_keyring_info(_keyring_path(args))
    try:
        master = _master_key(args)
        if master.key_id == info.master_key_id:
            status = f"matches the master key from {master.source}"
        else:
            status = (f"DOES NOT MATCH the master key from {master.source} "
                      f"(id {master.key_id})")
    except E.MasterKeyError as exc:
        status = f"not checked: {exc}"
    if args.json:
        print(json.dumps({"keyring": str(info.path), "version": info.version,
                          "master_key_id": info.master_key_id, "master_key_status": status,
                          "keys": [vars(e) for e in info.entries]}, indent=2))
        return codes.SUCCESS
    _out(f"keyring        {info.path} (version {info.version})")
    _out(f"master key id  {info.master_key_id} ({status})")
    if info.entries:
        width = max(len("TABLE"), *(len(e.table_name) for e in info.entries))
        _out(f"{'KEY ID':<32}  {'TABLE':<{width}}  CREATED")
        for e in info.entries:
            _out(f"{e.key_id}  {e.table_name:<{width}}  {e.created}")
    _out(_plural(len(info.entries), "data key"))
    return codes.SUCCESS


def _cmd_encrypt(args: argparse.Namespace) -> int:
    from teespark.api import encrypt_table, open_keyring
    from teespark.format.schema import Schema

    if args.schema and args.string_length:
        raise _UsageError(args._parser, "--string-length refines an inferred schema; with "
                                        "--schema declare string(N) there")
    # Cheap checks first, then the keys, and only then the (possibly large) input.
    args.input_format = _format_of(args.input, args.input_format, what="input",
                                   option="--input-format")
    output = Path(args.output)
    if os.path.lexists(output) and not args.overwrite:
        raise CliError("output-exists", f"'{output}' already exists",
                       hint="Pass --overwrite to replace it.")
    schema = Schema.from_spec(args.schema) if args.schema else None
    ring = open_keyring(args.keyring if args.keyring else None, _master_key(args))
    table = _read_input(args, schema)
    lengths = dict(args.string_length) or None
    name = args.table_name or output.resolve().name
    progress = None
    if args.progress is not False:
        estimate = table.nbytes
        if args.progress or (estimate >= PROGRESS_THRESHOLD_BYTES and sys.stderr.isatty()):
            progress = _TqdmProgress(table.num_rows, f"encrypt {name}")
    try:
        manifest = encrypt_table(table, output, table_name=name, keyring=ring,
                                 schema=schema, string_lengths=lengths,
                                 rows_per_block=args.rows_per_block,
                                 overwrite=args.overwrite, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    _out(f"encrypted '{manifest.table_name}': {_plural(manifest.row_count, 'row')}, "
         f"{_plural(len(manifest.schema.columns), 'column')} -> {output}")
    _out(f"  schema     {manifest.schema.to_spec()}")
    _out(f"  blocks     {manifest.block_count} of up to {manifest.rows_per_block} rows "
         f"({manifest.row_size}-byte rows)")
    _out(f"  table id   {manifest.table_id.hex()}")
    _out(f"  key id     {manifest.key_id.hex()} (keyring {ring.path})")
    return codes.SUCCESS


def _cmd_decrypt(args: argparse.Namespace) -> int:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from teespark.format.table_files import read_table

    to_stdout = args.output == "-"
    fmt = "csv" if to_stdout and not args.output_format else _format_of(
        args.output, args.output_format, what="output", option="--output-format")
    if to_stdout and fmt != "csv":
        raise CliError("unknown-file-format", "only CSV can be written to stdout",
                       hint="Give an output file name for Parquet.",
                       exit_code=codes.USAGE_ERROR)
    table_dir = _table_dir(args.table)
    output = None if to_stdout else Path(args.output)
    if output is not None and output.exists() and not args.overwrite:
        raise CliError("output-exists", f"'{output}' already exists",
                       hint="Pass --overwrite to replace it.")
    manifest, data_key = _table_key(table_dir, args)
    table = read_table(table_dir, data_key=data_key)
    del data_key
    if to_stdout:
        sink = sys.stdout.buffer
        pacsv.write_csv(table, sink)
        sink.flush()
        report: TextIO = sys.stderr
    else:
        with _private_output(output, args.overwrite) as tmp:
            if fmt == "csv":
                pacsv.write_csv(table, tmp)
            else:
                pq.write_table(table, tmp)
        report = sys.stdout
    print(f"decrypted '{manifest.table_name}': {_plural(table.num_rows, 'row')}, "
          f"{_plural(table.num_columns, 'column')} -> {args.output}"
          f"{'' if to_stdout else ' (mode 0600)'}", file=report)
    return codes.SUCCESS


def _cmd_inspect(args: argparse.Namespace) -> int:
    from teespark.format.manifest import load_manifest

    table_dir = _table_dir(args.table)
    manifest = load_manifest(table_dir)  # parsed and checked, not authenticated
    failure: BaseException | None = None
    try:
        _, data_key = _table_key(table_dir, args)
    except (E.MasterKeyError, E.KeyringError) as exc:
        status = f"UNVERIFIED: no key ({diagnose(exc).reference}); anyone who can write " \
                 "the table could have edited it. 'teespark verify' checks it with the key."
        verified = False
    else:
        try:
            load_manifest(table_dir, data_key)
            status = "verified with the table's data key (blocks not checked: run " \
                     "'teespark verify')"
            verified = True
        except E.TeesparkError as exc:
            failure = exc
            status = "FAILED authentication"
            verified = False
        finally:
            del data_key
    sizes = {}
    for f in manifest.files:
        try:
            sizes[f.path] = (table_dir / f.path).stat().st_size
        except OSError:
            sizes[f.path] = None
    on_disk = sum(s for s in sizes.values() if s is not None)
    if args.json:
        doc = manifest.to_dict()
        doc.update(path=str(table_dir), verified=verified, status=status,
                   plaintext_bytes=manifest.plaintext_bytes,
                   file_sizes={k: v for k, v in sizes.items()})
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        _out(f"table          {manifest.table_name}")
        _out(f"path           {table_dir}")
        _out(f"manifest       {status}")
        _out(f"format         teespark-table version {manifest.format_version}")
        _out(f"table id       {manifest.table_id.hex()}")
        _out(f"table version  {manifest.table_version}")
        _out(f"key id         {manifest.key_id.hex()}")
        _out(f"created        {manifest.created_at}")
        _out(f"rows           {manifest.row_count}")
        _out(f"blocks         {manifest.block_count} of up to {manifest.rows_per_block} rows")
        _out(f"row size       {manifest.row_size} bytes")
        _out(f"plaintext      {manifest.plaintext_bytes} bytes")
        missing = [k for k, v in sizes.items() if v is None]
        _out(f"on disk        {on_disk} bytes in {_plural(len(sizes), 'file')}"
             + (f" ({len(missing)} missing)" if missing else ""))
        _out(f"schema hash    {manifest.schema_hash.hex()}")
        rows = [("#", "COLUMN", "TYPE", "NULLABLE")] + [
            (str(i), c.name, c.type, "yes" if c.nullable else "no")
            for i, c in enumerate(manifest.schema.columns)]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        for r in rows:
            _out(f"  {r[0]:>{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}")
    if failure is not None:
        raise failure
    return codes.SUCCESS


def _cmd_verify(args: argparse.Namespace) -> int:
    from teespark.format.table_files import verify_table

    table_dir = _table_dir(args.table)
    _, data_key = _table_key(table_dir, args)
    try:
        report = verify_table(table_dir, data_key=data_key)
    finally:
        del data_key
    _out(f"verified '{report.table_name}' (version {report.table_version}): the manifest and "
         f"{report.block_count} of {_plural(report.block_count, 'block')} authenticated")
    _out(f"  rows       {report.row_count} ({report.row_size}-byte rows, "
         f"{report.plaintext_bytes} plaintext bytes)")
    _out(f"  on disk    {report.sealed_bytes} sealed bytes in "
         f"{_plural(len(report.files), 'file')}")
    _out(f"  table id   {report.table_id}")
    _out(f"  key id     {report.key_id}")
    return codes.SUCCESS


def _cmd_kbs(args: argparse.Namespace) -> int:
    try:
        from teespark.kbs.server import main as kbs_main
    except ImportError as exc:
        raise CliError("kbs-unavailable",
                       f"the key broker is not available in this installation ({exc})",
                       hint="Install teespark with its key broker (teespark.kbs).",
                       exit_code=codes.UNAVAILABLE) from None
    argv = list(args.kbs_args)
    if args.debug and "--debug" not in argv:
        argv.insert(0, "--debug")
    if args.keyring:
        os.environ["TEESPARK_KEYRING"] = str(args.keyring)
    try:
        return int(kbs_main(argv) or 0)
    except SystemExit as exc:  # argparse inside the KBS
        return exc.code if isinstance(exc.code, int) else codes.USAGE_ERROR


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------


def _render_usage(err: _UsageError) -> None:
    sys.stderr.write(err.parser.format_usage())
    sys.stderr.write(f"error: usage-error\n  {err.message}\n")
    sys.stderr.write(f"Try '{err.parser.prog} --help' for help.\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``teespark`` with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # reported by the command's own parser, so the hint names it
            _find_subparser(parser, argv).error(
                f"unrecognized arguments: {' '.join(extra)}")
        if args.command is None:
            parser.error("a command is required (keys, encrypt, decrypt, inspect, verify, "
                         "kbs)")
        if args.func is None:  # `teespark keys` without a subcommand
            args.parser.error("a keys command is required (init, rotate, list)")
    except _UsageError as err:
        _render_usage(err)
        return codes.USAGE_ERROR
    args._parser = _find_subparser(parser, argv)
    if args.debug:
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr,
                            format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except _UsageError as err:
        _render_usage(err)
        return codes.USAGE_ERROR
    except KeyboardInterrupt:
        if args.debug:
            traceback.print_exc()
        sys.stderr.write(Diagnostic("interrupted", "interrupted by the user", None,
                                    codes.INTERRUPTED).render())
        return codes.INTERRUPTED
    except BrokenPipeError:
        # stdout closed early (e.g. `teespark decrypt t - | head`): not an error.
        with contextlib.suppress(OSError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return codes.SUCCESS
    except Exception as exc:  # noqa: BLE001 - every failure is rendered
        diag = diagnose(exc)
        if args.debug:
            traceback.print_exc()
        sys.stdout.flush()
        sys.stderr.write(diag.render())
        if diag.exit_code == codes.USAGE_ERROR:
            sys.stderr.write(f"Try '{args._parser.prog} --help' for help.\n")
        return diag.exit_code


def _find_subparser(parser: argparse.ArgumentParser,
                    argv: Sequence[str]) -> argparse.ArgumentParser:
    """The leaf parser of the command in ``argv`` (for usage errors found later)."""
    current = parser
    for word in argv:
        actions = [a for a in current._actions if isinstance(a, argparse._SubParsersAction)]
        if not actions or word not in actions[0].choices:
            continue
        current = actions[0].choices[word]
    return current


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
