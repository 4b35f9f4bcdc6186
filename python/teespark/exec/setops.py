"""UNION ALL: both inputs must have the same row layout."""

from __future__ import annotations

from teespark.format.schema import Schema

from teespark.exec._common import schema_of_columns


def check_union(a: Schema, b: Schema) -> Schema:
    """The output schema (a's names; nullable where either input is)."""
    if [(x.type, x.offset) for x in a.layout()] != [(x.type, x.offset) for x in b.layout()]:
        raise TypeError("UNION ALL needs inputs with the same column types")
    return schema_of_columns((x.name, x.type, x.nullable or y.nullable)
                             for x, y in zip(a, b))
