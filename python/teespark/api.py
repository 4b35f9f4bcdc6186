"""Owner-side entry points: encrypt a DataFrame into a table, read one back.

These run on the data owner's machine, with the owner's master key. Nothing
here talks to the TEE: an encrypted table is a directory of sealed blocks
(docs/FORMAT.md) that a Spark cluster can store and move without learning
its contents.

Example:
    >>> import pandas as pd, teespark                                    # doctest: +SKIP
    >>> df = pd.DataFrame({"id": [1, 2], "name": ["ann", "bo"]})         # doctest: +SKIP
    >>> m = teespark.encrypt_table(df, "out/people", table_name="people")  # doctest: +SKIP
    >>> teespark.read_encrypted("out/people")                            # doctest: +SKIP
       id name
    0   1  ann
    1   2   bo
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import pyarrow as pa

from teespark.crypto.keyring import Keyring
from teespark.crypto.master_key import MasterKey, default_keyring_path
from teespark.errors import DataKeyNotFoundError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from teespark.format.manifest import Manifest
    from teespark.format.schema import Schema
    from teespark.format.table_files import TableReport

PathLike = Union[str, "os.PathLike[str]"]
#: A master key given directly: a MasterKey, its 32 raw bytes, or a key file path.
MasterKeyLike = Union[MasterKey, bytes, str, "os.PathLike[str]"]
#: A keyring: an open Keyring, or the path of a keyring file.
KeyringLike = Union[Keyring, str, "os.PathLike[str]"]
#: Called with (rows done, rows total) while a table is written; an object with
#: ``update(n)`` (e.g. a tqdm bar) is also accepted.
ProgressCallback = Union[Callable[[int, int], None], Any]

__all__ = ["arrow_to_pandas", "encrypt_table", "open_keyring", "read_encrypted",
           "to_arrow_table", "verify_encrypted"]


def _master_key(master_key: MasterKeyLike | None) -> MasterKey:
    if master_key is None:
        return MasterKey.resolve()
    if isinstance(master_key, MasterKey):
        return master_key
    if isinstance(master_key, (bytes, bytearray)):
        return MasterKey(bytes(master_key))
    if isinstance(master_key, (str, os.PathLike)):
        return MasterKey.from_file(master_key)
    raise TypeError("'master_key' must be a MasterKey, 32 bytes or a key file path, got "
                    f"{type(master_key).__name__}")


def open_keyring(keyring: KeyringLike | None = None,
                 master_key: MasterKeyLike | None = None) -> Keyring:
    """Open the owner's keyring.

    Args:
        keyring: an open :class:`~teespark.crypto.keyring.Keyring` (returned
            as is), a keyring file path, or None for ``$TEESPARK_KEYRING`` /
            ``~/.config/teespark/keyring.json``.
        master_key: a :class:`MasterKey`, 32 raw bytes or a master key file;
            None looks in ``$TEESPARK_MASTER_KEY``, then
            ``~/.config/teespark/master.key``. Must be None with an open Keyring.

    Returns:
        the open keyring.

    Raises:
        MasterKeyNotFoundError, MasterKeyPermissionError, MasterKeyFormatError,
        KeyringNotFoundError, KeyringFormatError, WrongMasterKeyError.

    Reveals: nothing (the keyring stays on the owner's machine).
    """
    if isinstance(keyring, Keyring):
        if master_key is not None:
            raise ValueError("pass either an open Keyring as 'keyring' or 'master_key', "
                             "not both (the Keyring already holds its master key)")
        return keyring
    if keyring is not None and not isinstance(keyring, (str, os.PathLike)):
        raise TypeError("'keyring' must be a Keyring or a file path, got "
                        f"{type(keyring).__name__}")
    path = Path(keyring) if keyring is not None else default_keyring_path()
    return Keyring.open(path, _master_key(master_key))


def to_arrow_table(df: Any) -> pa.Table:
    """Convert a pandas, pyarrow or Spark DataFrame to a ``pyarrow.Table``.

    Spark DataFrames are collected to the driver (``toArrow()`` on Spark >= 4,
    else ``toPandas()``): encrypt on the owner's machine, not on a cluster.
    """
    if isinstance(df, pa.Table):
        return df
    if isinstance(df, pa.RecordBatch):
        return pa.Table.from_batches([df])
    import pandas as pd

    if isinstance(df, pd.DataFrame):
        return pa.Table.from_pandas(df, preserve_index=False)
    if type(df).__module__.startswith("pyspark.") and hasattr(df, "toPandas"):
        if hasattr(df, "toArrow"):
            return df.toArrow()
        return pa.Table.from_pandas(df.toPandas(), preserve_index=False)
    raise TypeError("encrypt_table: 'df' must be a pandas.DataFrame, pyarrow.Table, "
                    f"pyarrow.RecordBatch or pyspark DataFrame, got {type(df).__name__}")


def _resolve_schema(schema: Schema | str | None, table: pa.Table,
                    string_lengths: Mapping[str, int] | None) -> Schema:
    from teespark.format.schema import Schema

    if schema is None:
        return Schema.infer(table, string_lengths)
    if string_lengths:
        raise ValueError("encrypt_table: give either 'schema' or 'string_lengths' (which "
                         "only refines an inferred schema), not both")
    if isinstance(schema, Schema):
        return schema
    if isinstance(schema, str):
        return Schema.from_spec(schema)
    raise TypeError("encrypt_table: 'schema' must be a teespark Schema or a spec string "
                    f"such as 'id:int64, name:string(20)', got {type(schema).__name__}")


def encrypt_table(df: Any, path: PathLike, *, table_name: str | None = None,
                  keyring: KeyringLike | None = None,
                  master_key: MasterKeyLike | None = None,
                  schema: Schema | str | None = None,
                  string_lengths: Mapping[str, int] | None = None,
                  rows_per_block: int | None = None, overwrite: bool = False,
                  progress: ProgressCallback | None = None) -> Manifest:
    """Encrypt a DataFrame into an encrypted table directory under a fresh data key.

    A new 32-byte data key is created for the table and stored, wrapped under
    the master key, in the keyring; the manifest records its key id.

    Example:
        >>> teespark.encrypt_table(df, "out/loans", schema="id:int64, name:string(20)")
        ... # doctest: +SKIP

    Args:
        df: a pandas DataFrame, pyarrow Table/RecordBatch or pyspark DataFrame.
        path: the table directory to create.
        table_name: the table's name (default: the directory's name).
        keyring: a Keyring, a keyring path, or None for the default keyring.
        master_key: MasterKey, raw bytes or key file; None for the default lookup.
        schema: a Schema or spec (``"id:int64 not null, name:string(20)"``);
            None infers one from ``df``.
        string_lengths: for an inferred schema, the declared byte length of
            string columns (default: the longest value). Declare lengths that
            do not depend on this data set, since row size is public.
        rows_per_block: rows per sealed block (default: about 1 MiB of rows).
        overwrite: replace an existing table at ``path``.
        progress: called as ``progress(rows_done, rows_total)``, or an object
            with ``update(n_rows)`` such as a tqdm bar.

    Returns:
        the table's authenticated :class:`~teespark.format.manifest.Manifest`.

    Raises:
        InvalidSchemaError, SchemaMismatchError, ValueTooLongError (names the
        column and row), TableExistsError, and the errors of :func:`open_keyring`.

    Reveals: to whoever stores the table: its name, schema (column names and
    types), row count, row size, block count and size, creation time, table
    id and key id. Not the values.
    """
    from teespark.format.table_files import write_table

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"encrypt_table: 'path' must be a path, got {type(path).__name__}")
    if table_name is None:
        table_name = Path(path).resolve().name
    if not isinstance(table_name, str) or not table_name:
        raise ValueError("encrypt_table: 'table_name' must be a non-empty string")
    if rows_per_block is not None and (not isinstance(rows_per_block, int)
                                       or rows_per_block < 1):
        raise ValueError("encrypt_table: 'rows_per_block' must be a positive integer, got "
                         f"{rows_per_block!r}")
    table = to_arrow_table(df)
    resolved = _resolve_schema(schema, table, string_lengths)
    ring = open_keyring(keyring, master_key)
    if Path(path).exists() and not overwrite:
        # Checked before a data key is made so a refused write leaves no key behind.
        from teespark.errors import TableExistsError
        raise TableExistsError(f"'{path}' already exists; pass overwrite=True "
                               "(--overwrite) to replace it")
    key_id, data_key = ring.create_data_key(table_name)
    try:
        return write_table(table, path, data_key=data_key, key_id=bytes.fromhex(key_id),
                           table_name=table_name, schema=resolved,
                           rows_per_block=rows_per_block, overwrite=overwrite,
                           progress=progress)
    except BaseException:
        # Nothing was sealed under this key that anyone can read: forget it.
        try:
            ring.remove(key_id)
        except Exception:  # pragma: no cover - the original error matters more
            pass
        raise
    finally:
        del data_key


def _data_key_for(path: PathLike, ring: Keyring) -> tuple[Manifest, bytes]:
    from teespark.format.table_files import read_manifest

    manifest = read_manifest(path)  # unverified: only used to find the key id
    key_id = manifest.key_id.hex() if isinstance(manifest.key_id, bytes) else manifest.key_id
    try:
        return manifest, ring.get(key_id)
    except DataKeyNotFoundError:
        raise DataKeyNotFoundError(
            f"table '{manifest.table_name}' at '{path}' was encrypted under data key "
            f"{key_id}, which keyring '{ring.path}' does not hold") from None


def read_encrypted(path: PathLike, *, keyring: KeyringLike | None = None,
                   master_key: MasterKeyLike | None = None) -> pd.DataFrame:
    """Authenticate and decrypt an encrypted table into a pandas DataFrame.

    Example:
        >>> teespark.read_encrypted("out/loans").head()   # doctest: +SKIP

    Args:
        path: the table directory.
        keyring, master_key: as in :func:`encrypt_table`.

    Returns:
        the table's rows in their original order. Types follow
        ``Schema.to_arrow_schema()`` through ``pyarrow.Table.to_pandas()``,
        except that integer columns holding NULLs become pandas' nullable
        ``Int32``/``Int64`` (float64 would corrupt values beyond 2**53).

    Raises:
        TableNotFoundError, TableFormatError, ManifestAuthenticationError,
        BlockAuthenticationError / BlockSequenceError (a block was modified,
        reordered, dropped or taken from another table), DataKeyNotFoundError,
        and the errors of :func:`open_keyring`.

    Reveals: nothing beyond what the stored table already shows (this runs on
    the owner's machine).
    """
    from teespark.format.table_files import read_table

    _, data_key = _data_key_for(path, open_keyring(keyring, master_key))
    return arrow_to_pandas(read_table(path, data_key=data_key))


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """``table.to_pandas()``, except integer columns holding NULLs become nullable
    ``Int32``/``Int64`` instead of float64 (which would lose values beyond 2**53)."""
    import pandas as pd

    nullable = {pa.int32(): pd.Int32Dtype(), pa.int64(): pd.Int64Dtype()}
    df = table.to_pandas()
    for name, column in zip(table.column_names, table.columns):
        if column.type in nullable and column.null_count:
            df[name] = column.to_pandas(types_mapper=nullable.get)
    return df


def verify_encrypted(path: PathLike, *, keyring: KeyringLike | None = None,
                     master_key: MasterKeyLike | None = None) -> TableReport:
    """Authenticate every block and the manifest of a table without decoding rows.

    Args:
        path: the table directory.
        keyring, master_key: as in :func:`encrypt_table`.

    Returns:
        the verification report of :func:`teespark.format.table_files.verify_table`.

    Raises:
        the errors of :func:`read_encrypted` for the first problem found.

    Reveals: nothing (runs on the owner's machine; the report holds counts only).
    """
    from teespark.format.table_files import verify_table

    _, data_key = _data_key_for(path, open_keyring(keyring, master_key))
    return verify_table(path, data_key=data_key)
