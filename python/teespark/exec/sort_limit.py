"""ORDER BY (with top-k), LIMIT and DISTINCT key lists."""

from __future__ import annotations

from collections.abc import Sequence

from teespark.format.schema import Schema
from teespark.tee.operators import OpKey

from teespark.exec._common import op_key

#: A sort key: a column name, or (name, ascending[, nulls_first]).
SortSpec = "str | tuple"


def sort_keys(schema: Schema, keys: Sequence) -> list[OpKey]:
    """Key entries for ORDER BY ``keys`` (Spark's NULL order by default)."""
    out = []
    for k in keys:
        if isinstance(k, str):
            out.append(op_key(schema, k))
            continue
        name, asc = k[0], bool(k[1])
        nf = k[2] if len(k) > 2 else None
        out.append(op_key(schema, name, descending=not asc, nulls_first=nf))
    return out


def distinct_keys(schema: Schema, columns: Sequence[str] | None) -> list[OpKey]:
    """Every column (SELECT DISTINCT *) or the given ones."""
    names = list(columns) if columns else schema.names
    return [op_key(schema, n) for n in names]
