"""Encrypted tables on disk: write, read, verify, and stream sealed blocks.

A table is a directory (docs/FORMAT.md, "Table directory")::

    loans/
      _manifest.json          public description + MACs (no secrets)
      blocks-00000.parquet    columns block_index: int32, sealed: binary
      blocks-00001.parquet    ...

Spark reads the blocks natively (``spark.read.parquet("loans")``; files
starting with ``_`` or ``.`` are skipped). Each ``sealed`` value is one
sealed block (``struct ts_block_header`` | ciphertext | tag) of at most
``TS_MAX_BLOCK_PLAINTEXT`` plaintext bytes.

Writes are atomic: everything goes into a hidden sibling directory
``.<name>.tmp-<random>``, is fsynced, and is renamed into place only when
complete. An existing table is replaced only with ``overwrite=True``, and
stays readable until the new one is complete (an atomic exchange where the
file system supports ``renameat2``).
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Union

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from teespark.crypto.block_seal import (KEY_SIZE, MAX_BLOCK_PLAINTEXT,
                                        BlockHeader, BlockSealer, sealed_size)
from teespark.errors import (BlockError, BlockSequenceError, TableExistsError,
                             TableFormatError)
from teespark.format.manifest import (FORMAT_NAME, FORMAT_VERSION, MANIFEST_NAME, BlockFile,
                                      Manifest, load_manifest, manifest_for)
from teespark.format.row_codec import decode_rows, encode_rows
from teespark.format.schema import Schema, _as_arrow_table

#: Default plaintext bytes per block (rows_per_block = block_bytes // row_size).
DEFAULT_BLOCK_BYTES = 1 << 20
#: Sealed bytes per Parquet row group (and per encoding chunk), at most.
ROW_GROUP_BYTES = 8 << 20
#: Sealed bytes per Parquet file, at most (about one Spark input split).
FILE_BYTES = 128 << 20

BLOCK_SCHEMA = pa.schema([pa.field("block_index", pa.int32(), nullable=False),
                          pa.field("sealed", pa.binary(), nullable=False)])

#: ``progress``: None/False (silent), True (a tqdm bar), an object with
#: ``update(n)`` (e.g. a tqdm bar), or a callable ``f(rows_done, rows_total)``.
Progress = Union[None, bool, Callable[[int, int], Any], Any]


@dataclass(frozen=True)
class TableReport:
    """What :func:`verify_table` checked (all public sizes)."""

    table_name: str
    table_id: str
    table_version: int
    key_id: str
    row_count: int
    block_count: int
    rows_per_block: int
    row_size: int
    plaintext_bytes: int
    sealed_bytes: int
    files: tuple[str, ...]

    def __str__(self) -> str:
        return (f"table '{self.table_name}' version {self.table_version}: "
                f"{self.row_count} rows in {self.block_count} blocks "
                f"({self.sealed_bytes} sealed bytes in {len(self.files)} files) verified")


# ---------------------------------------------------------------------------
# write
# ---------------------------------------------------------------------------


def write_table(table: pa.Table | Any, path: str | os.PathLike[str], *, data_key: bytes,
                key_id: bytes, table_name: str, schema: Schema | str | None = None,
                table_version: int = 1, table_id: bytes | None = None,
                rows_per_block: int | None = None, block_bytes: int = DEFAULT_BLOCK_BYTES,
                overwrite: bool = False, progress: Progress = None) -> Manifest:
    """Encrypt ``table`` into an encrypted table directory at ``path``.

    Example:
        >>> m = write_table(df, "/data/loans", data_key=key, key_id=kid,
        ...                 table_name="loans")                    # doctest: +SKIP

    Args:
        table: a pyarrow Table / RecordBatch or a pandas DataFrame.
        path: the table directory to create.
        data_key: the table's 32-byte AES-256 data key.
        key_id: the 16-byte keyring id of ``data_key`` (public).
        table_name: the table's name (in messages and the manifest).
        schema: a :class:`Schema` (or a spec string); inferred when None.
        table_version: version number bound into every block (>= 1).
        table_id: 16 bytes; random when None.
        rows_per_block: block capacity in rows; by default
            ``block_bytes // row_size``.
        block_bytes: target plaintext bytes per block (at most 4 MiB).
        overwrite: replace an existing table at ``path``.
        progress: see :data:`Progress`.

    Returns:
        The authenticated :class:`Manifest`.

    Reveals: row count, row size, rows per block, block count, table id and
    version, key id, schema, table name (all in the manifest and headers).

    Raises:
        TableExistsError: ``path`` exists and ``overwrite`` is False, or it
            is not an encrypted table (never overwritten).
        SchemaMismatchError / ValueTooLongError / ValueOutOfRangeError: the
            data does not fit the schema (nothing is left at ``path``).
    """
    if not isinstance(data_key, (bytes, bytearray)) or len(data_key) != KEY_SIZE:
        raise ValueError(f"write_table: 'data_key' must be {KEY_SIZE} bytes")
    if not isinstance(key_id, (bytes, bytearray)) or len(key_id) != 16:
        raise ValueError("write_table: 'key_id' must be 16 bytes")
    if not isinstance(table_name, str) or not table_name.strip():
        raise ValueError("write_table: 'table_name' must be a non-empty string")
    if not isinstance(table_version, int) or not 1 <= table_version < (1 << 64):
        raise ValueError("write_table: 'table_version' must be an integer >= 1")
    if table_id is None:
        table_id = os.urandom(16)
    if not isinstance(table_id, (bytes, bytearray)) or len(table_id) != 16:
        raise ValueError("write_table: 'table_id' must be 16 bytes")
    if not isinstance(block_bytes, int) or not 1 <= block_bytes <= MAX_BLOCK_PLAINTEXT:
        raise ValueError(f"write_table: 'block_bytes' must be 1..{MAX_BLOCK_PLAINTEXT}")

    arrow = _as_arrow_table(table)
    if schema is None:
        schema = Schema.infer(arrow)
    elif isinstance(schema, str):
        schema = Schema.from_spec(schema)
    elif not isinstance(schema, Schema):
        raise TypeError("write_table: 'schema' must be a Schema, a spec string or None")
    row_size = schema.row_size
    if rows_per_block is None:
        rows_per_block = max(1, block_bytes // row_size)
    if not isinstance(rows_per_block, int) or rows_per_block < 1:
        raise ValueError("write_table: 'rows_per_block' must be a positive integer")
    if rows_per_block * row_size > MAX_BLOCK_PLAINTEXT:
        raise ValueError(
            f"write_table: {rows_per_block} rows of {row_size} bytes exceed the block "
            f"limit of {MAX_BLOCK_PLAINTEXT} bytes; lower 'rows_per_block'")
    n_rows = arrow.num_rows
    manifest = manifest_for(schema, table_name=table_name, table_id=bytes(table_id),
                            table_version=table_version, row_count=n_rows,
                            rows_per_block=rows_per_block, key_id=bytes(key_id))
    if manifest.block_count >= (1 << 31):
        raise ValueError(f"write_table: {manifest.block_count} blocks are too many; raise "
                         "'rows_per_block'")
    # Check the column names before any work (the codec checks types per chunk).
    encode_rows(arrow.slice(0, 0), schema)

    target = Path(path)
    _check_target(target, overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.urandom(6).hex()}"
    tmp.mkdir()
    report = _progress_reporter(progress, n_rows, f"encrypt {table_name}")
    try:
        files = _write_blocks(arrow, schema, manifest, tmp, BlockSealer(data_key), report)
        manifest.files = tuple(files)
        manifest.authenticate(data_key)
        _write_file_synced(tmp / MANIFEST_NAME, manifest.to_json().encode("utf-8"))
        _fsync_dir(tmp)
        _commit(tmp, target, overwrite)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        report(None)
    return manifest


def _check_target(target: Path, overwrite: bool) -> None:
    if not os.path.lexists(target):
        return
    if not overwrite:
        raise TableExistsError(
            f"'{target}' already exists; pass overwrite=True (teespark encrypt "
            "--overwrite) to replace it")
    if target.is_symlink() or not target.is_dir() or not (target / MANIFEST_NAME).is_file():
        raise TableExistsError(
            f"'{target}' exists and is not an encrypted teespark table; refusing to "
            "overwrite it")


def _write_blocks(arrow: pa.Table, schema: Schema, manifest: Manifest, tmp: Path,
                  sealer: BlockSealer, report: Callable[[int | None], None]) -> list[BlockFile]:
    row_size = schema.row_size
    rpb = manifest.rows_per_block
    n_rows = manifest.row_count
    block_plain = rpb * row_size
    block_sealed = sealed_size(block_plain)
    blocks_per_group = max(1, min(ROW_GROUP_BYTES // block_sealed, manifest.block_count))
    groups_per_file = max(1, FILE_BYTES // (blocks_per_group * block_sealed))
    schema_hash = schema.hash()
    # Reused buffers: first-touching fresh memory is the slowest step of all.
    rows_buf = np.empty(blocks_per_group * block_plain, np.uint8)
    sealed_buf = bytearray(blocks_per_group * block_sealed)
    sealed_view = memoryview(sealed_buf)
    offsets = np.zeros(blocks_per_group + 1, np.int32)

    files: list[BlockFile] = []
    writer = None
    file_path = None
    file_first = 0
    groups_in_file = 0
    block = 0
    parquet_meta = {b"teespark.format": FORMAT_NAME.encode(),
                    b"teespark.format_version": str(FORMAT_VERSION).encode(),
                    b"teespark.table_id": manifest.table_id.hex().encode(),
                    b"teespark.table_version": str(manifest.table_version).encode()}
    try:
        while block < manifest.block_count:
            if writer is None:
                file_path = tmp / f"blocks-{len(files):05d}.parquet"
                writer = pq.ParquetWriter(
                    file_path, BLOCK_SCHEMA.with_metadata(parquet_meta), compression="none",
                    use_dictionary=False, write_statistics=["block_index"],
                    data_page_size=1 << 20)
                file_first = block
                groups_in_file = 0
            first_row = block * rpb
            k_blocks = min(blocks_per_group, manifest.block_count - block)
            chunk_rows = min(n_rows - first_row, k_blocks * rpb)
            rows = encode_rows(arrow.slice(first_row, chunk_rows), schema, out=rows_buf,
                               first_row=first_row).reshape(-1)
            pos = 0
            for j in range(k_blocks):
                r = min(rpb, chunk_rows - j * rpb)
                header = BlockHeader(manifest.table_id, manifest.table_version, block + j,
                                     manifest.block_count, r, row_size, schema_hash)
                size = sealed_size(r * row_size)
                sealer.seal_into(header, rows[j * block_plain:j * block_plain + r * row_size],
                                 sealed_view[pos:pos + size])
                pos += size
                offsets[j + 1] = pos
            sealed = pa.Array.from_buffers(
                pa.binary(), k_blocks,
                [None, pa.py_buffer(offsets[:k_blocks + 1]), pa.py_buffer(sealed_view[:pos])])
            index = pa.array(np.arange(block, block + k_blocks, dtype=np.int32))
            writer.write_table(pa.Table.from_arrays([index, sealed], schema=writer.schema),
                               row_group_size=k_blocks)
            block += k_blocks
            groups_in_file += 1
            report(chunk_rows)
            if groups_in_file >= groups_per_file or block == manifest.block_count:
                writer.close()
                writer = None
                _fsync_file(file_path)
                files.append(BlockFile(file_path.name, file_first, block - file_first))
    finally:
        if writer is not None:
            writer.close()
    return files


def _progress_reporter(progress: Progress, total: int,
                       desc: str) -> Callable[[int | None], None]:
    """Adapt ``progress`` to f(rows_just_done); f(None) closes it."""
    if progress is None or progress is False:
        return lambda n: None
    if progress is True:
        from tqdm.auto import tqdm
        bar = tqdm(total=total, unit="row", unit_scale=True, desc=desc)
        return lambda n: bar.close() if n is None else bar.update(n)
    if hasattr(progress, "update"):
        return lambda n: None if n is None else progress.update(n)
    if callable(progress):
        done = [0]

        def call(n: int | None) -> None:
            if n is not None:
                done[0] += n
                progress(done[0], total)
        return call
    raise TypeError("'progress' must be None, a bool, a callable f(done, total) or an "
                    "object with update(n)")


def _write_file_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2(src: Path, dst: Path, flags: int) -> bool:
    """Linux renameat2(2); False when the system or file system lacks it."""
    try:
        # The running interpreter links libc; CDLL(None) finds it without
        # find_library (which may spawn ldconfig).
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                   ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP if hasattr(errno, "ENOTSUP")
               else errno.EINVAL):
        return False
    raise OSError(err, os.strerror(err), str(dst))


def _commit(tmp: Path, target: Path, overwrite: bool) -> None:
    """Move the complete table into place; the old one (if any) goes only after."""
    if os.path.lexists(target):
        _check_target(target, overwrite)
        if _renameat2(tmp, target, _RENAME_EXCHANGE):
            _fsync_dir(target.parent)
            shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old table
            return
        old = target.parent / f".{target.name}.old-{os.urandom(6).hex()}"
        os.rename(target, old)
        os.rename(tmp, target)
        _fsync_dir(target.parent)
        shutil.rmtree(old, ignore_errors=True)
        return
    try:
        if not _renameat2(tmp, target, _RENAME_NOREPLACE):
            os.rename(tmp, target)
    except FileExistsError:
        raise TableExistsError(f"'{target}' was created by someone else while this table "
                               "was written; nothing was replaced") from None
    _fsync_dir(target.parent)


# ---------------------------------------------------------------------------
# read
# ---------------------------------------------------------------------------


def read_manifest(path: str | os.PathLike[str], data_key: bytes | None = None) -> Manifest:
    """The table's manifest; verified when ``data_key`` is given (see load_manifest)."""
    return load_manifest(path, data_key)


def _table_files(path: Path, manifest: Manifest) -> list[Path]:
    """The listed block files; any other visible file is an error."""
    where = f"table '{manifest.table_name}'"
    listed = [f.path for f in manifest.files]
    present = {e.name for e in os.scandir(path)
               if not e.name.startswith((".", "_"))}
    missing = [f for f in listed if f not in present]
    if missing:
        raise TableFormatError(f"{where}: block file '{missing[0]}' is missing from '{path}'")
    extra = sorted(present - set(listed))
    if extra:
        raise TableFormatError(
            f"{where}: '{path}' holds '{extra[0]}', which the manifest does not list; "
            "remove it (Spark would read it as blocks of this table)")
    return [path / f for f in listed]


def _raw_blocks(path: Path, manifest: Manifest) -> Iterator[tuple[int, int, memoryview]]:
    """(position, block_index column, sealed bytes) in storage order."""
    where = f"table '{manifest.table_name}'"
    position = 0
    for file in _table_files(path, manifest):
        try:
            pf = pq.ParquetFile(file)
        except (pa.ArrowInvalid, OSError) as e:
            raise TableFormatError(f"{where}: '{file.name}' is not a readable Parquet "
                                   f"file ({e})") from None
        names = pf.schema_arrow.names
        if names != ["block_index", "sealed"] or not pa.types.is_int32(
                pf.schema_arrow.field("block_index").type) or not (
                pa.types.is_binary(pf.schema_arrow.field("sealed").type)
                or pa.types.is_large_binary(pf.schema_arrow.field("sealed").type)):
            raise TableFormatError(
                f"{where}: '{file.name}' must have columns block_index:int32, "
                f"sealed:binary; it has {pf.schema_arrow}")
        for rg in range(pf.num_row_groups):
            try:
                t = pf.read_row_group(rg)
            except (pa.ArrowInvalid, OSError) as e:
                raise TableFormatError(f"{where}: '{file.name}' row group {rg} cannot be "
                                       f"read ({e})") from None
            index = t.column(0).combine_chunks()
            sealed = t.column(1).combine_chunks()
            if index.null_count or sealed.null_count:
                raise TableFormatError(f"{where}: '{file.name}' holds NULL blocks")
            idx = index.to_numpy()
            big = pa.types.is_large_binary(sealed.type)
            offs = np.frombuffer(sealed.buffers()[1], np.int64 if big else np.int32,
                                 count=len(sealed) + 1, offset=sealed.offset * (8 if big else 4))
            data = memoryview(sealed.buffers()[2]) if len(sealed) else memoryview(b"")
            for i in range(len(sealed)):
                yield position, int(idx[i]), data[offs[i]:offs[i + 1]]
                position += 1


def _checked_blocks(path: Path, manifest: Manifest, sealer: BlockSealer,
                    out_for: Callable[[int], memoryview | None]) -> Iterator[tuple[int, int]]:
    """Check and open every block in order; yields (block, sealed size).

    Checks, in order: position against the manifest's block count and the
    block_index column; the header's format and size; AES-GCM (header as
    AAD); then the authenticated header against the manifest (table id,
    version, index, count, row size, schema hash, rows in the block).
    """
    table = manifest.table_name
    seen = 0
    for position, column_index, sealed in _raw_blocks(path, manifest):
        where = f"block {position} of table '{table}'"
        if position >= manifest.block_count:
            raise BlockSequenceError(
                f"{where} is one too many: the manifest lists {manifest.block_count} "
                f"blocks (block {column_index} appears again or was added){_RESTORE}",
                block_index=position)
        if column_index != position:
            raise BlockSequenceError(
                f"{where} is missing or out of order: block {column_index} is stored in its "
                f"place (blocks were dropped, duplicated or reordered){_RESTORE}",
                block_index=position)
        try:
            header = BlockHeader.unpack(sealed, where=where)
            expected_plain = manifest.block_rows(position) * manifest.row_size
            # Authenticate before trusting any header field; a header announcing
            # another size is opened into fresh memory, then rejected below.
            out = out_for(position) if header.ciphertext_size == expected_plain else None
            header, _ = sealer.open(sealed, where=where, out=out)
        except BlockError as e:
            e.block_index = position
            raise
        _check_header(header, manifest, position, where)
        seen += 1
        yield position, len(sealed)
    if seen < manifest.block_count:
        raise BlockSequenceError(
            f"block {seen} of table '{table}' is missing: the manifest lists "
            f"{manifest.block_count} blocks, the files hold {seen}{_RESTORE}",
            block_index=seen)


_RESTORE = "; restore the table from its owner's copy or re-encrypt it"


def _check_header(h: BlockHeader, m: Manifest, position: int, where: str) -> None:
    def fail(msg: str) -> BlockSequenceError:
        return BlockSequenceError(f"{where}: {msg}{_RESTORE}", block_index=position)
    if h.table_id != m.table_id:
        raise fail(f"it belongs to another table (id {h.table_id.hex()}, expected "
                   f"{m.table_id.hex()}); it was replayed from another table")
    if h.table_version != m.table_version:
        raise fail(f"it comes from version {h.table_version} of the table, the manifest is "
                   f"version {m.table_version}; it was replayed from another version")
    if h.block_index != position or h.block_count != m.block_count:
        raise fail(f"its header says block {h.block_index} of {h.block_count}, expected "
                   f"{position} of {m.block_count}; blocks were reordered, dropped or "
                   "duplicated")
    if h.schema_hash != m.schema_hash or h.row_size != m.row_size:
        raise fail("it was written with another schema")
    if h.row_count != m.block_rows(position):
        raise fail(f"it holds {h.row_count} rows, the manifest expects "
                   f"{m.block_rows(position)}")


def read_table(path: str | os.PathLike[str], *, data_key: bytes) -> pa.Table:
    """Decrypt an encrypted table into an Arrow table (types per Schema.to_arrow_schema).

    The manifest is verified first (a wrong key fails there), then every
    block is checked and opened in order.

    Raises:
        TableNotFoundError, TableFormatError: no table / malformed files.
        ManifestAuthenticationError: manifest edited or wrong data key.
        BlockFormatError, BlockAuthenticationError, BlockSequenceError: a
            block was truncated, modified, dropped, duplicated, reordered, or
            replayed from another table or version; the message names the
            table and the block.
    """
    p = Path(path)
    manifest = load_manifest(p, data_key)
    plain = np.empty(manifest.plaintext_bytes, np.uint8)
    view = memoryview(plain)
    block_plain = manifest.rows_per_block * manifest.row_size

    def out_for(i: int) -> memoryview:
        start = i * block_plain
        return view[start:start + manifest.block_rows(i) * manifest.row_size]

    for _ in _checked_blocks(p, manifest, BlockSealer(data_key), out_for):
        pass
    return decode_rows(plain, manifest.schema, where=f"table '{manifest.table_name}'")


def verify_table(path: str | os.PathLike[str], *, data_key: bytes) -> TableReport:
    """Check a table completely (manifest MACs, every block) without keeping plaintext.

    Raises the first problem found, as :func:`read_table` does.
    """
    p = Path(path)
    manifest = load_manifest(p, data_key)
    scratch = np.empty(manifest.rows_per_block * manifest.row_size, np.uint8)
    view = memoryview(scratch)
    sealed_bytes = 0
    try:
        for i, size in _checked_blocks(p, manifest, BlockSealer(data_key),
                                       lambda i: view[:manifest.block_rows(i) *
                                                      manifest.row_size]):
            sealed_bytes += size
    finally:
        scratch[:] = 0
    return TableReport(manifest.table_name, manifest.table_id.hex(), manifest.table_version,
                       manifest.key_id.hex(), manifest.row_count, manifest.block_count,
                       manifest.rows_per_block, manifest.row_size, manifest.plaintext_bytes,
                       sealed_bytes, tuple(f.path for f in manifest.files))


def iter_sealed_blocks(path: str | os.PathLike[str], *,
                       check_order: bool = True) -> Iterator[tuple[int, bytes]]:
    """Yield (block_index, sealed block) in order, without any key (to feed the TA).

    Only public structure is checked (the manifest parses, the Parquet
    columns, and with ``check_order`` that the stored block_index column
    counts 0, 1, 2, ...); the TA authenticates the blocks themselves.
    """
    p = Path(path)
    manifest = load_manifest(p)
    for position, column_index, sealed in _raw_blocks(p, manifest):
        if check_order and column_index != position:
            raise BlockSequenceError(
                f"block {position} of table '{manifest.table_name}' is missing or out of "
                f"order: block {column_index} is stored in its place", block_index=position)
        yield column_index, bytes(sealed)


__all__ = ["BLOCK_SCHEMA", "DEFAULT_BLOCK_BYTES", "MANIFEST_NAME", "TableReport",
           "iter_sealed_blocks", "read_manifest", "read_table", "verify_table",
           "write_table"]
