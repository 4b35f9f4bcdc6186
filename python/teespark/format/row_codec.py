"""Fixed-width typed row codec: Arrow columns <-> rows of bytes.

Row layout (docs/FORMAT.md, "Row layout"): the null bitmap, ceil(columns/8)
bytes, bit ``i % 8`` of byte ``i // 8`` set when column ``i`` is NULL; then
each column in schema order at the offset :meth:`Schema.layout` gives, with
no padding, little-endian. A NULL value's bytes are all zero. Strings are
UTF-8, zero padded to the declared length; a string may not end with a NUL
character (U+0000), which the padding could not tell apart.

Both directions are vectorised (numpy / Arrow compute); nothing loops over
rows in Python. Only the error paths locate the offending row.

Row numbers in messages are 0-based positions in the input table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from teespark.errors import (SchemaMismatchError, TableFormatError, ValueOutOfRangeError,
                             ValueTooLongError)
from teespark.format.schema import Column, ColumnLayout, Schema, _as_arrow_table

_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_STRUCT_CACHE: dict[Schema, np.dtype] = {}
_NUMPY_FORMAT = {"int32": "<i4", "int64": "<i8", "float64": "<f8", "date": "<i4",
                 "timestamp": "<i8", "bool": "u1", "decimal": "<i8"}


def row_dtype(schema: Schema) -> np.dtype:
    """A numpy structured dtype whose fields are the columns at their offsets.

    Field ``"__nulls"`` is the bitmap; a column's field is named by its index
    (``"c0"``, ``"c1"``, ...). Strings are ``V<n>`` fields. Copying one
    element per row through these fields is much faster than 2-D byte slices.
    """
    dt = _STRUCT_CACHE.get(schema)
    if dt is None:
        names, formats, offsets = ["__nulls"], [f"V{schema.bitmap_size}"], [0]
        for lay, col in zip(schema.layout(), schema.columns):
            names.append(f"c{lay.index}")
            formats.append(_NUMPY_FORMAT.get(col.column_type.kind, f"V{lay.width}"))
            offsets.append(lay.offset)
        dt = np.dtype({"names": names, "formats": formats, "offsets": offsets,
                       "itemsize": schema.row_size})
        if len(_STRUCT_CACHE) > 256:
            _STRUCT_CACHE.clear()
        _STRUCT_CACHE[schema] = dt
    return dt


# ---------------------------------------------------------------------------
# encode
# ---------------------------------------------------------------------------


def encode_rows(table: pa.Table | Any, schema: Schema, *, out: np.ndarray | None = None,
                first_row: int = 0) -> np.ndarray:
    """Encode ``table`` into fixed-width rows: a uint8 array of shape (n, row_size).

    Columns are matched by name (exactly, else ignoring case); every schema
    column must be present and the table may have no other columns.

    Args:
        table: a pyarrow Table (or RecordBatch, or pandas DataFrame).
        schema: the table's schema.
        out: optional C-contiguous uint8 buffer of at least n * row_size
            bytes to encode into (reused across calls to avoid page faults).
        first_row: added to row numbers in error messages (for chunked input).

    Raises:
        SchemaMismatchError: missing or extra columns, a type that cannot be
            converted, a NULL in a non-nullable column.
        ValueTooLongError: a string longer than its column's declared bytes.
        ValueOutOfRangeError: a value outside its type's range (decimal
            precision, int32, sub-microsecond timestamps, ...).
    """
    table = _as_arrow_table(table)
    columns = _match_columns(table, schema)
    n = table.num_rows
    row_size = schema.row_size
    if out is None:
        flat = np.empty(n * row_size, np.uint8)
    else:
        if out.dtype != np.uint8 or not out.flags["C_CONTIGUOUS"] or out.size < n * row_size:
            raise ValueError(
                f"encode_rows: 'out' must be a C-contiguous uint8 buffer of at least "
                f"{n * row_size} bytes")
        flat = out.reshape(-1)[: n * row_size]
    rec = flat.view(row_dtype(schema)) if n else np.empty(0, row_dtype(schema))
    bitmap = np.zeros((n, schema.bitmap_size), np.uint8)
    for lay, col, chunked in columns:
        arr = _combine(chunked)
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        is_null = None
        if arr.null_count:
            is_null = _null_mask(arr)
            if not col.nullable:
                row = int(np.flatnonzero(is_null)[0])
                raise SchemaMismatchError(
                    f"column '{col.name}' is declared not null but row {first_row + row} "
                    "(0-based) is NULL", column=col.name, row=first_row + row)
            bitmap[:, lay.null_byte] |= is_null.view(np.uint8) << lay.null_bit
        _ENCODERS[col.column_type.kind](rec[f"c{lay.index}"], arr, col, is_null, first_row)
    if n:
        rec["__nulls"] = bitmap.view(f"V{schema.bitmap_size}").reshape(n)
    return flat.reshape(n, row_size)


def _match_columns(table: pa.Table, schema: Schema) -> list[tuple[ColumnLayout, Column,
                                                                  pa.ChunkedArray]]:
    names = table.column_names
    exact = {nm: i for i, nm in enumerate(names)}
    folded: dict[str, int] = {}
    for i, nm in enumerate(names):
        folded.setdefault(nm.casefold(), i)
    used, out, missing = set(), [], []
    for lay, col in zip(schema.layout(), schema.columns):
        i = exact.get(col.name, folded.get(col.name.casefold()))
        if i is None:
            missing.append(col.name)
            continue
        used.add(i)
        out.append((lay, col, table.column(i)))
    if missing:
        raise SchemaMismatchError(
            f"the input has no column {', '.join(repr(m) for m in missing)} "
            f"(input columns: {', '.join(names) or 'none'})", column=missing[0])
    extra = [names[i] for i in range(len(names)) if i not in used]
    if extra:
        raise SchemaMismatchError(
            f"the input has column(s) {', '.join(repr(e) for e in extra)} that the schema "
            "does not declare; drop them or add them to the schema", column=extra[0])
    return out


def _combine(chunked: pa.ChunkedArray) -> pa.Array:
    if chunked.num_chunks == 1:
        return chunked.chunk(0)
    if chunked.num_chunks == 0:
        return pa.array([], chunked.type)
    return chunked.combine_chunks()


def _null_mask(arr: pa.Array) -> np.ndarray:
    """bool array, True where NULL."""
    if pa.types.is_null(arr.type):
        return np.ones(len(arr), bool)
    return np.asarray(pc.is_null(arr).to_numpy(zero_copy_only=False), bool)


def _mismatch(col: Column, arr: pa.Array, hint: str = "") -> SchemaMismatchError:
    return SchemaMismatchError(
        f"column '{col.name}' is declared {col.type} but the input holds {arr.type} "
        f"values{hint}; cast the column or declare another type in the schema",
        column=col.name)


def _first(mask: np.ndarray, is_null: np.ndarray | None) -> int | None:
    """First row where ``mask`` holds and the value is not NULL, else None."""
    if is_null is not None:
        mask = mask & ~is_null
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def _fixed_values(arr: pa.Array, dtype: str) -> np.ndarray:
    """The values buffer of a fixed-width, non-bool Arrow array (garbage at NULLs)."""
    buf = arr.buffers()[1]
    item = np.dtype(dtype).itemsize
    if buf is None or len(arr) == 0:
        return np.zeros(len(arr), dtype)
    return np.frombuffer(buf, dtype, count=len(arr), offset=arr.offset * item)


def _int_dtype(t: pa.DataType) -> str:
    return np.dtype(t.to_pandas_dtype()).str


def _integers(arr: pa.Array, col: Column, is_null, first_row: int, lo: int, hi: int,
              target: str) -> np.ndarray:
    """Integer values of ``arr`` checked against [lo, hi]; NULLs become 0."""
    t = arr.type
    if pa.types.is_null(t):
        return np.zeros(len(arr), target)
    if pa.types.is_integer(t):
        vals = _fixed_values(arr, _int_dtype(t))
        info = np.iinfo(vals.dtype)
        if info.min < lo or info.max > hi:
            too_big = vals > hi if info.max > hi else np.zeros(len(vals), bool)
            too_small = vals < lo if info.min < lo else np.zeros(len(vals), bool)
            row = _first(too_big | too_small, is_null)
            if row is not None:
                raise ValueOutOfRangeError(
                    f"column '{col.name}' ({col.type}): row {first_row + row} (0-based) "
                    f"is outside the {col.type} range", column=col.name, row=first_row + row)
    elif pa.types.is_floating(t):
        vals = _fixed_values(arr.cast(pa.float64()), "<f8")
        with np.errstate(invalid="ignore"):
            bad = (~np.isfinite(vals) | (vals != np.trunc(vals)) | (vals < lo)
                   | (vals >= float(hi) + 1.0))
        row = _first(bad, is_null)
        if row is not None:
            raise ValueOutOfRangeError(
                f"column '{col.name}' ({col.type}): row {first_row + row} (0-based) holds a "
                f"floating-point value that is not an integer in the {col.type} range",
                column=col.name, row=first_row + row)
        if is_null is not None:
            vals = np.where(is_null, 0.0, vals)  # NaN at NULLs would not cast
    else:
        raise _mismatch(col, arr)
    out = vals.astype(target, copy=False) if vals.dtype != np.dtype(target) else vals
    if is_null is not None:
        out = np.where(is_null, 0, out).astype(target, copy=False)
    return out


def _enc_int32(dst, arr, col, is_null, first_row):
    dst[...] = _integers(arr, col, is_null, first_row, _INT32_MIN, _INT32_MAX, "<i4")


def _enc_int64(dst, arr, col, is_null, first_row):
    dst[...] = _integers(arr, col, is_null, first_row, _INT64_MIN, _INT64_MAX, "<i8")


def _enc_float64(dst, arr, col, is_null, first_row):
    t = arr.type
    if pa.types.is_null(t):
        dst[...] = 0
        return
    if pa.types.is_floating(t):
        vals = _fixed_values(arr if t == pa.float64() else arr.cast(pa.float64()), "<f8")
    elif pa.types.is_integer(t):
        ints = _fixed_values(arr, _int_dtype(t))
        vals = ints.astype(np.float64)
        inexact = np.abs(vals) >= 2.0 ** 53
        if inexact.any():
            # Exact iff converting back gives the same integer (2**63 / 2**64
            # themselves are out of range, hence inexact).
            limit = 2.0 ** (64 if ints.dtype.kind == "u" else 63)
            in_range = (vals < limit) & (vals >= -limit)
            back = np.where(inexact & in_range, vals, 0).astype(ints.dtype)
            inexact &= ~in_range | (back != ints)
        row = _first(inexact, is_null)
        if row is not None:
            raise ValueOutOfRangeError(
                f"column '{col.name}' (float64): the integer in row {first_row + row} "
                "(0-based) cannot be represented exactly as a float64",
                column=col.name, row=first_row + row)
    else:
        raise _mismatch(col, arr)
    if is_null is not None:
        vals = np.where(is_null, 0.0, vals)
    dst[...] = vals


def _enc_decimal(dst, arr, col, is_null, first_row):
    ctype = col.column_type
    p, s = ctype.precision, ctype.scale
    t = arr.type
    limit = 10 ** p
    if pa.types.is_null(t):
        dst[...] = 0
        return
    if pa.types.is_decimal(t):
        try:
            # pyarrow's safe cast refuses to drop non-zero digits or overflow.
            wide = arr.cast(pa.decimal128(38, s))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            row = _first_bad_py(arr, lambda v: v != round(v, s) or abs(v) >= limit // 10 ** s,
                                is_null)
            raise ValueOutOfRangeError(
                f"column '{col.name}' ({col.type}): row {first_row + row} (0-based) has more "
                f"than {s} digits after the decimal point or does not fit precision {p}",
                column=col.name, row=first_row + row) from None
        words = (np.frombuffer(wide.buffers()[1], "<i8", count=2 * len(wide),
                               offset=wide.offset * 16)
                 if len(wide) else np.zeros(0, "<i8"))
        low, high = words[0::2], words[1::2]
        with np.errstate(over="ignore"):
            bad = (high != (low >> 63)) | (low >= limit) | (low <= -limit)
        vals = low
    elif pa.types.is_integer(t):
        ints = _fixed_values(arr, _int_dtype(t))
        bound = limit // 10 ** s  # |int| must stay below 10**(p-s)
        if ints.dtype.kind == "u":
            bad = ints >= np.uint64(bound)
        else:
            bad = (ints >= bound) | (ints <= -bound)
        vals = ints.astype(np.int64) * (10 ** s)
    elif pa.types.is_floating(t):
        f = _fixed_values(arr.cast(pa.float64()), "<f8")
        with np.errstate(invalid="ignore", over="ignore"):
            scaled = np.rint(f * float(10 ** s))
            ok = np.isfinite(scaled) & (np.abs(scaled) < float(limit))
            vals = np.where(ok, scaled, 0).astype(np.int64)
            # The decimal chosen must convert back to exactly the same double,
            # i.e. the float has at most `s` decimals in its shortest form.
            ok &= (vals / float(10 ** s)) == f
        bad = ~ok
    else:
        raise _mismatch(col, arr)
    row = _first(bad, is_null)
    if row is not None:
        raise ValueOutOfRangeError(
            f"column '{col.name}' ({col.type}): row {first_row + row} (0-based) does not fit "
            f"decimal({p},{s})" + (" exactly" if pa.types.is_floating(t) else ""),
            column=col.name, row=first_row + row)
    if is_null is not None:
        vals = np.where(is_null, 0, vals)
    dst[...] = vals


def _first_bad_py(arr: pa.Array, pred, is_null) -> int:
    """Error path only: the first non-NULL row whose Python value fails ``pred``."""
    for i, v in enumerate(arr.to_pylist()):
        if v is not None and pred(v):
            return i
    return 0


def _enc_date(dst, arr, col, is_null, first_row):
    t = arr.type
    if pa.types.is_null(t):
        dst[...] = 0
        return
    if pa.types.is_date64(t):
        ms = _fixed_values(arr, "<i8")
        bad = (ms % 86_400_000 != 0) | (ms // 86_400_000 < _INT32_MIN) | \
            (ms // 86_400_000 > _INT32_MAX)
        row = _first(bad, is_null)
        if row is not None:
            raise ValueOutOfRangeError(
                f"column '{col.name}' (date): row {first_row + row} (0-based) is not a whole "
                "day in the date range", column=col.name, row=first_row + row)
        vals = (ms // 86_400_000).astype("<i4")
    elif pa.types.is_date32(t):
        vals = _fixed_values(arr, "<i4")
    else:
        raise _mismatch(col, arr, " (use date32/date64 values; timestamps are not "
                                  "silently truncated to dates)")
    if is_null is not None:
        vals = np.where(is_null, 0, vals)
    dst[...] = vals


_US_PER = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": None}


def _enc_timestamp(dst, arr, col, is_null, first_row):
    t = arr.type
    if pa.types.is_null(t):
        dst[...] = 0
        return
    if not pa.types.is_timestamp(t):
        raise _mismatch(col, arr)
    # Arrow keeps zone-aware timestamps as UTC instants already; naive ones
    # are taken as UTC wall-clock time (docs/FORMAT.md).
    raw = _fixed_values(arr, "<i8")
    if t.unit == "ns":
        bad = raw % 1000 != 0
        row = _first(bad, is_null)
        if row is not None:
            raise ValueOutOfRangeError(
                f"column '{col.name}' (timestamp): row {first_row + row} (0-based) has "
                "sub-microsecond precision; teespark stores microseconds (round the "
                "column first)", column=col.name, row=first_row + row)
        vals = raw // 1000
    elif t.unit == "us":
        vals = raw
    else:
        mult = _US_PER[t.unit]
        bad = (raw > _INT64_MAX // mult) | (raw < _INT64_MIN // mult)
        row = _first(bad, is_null)
        if row is not None:
            raise ValueOutOfRangeError(
                f"column '{col.name}' (timestamp): row {first_row + row} (0-based) is out of "
                "the microsecond timestamp range", column=col.name, row=first_row + row)
        vals = raw * mult
    if is_null is not None:
        vals = np.where(is_null, 0, vals)
    dst[...] = vals


def _enc_bool(dst, arr, col, is_null, first_row):
    t = arr.type
    if pa.types.is_null(t):
        dst[...] = 0
        return
    if not pa.types.is_boolean(t):
        raise _mismatch(col, arr)
    n = len(arr)
    buf = arr.buffers()[1]
    bits = np.unpackbits(np.frombuffer(buf, np.uint8), bitorder="little")[
        arr.offset:arr.offset + n] if n else np.zeros(0, np.uint8)
    if is_null is not None:
        bits = np.where(is_null, 0, bits).astype(np.uint8)
    dst[...] = bits


def _enc_string(dst, arr, col, is_null, first_row):
    t = arr.type
    n = len(arr)
    width = col.column_type.length
    if pa.types.is_null(t):
        dst[...] = np.zeros(1, f"V{width}")
        return
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        if getattr(pa.types, "is_string_view", lambda _: False)(t):
            arr = arr.cast(pa.large_string())
        else:
            raise _mismatch(col, arr, " (string columns take UTF-8 text)")
    if n == 0:
        return
    if arr.null_count:
        arr = pc.fill_null(arr, "")
    lengths = np.asarray(pc.binary_length(arr).to_numpy(zero_copy_only=False))
    too_long = lengths > width
    if too_long.any():
        row = int(np.flatnonzero(too_long)[0])
        raise ValueTooLongError(
            f"column '{col.name}' is declared {col.type} but row {first_row + row} (0-based) "
            f"holds a string of {int(lengths[row])} UTF-8 bytes; declare a longer string "
            "or shorten the value", column=col.name, row=first_row + row)
    # A trailing NUL would disappear into the zero padding.
    if (lengths > 0).any():
        ends_nul = np.asarray(pc.ends_with(arr, pattern="\x00").to_numpy(
            zero_copy_only=False), bool)
        if ends_nul.any():
            row = int(np.flatnonzero(ends_nul)[0])
            raise ValueOutOfRangeError(
                f"column '{col.name}': the string in row {first_row + row} (0-based) ends "
                "with a NUL character (U+0000), which the zero padding cannot represent",
                column=col.name, row=first_row + row)
    if n * width >= (1 << 31) and not pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.large_string())
    # ascii_rpad counts bytes, so every value becomes exactly `width` bytes
    # (none is longer, checked above) and the data buffer is n * width bytes.
    padded = pc.ascii_rpad(arr, width=width, padding="\x00")
    big = pa.types.is_large_string(padded.type)
    offsets = np.frombuffer(padded.buffers()[1], "<i8" if big else "<i4", count=n + 1,
                            offset=padded.offset * (8 if big else 4))
    start = int(offsets[0])
    data = np.frombuffer(padded.buffers()[2], np.uint8, count=n * width, offset=start)
    dst[...] = data.view(f"V{width}")


_ENCODERS = {"int32": _enc_int32, "int64": _enc_int64, "float64": _enc_float64,
             "decimal": _enc_decimal, "date": _enc_date, "timestamp": _enc_timestamp,
             "bool": _enc_bool, "string": _enc_string}


# ---------------------------------------------------------------------------
# decode
# ---------------------------------------------------------------------------


def decode_rows(rows: np.ndarray | bytes | bytearray | memoryview, schema: Schema, *,
                where: str = "rows") -> pa.Table:
    """Decode fixed-width rows back into an Arrow table typed by ``schema``.

    Arrow types: int32, int64, float64, decimal128(p,s), date32,
    timestamp("us", tz="UTC"), bool, string.

    Raises:
        TableFormatError: the bytes are not rows of this schema (size not a
            multiple of the row size, a NULL bit in a non-nullable column or
            in the bitmap's padding, a bool other than 0/1, invalid UTF-8);
            ``where`` names them in the message.
    """
    row_size = schema.row_size
    if isinstance(rows, np.ndarray):
        flat = np.ascontiguousarray(rows, dtype=np.uint8).reshape(-1)
    else:
        flat = np.frombuffer(rows, np.uint8)
    if flat.size % row_size:
        raise TableFormatError(
            f"{where}: {flat.size} bytes is not a whole number of {row_size}-byte rows")
    n = flat.size // row_size
    rec = flat.view(row_dtype(schema)) if n else np.empty(0, row_dtype(schema))
    bitmap = np.ascontiguousarray(rec["__nulls"]).view(np.uint8).reshape(
        n, schema.bitmap_size)
    ncols = len(schema)
    if ncols % 8 and n:
        pad_mask = np.uint8((0xFF << (ncols % 8)) & 0xFF)
        if (bitmap[:, -1] & pad_mask).any():
            raise TableFormatError(f"{where}: unused null-bitmap bits are set")
    arrays = []
    for lay, col in zip(schema.layout(), schema.columns):
        is_null = ((bitmap[:, lay.null_byte] >> lay.null_bit) & 1).astype(bool)
        null_count = int(is_null.sum())
        if null_count and not col.nullable:
            row = int(np.flatnonzero(is_null)[0])
            raise TableFormatError(
                f"{where}: row {row} is NULL in column '{col.name}', which is not nullable")
        validity = (pa.py_buffer(np.packbits(~is_null, bitorder="little"))
                    if null_count else None)
        values = np.ascontiguousarray(rec[f"c{lay.index}"])
        arrays.append(_DECODERS[col.column_type.kind](values, col, n, validity, null_count,
                                                      where))
    return pa.Table.from_arrays(arrays, schema=schema.to_arrow_schema())


def _dec_fixed(values, col, n, validity, null_count, where):
    return pa.Array.from_buffers(col.column_type.to_arrow(), n,
                                 [validity, pa.py_buffer(values)], null_count)


def _dec_decimal(values, col, n, validity, null_count, where):
    words = np.empty((n, 2), np.int64)
    words[:, 0] = values
    words[:, 1] = values >> 63
    return pa.Array.from_buffers(col.column_type.to_arrow(), n,
                                 [validity, pa.py_buffer(words)], null_count)


def _dec_bool(values, col, n, validity, null_count, where):
    raw = values.view(np.uint8)
    if (raw > 1).any():
        raise TableFormatError(f"{where}: column '{col.name}' holds a bool byte other "
                               "than 0 or 1")
    bits = np.packbits(raw, bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), n, [validity, pa.py_buffer(bits)], null_count)


def _dec_string(values, col, n, validity, null_count, where):
    width = col.column_type.length
    big = n * width >= (1 << 31)
    offsets = np.arange(0, n * width + 1, width, dtype=np.int64 if big else np.int32)
    arr = pa.Array.from_buffers(pa.large_string() if big else pa.string(), n,
                                [validity, pa.py_buffer(offsets),
                                 pa.py_buffer(values.view(np.uint8))], null_count)
    arr = pc.ascii_rtrim(arr, characters="\x00")
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid:
        raise TableFormatError(
            f"{where}: column '{col.name}' holds bytes that are not valid UTF-8") from None
    return arr.cast(pa.string()) if big else arr


_DECODERS = {"int32": _dec_fixed, "int64": _dec_fixed, "float64": _dec_fixed,
             "date": _dec_fixed, "timestamp": _dec_fixed, "decimal": _dec_decimal,
             "bool": _dec_bool, "string": _dec_string}
