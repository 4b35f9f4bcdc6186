"""teespark.ir: the expression IR the TA evaluates (docs/EXPRESSIONS.md).

Build expressions with a PySpark-like API, type them against a table schema
and encode them as the versioned binary program the TA's evaluator
(enclave/ta/expr/) validates and runs column-at-a-time::

    >>> from teespark.format.schema import Schema
    >>> from teespark.ir import col, lit, when, compile_expr
    >>> s = Schema.from_spec("score:int32, limit:decimal(12,2)")
    >>> p = compile_expr(when(col("score") >= 600, col("limit")).otherwise(lit(0)), s)
    >>> str(p.result_type)
    'decimal(12,2)'

The Spark plan exporter (a later component) produces the same programs from
Catalyst's optimized plans; docs/EXPRESSIONS.md maps Catalyst expression
classes to opcodes.
"""

from teespark.ir.compile import (
                                 Program,
                                 TNode,
                                 compile_expr,
                                 decode_program,
                                 encode_tree,
                                 like_tokens,
)
from teespark.ir.errors import (
                                 ExpressionError,
                                 ExpressionTypeError,
                                 ProgramFormatError,
                                 UnsupportedExpressionError,
)
from teespark.ir.expr import (
                                 CaseBuilder,
                                 Expr,
                                 abs,
                                 coalesce,
                                 col,
                                 date_add,
                                 date_sub,
                                 datediff,
                                 dayofmonth,
                                 if_,
                                 lit,
                                 make_decimal,
                                 month,
                                 normalize_nan_and_zero,
                                 null,
                                 round,
                                 unscaled_value,
                                 when,
                                 year,
)
from teespark.ir.types import (
                                 BOOL,
                                 DATE,
                                 FLOAT64,
                                 INT32,
                                 INT64,
                                 TIMESTAMP,
                                 IrType,
                                 decimal,
                                 string,
)

__all__ = [
                                 "BOOL",
                                 "DATE",
                                 "FLOAT64",
                                 "INT32",
                                 "INT64",
                                 "TIMESTAMP",
                                 "CaseBuilder",
                                 "Expr",
                                 "ExpressionError",
                                 "ExpressionTypeError",
                                 "IrType",
                                 "Program",
                                 "ProgramFormatError",
                                 "TNode",
                                 "UnsupportedExpressionError",
                                 "abs",
                                 "coalesce",
                                 "col",
                                 "compile_expr",
                                 "date_add",
                                 "date_sub",
                                 "datediff",
                                 "dayofmonth",
                                 "decimal",
                                 "decode_program",
                                 "encode_tree",
                                 "if_",
                                 "like_tokens",
                                 "lit",
                                 "make_decimal",
                                 "month",
                                 "normalize_nan_and_zero",
                                 "null",
                                 "round",
                                 "string",
                                 "unscaled_value",
                                 "when",
                                 "year",
]
