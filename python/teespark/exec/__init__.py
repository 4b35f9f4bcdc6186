"""teespark.exec: run relational operators in the TA from Python.

- :mod:`teespark.exec.driver`: :class:`LocalDriver` and the plan nodes
  (:class:`Scan`, :class:`Filter`, :class:`Project`, :class:`Sort`,
  :class:`Limit`, :class:`Aggregate`, :class:`Join`, :class:`Union`,
  :class:`Distinct`), one RUN_OPERATOR call per node, in-heap;
- one module per operator family builds its request parts:
  :mod:`~teespark.exec.filter_project`, :mod:`~teespark.exec.sort_limit`,
  :mod:`~teespark.exec.aggregate`, :mod:`~teespark.exec.join`,
  :mod:`~teespark.exec.setops`.
"""

from teespark.exec._common import EncTable
from teespark.exec.driver import (
    Aggregate,
    Distinct,
    Filter,
    Join,
    Limit,
    LocalDriver,
    Node,
    Project,
    Scan,
    Sort,
    Union,
    decrypt_table,
)

__all__ = ["Aggregate", "Distinct", "EncTable", "Filter", "Join", "Limit", "LocalDriver",
           "Node", "Project", "Scan", "Sort", "Union", "decrypt_table"]
