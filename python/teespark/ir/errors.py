"""Errors of the expression IR package (:mod:`teespark.ir`)."""

from __future__ import annotations

from teespark.errors import TeesparkError


class ExpressionError(TeesparkError):
    """Base of the expression errors: building, typing or encoding a program."""


class ExpressionTypeError(ExpressionError):
    """An expression's operands have types its operation does not accept
    (for example ``LIKE`` on a number), or a column name is unknown."""


class UnsupportedExpressionError(ExpressionError):
    """A well-formed expression the TA evaluator cannot run (for example
    ``%`` on float64, or a cast from string to int). The message names the
    operation and lists what is supported; see docs/EXPRESSIONS.md."""


class ProgramFormatError(ExpressionError):
    """A serialized program is malformed (raised by :func:`decode_program`)."""
