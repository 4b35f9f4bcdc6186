"""Table schemas: typed, fixed-width columns and their row layout.

A schema is an ordered list of columns, each with a name, a type and a
nullability flag. Every type has a fixed width, so every row of a table has
the same size and each column sits at the same byte offset in every row
(docs/FORMAT.md, "Row layout"):

==============  =====  ================================================
type            bytes  stored as
==============  =====  ================================================
int32           4      two's complement, little-endian
int64           8      two's complement, little-endian
float64         8      IEEE-754 binary64, little-endian
decimal(p,s)    8      the value times 10**s as int64 (1 <= p <= 18)
date            4      int32 days since 1970-01-01
timestamp       8      int64 microseconds since 1970-01-01 00:00 UTC
bool            1      0 or 1
string(n)       n      UTF-8, at most n bytes, zero padded
==============  =====  ================================================

The schema's canonical JSON (:meth:`Schema.canonical_json`) is hashed with
SHA-256 into the ``schema_hash`` that every sealed block and the table
descriptor carry, so a block can only be read under the schema it was
written with.

Example:
    >>> s = Schema.from_spec("id:int64 not null, name:string(8), amount:decimal(12,2)")
    >>> s.row_size, [c.offset for c in s.layout()]
    (25, [1, 9, 17])
    >>> s.canonical_json()[:58]
    '{"columns":[{"name":"id","nullable":false,"type":"int64"},'
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from teespark.errors import InvalidSchemaError, SchemaMismatchError

#: Version of the schema JSON encoding (the ``"teespark_schema"`` member).
SCHEMA_VERSION = 1
#: Largest row, bitmap included (TS_MAX_ROW_SIZE in teespark_ta.h).
MAX_ROW_SIZE = 65536
#: Largest decimal precision: 10**18 - 1 still fits an int64.
MAX_DECIMAL_PRECISION = 18
#: Longest column name, in UTF-8 bytes.
MAX_NAME_BYTES = 256

_FIXED_WIDTHS = {"int32": 4, "int64": 8, "float64": 8, "date": 4, "timestamp": 8,
                 "bool": 1}
# Spark / SQL spellings accepted on input; the canonical spelling is the key's value.
_ALIASES = {"int": "int32", "integer": "int32", "bigint": "int64", "long": "int64",
            "double": "float64", "boolean": "bool"}
_DECIMAL_RE = re.compile(r"^decimal\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$")
_STRING_RE = re.compile(r"^(?:string|varchar)\s*\(\s*(\d+)\s*\)$")
SUPPORTED_TYPES = ("int32", "int64", "float64", "decimal(p,s)", "date", "timestamp",
                   "bool", "string(n)")


@dataclass(frozen=True)
class ColumnType:
    """A parsed column type: ``kind`` plus its parameters.

    ``kind`` is one of int32, int64, float64, decimal, date, timestamp, bool,
    string. ``precision``/``scale`` are set for decimal, ``length`` (bytes)
    for string.
    """

    kind: str
    precision: int = 0
    scale: int = 0
    length: int = 0

    @classmethod
    def parse(cls, text: str) -> ColumnType:
        """Parse a type string (``"int64"``, ``"decimal(12, 2)"``, ``"string(20)"``)."""
        if not isinstance(text, str):
            raise InvalidSchemaError(
                f"a column type must be a string such as 'int64', got {type(text).__name__}")
        t = text.strip().lower()
        t = _ALIASES.get(t, t)
        if t in _FIXED_WIDTHS:
            return cls(t)
        m = _DECIMAL_RE.match(t)
        if m:
            p, s = int(m.group(1)), int(m.group(2))
            if not 1 <= p <= MAX_DECIMAL_PRECISION or not 0 <= s <= p:
                raise InvalidSchemaError(
                    f"type '{text}': a decimal needs 1 <= precision <= "
                    f"{MAX_DECIMAL_PRECISION} and 0 <= scale <= precision (it is stored "
                    "as a scaled int64)")
            return cls("decimal", precision=p, scale=s)
        m = _STRING_RE.match(t)
        if m:
            n = int(m.group(1))
            if not 1 <= n <= MAX_ROW_SIZE - 1:
                raise InvalidSchemaError(
                    f"type '{text}': a string length must be between 1 and "
                    f"{MAX_ROW_SIZE - 1} bytes")
            return cls("string", length=n)
        raise InvalidSchemaError(
            f"unknown column type '{text}'; supported: {', '.join(SUPPORTED_TYPES)}")

    @property
    def width(self) -> int:
        """Bytes the column takes in every row."""
        if self.kind == "decimal":
            return 8
        if self.kind == "string":
            return self.length
        return _FIXED_WIDTHS[self.kind]

    def __str__(self) -> str:
        if self.kind == "decimal":
            return f"decimal({self.precision},{self.scale})"
        if self.kind == "string":
            return f"string({self.length})"
        return self.kind

    def to_arrow(self) -> pa.DataType:
        """The Arrow type a decrypted column has."""
        return {
            "int32": pa.int32(), "int64": pa.int64(), "float64": pa.float64(),
            "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC"),
            "bool": pa.bool_(),
        }.get(self.kind) or (pa.decimal128(self.precision, self.scale)
                             if self.kind == "decimal" else pa.string())


@dataclass(frozen=True)
class Column:
    """One column: a name, a type string and whether it may hold NULL.

    ``type`` is normalised to its canonical spelling (``"decimal(12,2)"``,
    aliases such as ``"bigint"`` become ``"int64"``).
    """

    name: str
    type: str
    nullable: bool = True
    column_type: ColumnType = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if not isinstance(self.nullable, bool):
            raise InvalidSchemaError(
                f"column '{self.name}': 'nullable' must be true or false, got "
                f"{self.nullable!r}")
        try:
            ctype = ColumnType.parse(self.type)
        except InvalidSchemaError as e:
            raise InvalidSchemaError(f"column '{self.name}': {e}") from None
        object.__setattr__(self, "type", str(ctype))
        object.__setattr__(self, "column_type", ctype)

    @property
    def width(self) -> int:
        return self.column_type.width

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "nullable": self.nullable}


@dataclass(frozen=True)
class ColumnLayout:
    """Where a column sits in a row: its index (null bit), offset and width."""

    index: int
    name: str
    type: str
    nullable: bool
    offset: int
    width: int

    @property
    def null_byte(self) -> int:
        """Byte of the null bitmap holding this column's NULL bit."""
        return self.index // 8

    @property
    def null_bit(self) -> int:
        """Bit (0 = least significant) of :attr:`null_byte` set when NULL."""
        return self.index % 8


def _check_name(name: object) -> None:
    if not isinstance(name, str):
        raise InvalidSchemaError(
            f"a column name must be a string, got {type(name).__name__}")
    if not name or name != name.strip():
        raise InvalidSchemaError(
            f"column name {name!r} is empty or has leading/trailing white space")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise InvalidSchemaError(f"column name {name!r} contains a control character")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise InvalidSchemaError(
            f"column name {name[:40]!r}... is longer than {MAX_NAME_BYTES} UTF-8 bytes")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidSchemaError(f"column name {name!r} is not valid Unicode") from None


@dataclass(frozen=True)
class Schema:
    """An ordered list of typed columns; defines the fixed-width row layout.

    Args:
        columns: the columns, in row order. At least one; names unique
            ignoring case (Spark resolves names case-insensitively).
    """

    columns: tuple[Column, ...]
    _layout: tuple[ColumnLayout, ...] = field(init=False, repr=False, compare=False)

    def __init__(self, columns: Iterable[Column]) -> None:
        cols = tuple(columns)
        if not cols:
            raise InvalidSchemaError("a schema needs at least one column")
        seen: dict[str, str] = {}
        for c in cols:
            if not isinstance(c, Column):
                raise InvalidSchemaError(
                    f"Schema: every column must be a Column, got {type(c).__name__}")
            key = c.name.casefold()
            if key in seen:
                raise InvalidSchemaError(
                    f"duplicate column name '{c.name}' (same as '{seen[key]}' ignoring "
                    "case)")
            seen[key] = c.name
        offset = (len(cols) + 7) // 8
        layout = []
        for i, c in enumerate(cols):
            layout.append(ColumnLayout(i, c.name, c.type, c.nullable, offset, c.width))
            offset += c.width
        if offset > MAX_ROW_SIZE:
            raise InvalidSchemaError(
                f"rows of this schema take {offset} bytes, more than the limit of "
                f"{MAX_ROW_SIZE}; declare shorter string columns")
        object.__setattr__(self, "columns", cols)
        object.__setattr__(self, "_layout", tuple(layout))

    # -- layout -------------------------------------------------------------

    @property
    def bitmap_size(self) -> int:
        """Bytes of the null bitmap at the start of each row: ceil(columns / 8)."""
        return (len(self.columns) + 7) // 8

    @property
    def row_size(self) -> int:
        """Bytes per row: the null bitmap plus every column's width."""
        last = self._layout[-1]
        return last.offset + last.width

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def layout(self) -> list[ColumnLayout]:
        """Offset and width of every column, in column order."""
        return list(self._layout)

    def column(self, name: str) -> ColumnLayout:
        """The layout of the column called ``name`` (exact, then case-insensitive)."""
        for lay in self._layout:
            if lay.name == name:
                return lay
        for lay in self._layout:
            if lay.name.casefold() == name.casefold():
                return lay
        raise KeyError(f"no column '{name}' in the schema (columns: {', '.join(self.names)})")

    def __len__(self) -> int:
        return len(self.columns)

    def __iter__(self) -> Iterator[Column]:
        return iter(self.columns)

    # -- JSON ---------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"teespark_schema": SCHEMA_VERSION,
                "columns": [c.to_dict() for c in self.columns]}

    def canonical_json(self) -> str:
        """The canonical JSON text that :meth:`hash` covers.

        ``json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"),
        ensure_ascii=True)``: members sorted, no white space, non-ASCII escaped
        as ``\\uXXXX``, types in canonical spelling. Documented in
        docs/FORMAT.md so other implementations can reproduce it.
        """
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=True)

    def hash(self) -> bytes:
        """SHA-256 of the canonical JSON (ASCII): the ``schema_hash`` of blocks."""
        return hashlib.sha256(self.canonical_json().encode("ascii")).digest()

    def to_json(self, indent: int | None = 2) -> str:
        """The schema as readable JSON (same members as the canonical form)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any]) -> Schema:
        """Read a schema from its JSON text (or the parsed dict)."""
        if isinstance(data, (str, bytes)):
            try:
                data = json.loads(data)
            except ValueError as e:
                raise InvalidSchemaError(f"schema JSON does not parse: {e}") from None
        if not isinstance(data, Mapping):
            raise InvalidSchemaError("schema JSON must be an object")
        version = data.get("teespark_schema")
        if version != SCHEMA_VERSION:
            raise InvalidSchemaError(
                f"schema JSON has teespark_schema={version!r}; this teespark reads "
                f"version {SCHEMA_VERSION}")
        extra = set(data) - {"teespark_schema", "columns"}
        if extra:
            raise InvalidSchemaError(f"schema JSON has unknown members: {sorted(extra)}")
        cols = data.get("columns")
        if not isinstance(cols, list):
            raise InvalidSchemaError("schema JSON: 'columns' must be a list")
        out = []
        for i, c in enumerate(cols):
            if not isinstance(c, Mapping) or set(c) - {"name", "type", "nullable"} \
                    or "name" not in c or "type" not in c:
                raise InvalidSchemaError(
                    f"schema JSON: column {i} must be an object with 'name', 'type' and "
                    "optional 'nullable'")
            out.append(Column(c["name"], c["type"], c.get("nullable", True)))
        return cls(out)

    # -- other constructors -------------------------------------------------

    @classmethod
    def from_spec(cls, spec: str) -> Schema:
        """Parse a compact spec: ``"id:int64 not null, name:string(20), amt:decimal(12,2)"``.

        Each comma-separated item is ``name:type`` optionally followed by
        ``not null`` (or ``null``, the default). Commas inside parentheses
        belong to the type. Names cannot contain ':' or ',' here (use JSON).
        """
        if not isinstance(spec, str) or not spec.strip():
            raise InvalidSchemaError("schema spec is empty; expected 'name:type, ...'")
        items, depth, cur = [], 0, []
        for ch in spec:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            if ch == "," and depth == 0:
                items.append("".join(cur))
                cur = []
            else:
                cur.append(ch)
        items.append("".join(cur))
        cols = []
        for item in items:
            name, sep, rest = item.partition(":")
            if not sep or not name.strip() or not rest.strip():
                raise InvalidSchemaError(
                    f"schema spec item {item.strip()!r} is not 'name:type' (example: "
                    "'id:int64 not null, name:string(20)')")
            rest = rest.strip()
            nullable = True
            m = re.match(r"^(.*?)\s+(not\s+null|null)$", rest, re.IGNORECASE)
            if m:
                rest = m.group(1)
                nullable = not m.group(2).lower().startswith("not")
            cols.append(Column(name.strip(), rest, nullable))
        return cls(cols)

    def to_spec(self) -> str:
        """The compact spec form (inverse of :meth:`from_spec` for plain names)."""
        return ", ".join(f"{c.name}:{c.type}{'' if c.nullable else ' not null'}"
                         for c in self.columns)

    @classmethod
    def infer(cls, table: pa.Table | Any,
              string_lengths: Mapping[str, int] | None = None) -> Schema:
        """Infer a schema from an Arrow table (or a pandas DataFrame).

        Integer types up to 32 bits (and uint16) map to int32, other integers
        to int64; floats to float64; decimals with precision <= 18 keep it;
        date32/date64 to date; timestamps of any unit and zone to timestamp;
        strings to ``string(n)`` with n the longest value's UTF-8 length (at
        least 1) unless ``string_lengths`` names the column. Nullability
        follows the Arrow field.

        Raises:
            SchemaMismatchError: a column has a type teespark cannot store.
        """
        table = _as_arrow_table(table)
        lengths = dict(string_lengths or {})
        cols = []
        for fld, chunked in zip(table.schema, table.columns):
            t = fld.type
            if pa.types.is_dictionary(t):
                t = t.value_type
            if (pa.types.is_string(t) or pa.types.is_large_string(t)
                    or getattr(pa.types, "is_string_view", lambda _: False)(t)):
                n = lengths.pop(fld.name, None)
                if n is None:
                    arr = chunked.cast(pa.large_string()) if chunked.num_chunks else None
                    longest = pc.max(pc.binary_length(arr)).as_py() if arr is not None \
                        else None
                    n = max(1, longest or 0)
                type_str = f"string({n})"
            elif fld.name in lengths:
                raise InvalidSchemaError(
                    f"string_lengths names column '{fld.name}', which holds {fld.type} "
                    "values, not strings")
            elif pa.types.is_integer(t):
                narrow = (pa.int8(), pa.int16(), pa.int32(), pa.uint8(), pa.uint16())
                type_str = "int32" if t in narrow else "int64"
            elif pa.types.is_floating(t):
                type_str = "float64"
            elif pa.types.is_decimal(t):
                if t.precision > MAX_DECIMAL_PRECISION:
                    raise SchemaMismatchError(
                        f"column '{fld.name}' is {t}; teespark stores decimals as scaled "
                        f"int64 with precision <= {MAX_DECIMAL_PRECISION}: declare the "
                        f"column as decimal(18,{min(t.scale, 18)}) in the schema",
                        column=fld.name)
                type_str = f"decimal({t.precision},{t.scale})"
            elif pa.types.is_date(t):
                type_str = "date"
            elif pa.types.is_timestamp(t):
                type_str = "timestamp"
            elif pa.types.is_boolean(t):
                type_str = "bool"
            elif pa.types.is_null(t):
                raise SchemaMismatchError(
                    f"column '{fld.name}' holds only NULLs, so its type cannot be "
                    "inferred; give a schema", column=fld.name)
            else:
                raise SchemaMismatchError(
                    f"column '{fld.name}' has type {fld.type}, which teespark cannot "
                    f"store; supported: {', '.join(SUPPORTED_TYPES)}", column=fld.name)
            cols.append(Column(fld.name, type_str, fld.nullable))
        if lengths:
            raise InvalidSchemaError(
                f"string_lengths names columns that are not in the table: "
                f"{', '.join(sorted(lengths))}")
        return cls(cols)

    def to_arrow_schema(self) -> pa.Schema:
        """The Arrow schema of a decrypted table."""
        return pa.schema([pa.field(c.name, c.column_type.to_arrow(), c.nullable)
                          for c in self.columns])


def _as_arrow_table(table: Any) -> pa.Table:
    """Accept a pyarrow Table or RecordBatch, or a pandas DataFrame."""
    if isinstance(table, pa.Table):
        return table
    if isinstance(table, pa.RecordBatch):
        return pa.Table.from_batches([table])
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(table, pd.DataFrame):
        return pa.Table.from_pandas(table, preserve_index=False)
    raise TypeError(
        f"expected a pyarrow.Table, pyarrow.RecordBatch or pandas.DataFrame, got "
        f"{type(table).__name__}")


def schema_of(columns: Sequence[tuple[str, str]] | Sequence[tuple[str, str, bool]]) -> Schema:
    """Shorthand: ``schema_of([("id", "int64", False), ("name", "string(8)")])``."""
    return Schema(Column(*c) for c in columns)
