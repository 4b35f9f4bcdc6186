"""Shared pieces of the single-node operator driver: encrypted tables,
row layouts the expression compiler can type against, and key columns.

A *layout* is what :func:`teespark.ir.compile_expr` needs: ``row_size`` and
``layout()`` giving each column's name, type, nullability, byte offset and
NULL bit (``index``: the bit index in the row, bit ``i % 8`` of byte
``i // 8``). A table's schema is one; the raw rows an operator produces
before its projection (a join's ``[left | right]``, an aggregate's
``[representative row | results | NULL bytes]``) are others.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from teespark.format.schema import Column, ColumnLayout, Schema
from teespark.tee import constants as c
from teespark.tee.operators import OpKey


@dataclass
class EncTable:
    """A table the TA holds: its logical schema and sealed blocks.

    ``padded``: rows carry a trailing is_real byte (docs/FORMAT.md,
    appendix A) and the blocks the padded schema hash. ``slot`` opens them.
    """

    schema: Schema
    descriptor: bytes
    blocks: bytes
    slot: int
    rows: int
    padded: bool = False
    key: bytes | None = None   # known to the caller (base tables, results)


class RawLayout:
    """A row layout that is not a table schema (raw operator output)."""

    def __init__(self, columns: Sequence[ColumnLayout], row_size: int) -> None:
        self._cols = list(columns)
        self.row_size = row_size
        names = [c_.name.casefold() for c_ in self._cols]
        if len(set(names)) != len(names):
            raise ValueError("column names must be unique (ignoring case): "
                             + ", ".join(c_.name for c_ in self._cols))

    def layout(self) -> list[ColumnLayout]:
        return list(self._cols)

    def column(self, name: str) -> ColumnLayout:
        for lay in self._cols:
            if lay.name.casefold() == name.casefold():
                return lay
        raise KeyError(f"column '{name}' not found; have: "
                       + ", ".join(x.name for x in self._cols))


def shifted(schema: Schema | RawLayout, byte_offset: int) -> list[ColumnLayout]:
    """The columns of ``schema`` in a row that starts ``byte_offset`` bytes in."""
    return [ColumnLayout(lay.index + 8 * byte_offset, lay.name, lay.type, lay.nullable,
                         lay.offset + byte_offset, lay.width) for lay in schema.layout()]


def key_type(col_type: str) -> tuple[int, int]:
    """(TS_KEY_*, width) of a column type (docs/FORMAT.md section 2)."""
    if col_type in ("int32", "date"):
        return c.TS_KEY_INT, 4
    if col_type in ("int64", "timestamp") or col_type.startswith("decimal"):
        return c.TS_KEY_INT, 8
    if col_type == "float64":
        return c.TS_KEY_FLOAT64, 8
    if col_type == "bool":
        return c.TS_KEY_UINT, 1
    if col_type.startswith("string("):
        w = int(col_type[7:-1])
        if w > 256:
            raise ValueError(f"string columns wider than 256 bytes cannot be keys ({col_type})")
        return c.TS_KEY_BYTES, w
    raise ValueError(f"no key encoding for {col_type}")


def op_key(layout: Schema | RawLayout, name: str, *, descending: bool = False,
           nulls_first: bool | None = None) -> OpKey:
    """The key entry of column ``name`` (Spark's default: NULLS FIRST when
    ascending, NULLS LAST when descending)."""
    lay = layout.column(name)
    t, w = key_type(lay.type)
    if nulls_first is None:
        nulls_first = not descending
    return OpKey(type=t, offset=lay.offset, width=w, descending=descending,
                 nullable=lay.nullable, null_offset=lay.index // 8, null_bit=lay.index % 8,
                 nulls_first=nulls_first)


def schema_of_columns(cols: Iterable[tuple[str, str, bool]]) -> Schema:
    return Schema([Column(n, t, nullable) for n, t, nullable in cols])


def new_table_id() -> bytes:
    return os.urandom(16)
