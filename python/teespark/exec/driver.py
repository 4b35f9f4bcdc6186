"""A single-node driver: operator trees run through RUN_OPERATOR, in-heap.

Build a tree of nodes and run it::

    drv = LocalDriver(ta, mode="oblivious", query_slot=6, result_slot=7,
                      result_key=k)
    t = drv.load(df, schema, slot=0, key=data_key)   # encrypt + register
    plan = Limit(Sort(Aggregate(Join(Filter(Scan(t), col("x") > 3), Scan(u),
                                     "inner", [("id", "uid")]),
                                ["g"], [("n", "count_star", None)]),
                      [("n", False)]), 10)
    df = drv.collect(plan)        # decrypted pandas DataFrame

Intermediate tables are sealed under the query slot (a NEW_QUERY_KEY key
that never leaves the TA); the node that :meth:`LocalDriver.collect` runs
last writes under ``result_slot``, whose development key the caller knows,
so the result can be opened here (tests; production exports results with
EXPORT_RESULT). Any node may carry ``pad_rows``: its output then has
exactly that many rows, dummies flagged by the trailing is_real byte
(docs/FORMAT.md appendix A), and the driver drops them when it decodes.

Larger than the TA heap. Sort (without a limit), Aggregate (with group keys)
and PK-FK inner Join switch by themselves to the streaming pipelines of
:mod:`teespark.exec.external_sort` and :mod:`teespark.exec.streaming` when
their input does not fit the TA heap (see :meth:`LocalDriver.run` for the
rule, which uses public sizes only). The result has the same schema, rows,
format and revealed row count as the in-heap operator's.

Reveals: per node the TA call, its request and input/output block counts
and sizes (docs/LEAKAGE.md, "TA operator commands"); on the larger-than-heap
path the pipeline's calls and sizes ("External sort", "Streaming aggregate
and join"), all functions of public sizes, and the same result size m.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from teespark.errors import EnclaveError, EnclaveOutOfMemoryError, TableNotRegisteredError
from teespark.exec._common import EncTable
from teespark.exec.aggregate import plan_aggregate
from teespark.exec.filter_project import (
    compile_predicate,
    projection,
)
from teespark.exec.join import plan_join
from teespark.exec.setops import check_union
from teespark.exec.sort_limit import distinct_keys, sort_keys
from teespark.exec import large_operators as L
from teespark.exec.large_ops import Final, LargePlan, Part
from teespark.exec.large_padded import pad_public
from teespark.format.row_codec import decode_rows, encode_rows
from teespark.format.schema import Schema
from teespark.ir import Expr
from teespark.tee import constants as c
from teespark.tee.descriptor import build_table_descriptor
from teespark.tee.operators import OpRequest, pack_op_request, padded_schema_hash
from teespark.tee.wire import BlockHeader, iter_block_headers

__all__ = ["Aggregate", "Distinct", "Filter", "HeapTooSmallError", "Join", "Limit",
           "LocalDriver", "Node", "Project", "Scan", "Sort", "Union"]


class HeapTooSmallError(EnclaveOutOfMemoryError):
    """An operator's input does not fit the TA heap and the operator (as
    asked) has no larger-than-heap path. The message names the operator, why
    and what to do."""


# --------------------------------------------------------------------------
# Plan nodes
# --------------------------------------------------------------------------


@dataclass
class Node:
    pad_rows: int = field(default=0, kw_only=True)


@dataclass
class Scan(Node):
    table: EncTable


@dataclass
class Filter(Node):
    child: Node
    predicate: Expr


@dataclass
class Project(Node):
    child: Node
    exprs: Sequence[tuple[str, Expr]]


@dataclass
class Sort(Node):
    child: Node
    keys: Sequence[Any]          # name or (name, ascending[, nulls_first])
    limit: int = 0               # > 0: top-k


@dataclass
class Limit(Node):
    child: Node
    n: int


@dataclass
class Aggregate(Node):
    child: Node
    groups: Sequence[str]
    aggs: Sequence[tuple[str, str, str | None]]   # (name, fn, column)


@dataclass
class Join(Node):
    left: Node
    right: Node
    kind: str                    # inner, left_outer, left_semi, left_anti
    on: Sequence[tuple[str, str]]
    residual: Expr | None = None
    pk_side: str | None = None   # "left" / "right": PK-FK join (oblivious)


@dataclass
class Union(Node):
    left: Node
    right: Node


@dataclass
class Distinct(Node):
    child: Node
    columns: Sequence[str] | None = None


# --------------------------------------------------------------------------
# Sealing base tables (the owner's side, for tests and the demo)
# --------------------------------------------------------------------------


def seal_rows(key: bytes, rows: bytes, row_size: int, rows_per_block: int, *,
              table_id: bytes, version: int, schema_hash: bytes) -> bytes:
    """Seal rows into a table's block sequence (one empty block if no rows)."""
    n = len(rows) // row_size
    starts = list(range(0, n, rows_per_block)) or [0]
    out = []
    for i, s in enumerate(starts):
        chunk = rows[s * row_size:min(n, s + rows_per_block) * row_size]
        nonce = os.urandom(c.TS_NONCE_SIZE)
        hdr = BlockHeader(c.TS_BLOCK_MAGIC, c.TS_FORMAT_VERSION, c.TS_BLOCK_HEADER_SIZE,
                          table_id, version, i, len(starts), len(chunk) // row_size,
                          row_size, schema_hash, nonce, len(chunk)).pack()
        out.append(hdr + AESGCM(key).encrypt(nonce, chunk, hdr))
    return b"".join(out)


def open_rows(key: bytes, blocks: bytes) -> bytes:
    """Decrypt a block sequence's rows (headers authenticated as AAD)."""
    out, end = [], 0
    for off, h in iter_block_headers(blocks):
        end = off + c.TS_SEALED_BLOCK_SIZE(h.ciphertext_size)
        hdr = blocks[off:off + c.TS_BLOCK_HEADER_SIZE]
        out.append(AESGCM(key).decrypt(h.nonce, blocks[off + c.TS_BLOCK_HEADER_SIZE:end], hdr))
    if end != len(blocks):
        raise ValueError("trailing bytes after the last block")
    return b"".join(out)


# --------------------------------------------------------------------------
# The driver
# --------------------------------------------------------------------------

_MODES = {"oblivious": c.TS_OPMODE_OBLIVIOUS, "encrypted": c.TS_OPMODE_ENCRYPTED}


class LocalDriver:
    """Runs plan trees on one TA session.

    Args:
        ta: a :class:`teespark.tee.TeesparkTA`.
        mode: ``"oblivious"`` or ``"encrypted"`` (fast, NOT oblivious).
        query_slot: slot for intermediates (a fresh NEW_QUERY_KEY here).
        result_slot, result_key: slot and development key of results the
            caller may read (:meth:`collect` installs the key).
        rows_per_block: output block capacity.
        large: ``"auto"`` (default): Sort, Aggregate and PK-FK Join take
            the larger-than-heap path when the input does not fit the TA
            heap (:meth:`run`); ``"never"``: in-heap only (running out of
            heap raises :class:`~teespark.errors.EnclaveOutOfMemoryError`);
            ``"always"``: those operators take it whenever supported
            (testing).
    """

    def __init__(self, ta: Any, *, mode: str = "oblivious", query_slot: int = 6,
                 result_slot: int = 7, result_key: bytes | None = None,
                 rows_per_block: int = 256, large: str = "auto") -> None:
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {sorted(_MODES)}")
        if large not in ("auto", "never", "always"):
            raise ValueError("large must be 'auto', 'never' or 'always'")
        self.large = large
        self._heap_bytes: int | None = None
        #: Per run(): which path each operator node took, in
        #: execution order ("heap" or "large"); public, for tests and logs.
        self.paths: list[tuple[str, str]] = []
        self.ta = ta
        self.mode = _MODES[mode]
        self.query_slot = query_slot
        self.result_slot = result_slot
        self.result_key = result_key if result_key is not None else AESGCM.generate_key(256)
        self.rows_per_block = rows_per_block
        #: Rows per block of the larger-than-heap paths' intermediate tables
        #: (None: about 512 KiB each); small values are for tests.
        self.large_rows_per_block: int | None = None
        self._ids = itertools.count(1)
        self._known: dict[bytes, tuple[bytes, int]] = {}
        ta.new_query_key(query_slot)
        ta.install_dev_key(result_slot, self.result_key)

    # -- tables ---------------------------------------------------------------

    def _table_id(self) -> bytes:
        return next(self._ids).to_bytes(16, "little")

    def load(self, data: Any, schema: Schema, *, slot: int, key: bytes,
             rows_per_block: int | None = None) -> EncTable:
        """Encrypt a DataFrame / Arrow table as a base table and register it
        (development key installed in ``slot``)."""
        rpb = rows_per_block or self.rows_per_block
        rows = encode_rows(data, schema).tobytes()
        n = len(rows) // schema.row_size
        tid, version = self._table_id(), 1
        self.ta.install_dev_key(slot, key)
        blocks = seal_rows(key, rows, schema.row_size, rpb, table_id=tid, version=version,
                           schema_hash=schema.hash())
        desc = build_table_descriptor(key, table_id=tid, table_version=version, row_count=n,
                                      row_size=schema.row_size, rows_per_block=rpb,
                                      schema_hash=schema.hash())
        self.ta.register_table(desc, slot)
        self._known[tid] = (desc, slot)
        return EncTable(schema, desc, blocks, slot, n, False, key)

    # -- running --------------------------------------------------------------

    def run(self, node: Node, *, out_slot: int | None = None) -> EncTable:
        """Run ``node`` (and its children); the result stays encrypted.

        Every node chooses between the in-heap operator (one RUN_OPERATOR
        call) and the larger-than-heap path (``large="auto"``; ``"never"``
        and ``"always"`` force one):

        1. if the input's plaintext bytes (row count x row size, summed over
           the inputs, twice for a Sort, which holds input and output) exceed
           the TA heap (``get_info().heap_bytes``), the in-heap operator
           cannot fit: take the larger-than-heap path at once;
        2. else try RUN_OPERATOR and, on
           :class:`~teespark.errors.EnclaveOutOfMemoryError`, take the
           larger-than-heap path.

        The TA sizes every allocation from public values (docs/LEAKAGE.md),
        so both the estimate and whether the TA ran out of heap are
        functions of public sizes (row counts and sizes, the request, the
        heap size): the choice reveals nothing new. (With the fallback, the
        trace shows the failed RUN_OPERATOR call; it is the same for every
        input of that shape.)

        The larger-than-heap paths (:mod:`teespark.exec.large_operators`,
        always oblivious, in either mode) are pipelines of STREAM passes
        and external sorts holding one block or two runs in the TA heap at
        a time; they give the in-heap operator's output layout and reveal
        the same output size (docs/LEAKAGE.md, "Larger than the heap"),
        padded outputs included (:mod:`teespark.exec.large_padded`).

        Not available larger than the heap: padded inputs, ``pad_rows`` on
        many-to-many and on left outer joins without unique right keys,
        COUNT(DISTINCT) of more than one column, residuals on non-inner
        joins, more than 8 streamed key columns. Such a node that does not
        fit raises :class:`HeapTooSmallError` naming the operator, the
        reason and what to do.
        """
        if isinstance(node, Scan):
            return node.table
        slot = self.query_slot if out_slot is None else out_slot
        if isinstance(node, (Join, Union)):
            inputs = [self.run(node.left), self.run(node.right)]
        else:
            inputs = [self.run(node.child)]  # type: ignore[attr-defined]
        req, out_schema = self._request(node, inputs, slot)
        if self.large == "never":
            return self._call(req, inputs, out_schema, slot, node.pad_rows)
        return self._heap_or_large(node, req, inputs, out_schema, slot)

    def collect(self, node: Node) -> pd.DataFrame:
        """Run ``node`` with its output under the result slot and decrypt it
        (dummy rows of a padded result dropped)."""
        if isinstance(node, Scan):
            t = node.table
            assert t.key is not None
        else:
            t = self.run(node, out_slot=self.result_slot)
            t.key = self.result_key
        return decrypt_table(t)

    def _request(self, node: Node, inputs: list[EncTable], slot: int
                 ) -> tuple[OpRequest, Schema]:
        s0 = inputs[0].schema
        kw: dict[str, Any] = {}
        if isinstance(node, Filter):
            op, out = c.TS_OP_FILTER, s0
            kw["predicate"] = compile_predicate(node.predicate, s0)
        elif isinstance(node, Project):
            op = c.TS_OP_PROJECT
            kw["projections"], out = projection(node.exprs, s0)
        elif isinstance(node, Sort):
            op, out = c.TS_OP_SORT, s0
            kw["keys"], kw["limit"] = sort_keys(s0, node.keys), node.limit
        elif isinstance(node, Limit):
            op, out, kw["limit"] = c.TS_OP_LIMIT, s0, node.n
            if node.n <= 0:
                raise ValueError("LIMIT needs n >= 1")
        elif isinstance(node, Distinct):
            op, out = c.TS_OP_DISTINCT, s0
            kw["keys"] = distinct_keys(s0, node.columns)
        elif isinstance(node, Aggregate):
            op = c.TS_OP_AGGREGATE
            kw["keys"], kw["aggs"], kw["projections"], out = plan_aggregate(
                s0, node.groups, node.aggs)
        elif isinstance(node, Join):
            op = c.TS_OP_JOIN
            kind, lk, rk, pred, projs, out, rnb = plan_join(
                s0, inputs[1].schema, node.kind, node.on, node.residual)
            pk = {None: c.TS_PK_NONE, "left": c.TS_PK_LEFT, "right": c.TS_PK_RIGHT}[node.pk_side]
            kw.update(keys=lk, right_keys=rk, predicate=pred, projections=projs,
                      join_kind=kind, pk_side=pk, right_null_bits=rnb)
        elif isinstance(node, Union):
            op, out = c.TS_OP_UNION_ALL, check_union(s0, inputs[1].schema)
        else:
            raise TypeError(f"unknown plan node {type(node).__name__}")
        req = OpRequest(op=op, mode=self.mode, in_slots=[t.slot for t in inputs],
                        in_schema_hashes=[t.schema.hash() for t in inputs],
                        in_padded=[t.padded for t in inputs], out_key_slot=slot,
                        rows_per_block=self.rows_per_block, out_row_size=out.row_size,
                        out_table_id=self._table_id(), out_table_version=1,
                        out_schema_hash=out.hash(), pad_rows=node.pad_rows, **kw)
        return req, out

    # -- larger than the heap ---------------------------------------------------

    def _heap(self) -> int:
        if self._heap_bytes is None:
            self._heap_bytes = int(self.ta.get_info().heap_bytes)
        return self._heap_bytes

    @staticmethod
    def _plain_bytes(t: EncTable) -> int:
        return t.rows * (t.schema.row_size + (1 if t.padded else 0))

    def _heap_or_large(self, node: Node, req: OpRequest, inputs: list[EncTable],
                       out_schema: Schema, slot: int) -> EncTable:
        name = type(node).__name__
        why = self._no_large_path(node, inputs)
        need = sum(self._plain_bytes(t) for t in inputs)
        if isinstance(node, Sort):
            need *= 2
        if self.large == "always" and why is None:
            return self._large(node, req, inputs, out_schema, slot)
        if need <= self._heap():
            try:
                out = self._call(req, inputs, out_schema, slot, node.pad_rows)
                self.paths.append((name, "heap"))
                return out
            except EnclaveOutOfMemoryError as e:
                if why is not None:
                    raise self._too_small(name, inputs, why) from e
        elif why is not None:
            raise self._too_small(name, inputs, why)
        return self._large(node, req, inputs, out_schema, slot)

    def _too_small(self, name: str, inputs: list[EncTable], why: str) -> HeapTooSmallError:
        size = sum(self._plain_bytes(t) for t in inputs)
        return HeapTooSmallError(
            f"{name}: the input ({size} bytes of rows) does not fit the {self._heap()}-byte "
            f"TA heap and {name} has no larger-than-heap path here: {why}. Raise the TA heap "
            "(TA_DATA_SIZE; TEESPARK_TA_DATA_SIZE on the simulator) or reshape the query "
            "(filter or project first, see LocalDriver.run)", command="RUN_OPERATOR")

    @staticmethod
    def _no_large_path(node: Node, inputs: list[EncTable]) -> str | None:
        """Why ``node`` cannot take the larger-than-heap path (None: it can)."""
        if any(t.padded for t in inputs):
            return "its input is a padded table (drop pad_rows on the child node)"
        s0 = inputs[0].schema

        def too_many(names: Sequence[str], extra: int = 0) -> str | None:
            n = sum(2 if s0.column(x).nullable else 1 for x in names) + extra
            if n > c.TS_STREAM_MAX_KEYS:
                return (f"{len(names)} key columns need {n} streamed keys (a nullable "
                        f"key counts twice), more than {c.TS_STREAM_MAX_KEYS}")
            return None

        if isinstance(node, Sort):
            return too_many([k if isinstance(k, str) else k[0] for k in node.keys])
        if isinstance(node, Distinct):
            return too_many(list(node.columns) if node.columns else s0.names)
        if isinstance(node, Aggregate):
            if not node.groups and inputs[0].rows == 0:
                return "a global aggregate of an empty input (one row of NULLs) is in-heap"
            dcols = {cn for _n, fn, cn in node.aggs if fn == "count_distinct"}
            if len(dcols) > 1:
                return ("COUNT(DISTINCT) of more than one column (" + ", ".join(
                    sorted(str(x) for x in dcols)) + ") is in-heap only")
            return too_many(list(node.groups), len(dcols))
        if isinstance(node, Join):
            if node.residual is not None and node.kind != "inner":
                return (f"a residual condition on a {node.kind} join is in-heap only "
                        "(it is part of the join condition there)")
            if node.pad_rows and node.kind == "inner" and node.pk_side is None:
                return ("pad_rows on a many-to-many join is in-heap only (the expansion "
                        "reveals the join size; set pk_side if one side's keys are unique)")
            if node.pad_rows and node.kind in ("left_outer", "left") and \
                    node.pk_side != "right":
                return "pad_rows on this left outer join is in-heap only (use pk_side='right')"
            bad = [a for a, _b in node.on if s0.column(a).nullable] + \
                [b for _a, b in node.on if inputs[1].schema.column(b).nullable]
            if len(node.on) * (2 if bad else 1) > c.TS_STREAM_MAX_COPIES:
                return "too many join key columns (at most 8, or 4 when one is nullable)"
            return None
        return None

    def _retry(self, inputs: list[EncTable], fn: Any) -> Any:
        """Run ``fn()``; on an evicted input register the inputs once and retry."""
        for attempt in range(2):
            try:
                return fn()
            except TableNotRegisteredError:
                if attempt:
                    raise
                for t in inputs:
                    self.ta.register_table(t.descriptor, t.slot)
        raise AssertionError("unreachable")

    def _large(self, node: Node, req: OpRequest, inputs: list[EncTable],
               out_schema: Schema, slot: int) -> EncTable:
        self.paths.append((type(node).__name__, "large"))
        try:
            return self._large_run(node, req, inputs, out_schema, slot)
        except EnclaveError as e:
            # The TA names its command (STREAM, XSORT_*); say which plan node.
            e.add_note(f"while running the {type(node).__name__} node larger than the TA "
                       f"heap (inputs: {', '.join(str(t.rows) for t in inputs)} rows)")
            raise

    def _large_run(self, node: Node, req: OpRequest, inputs: list[EncTable],
                   out_schema: Schema, slot: int) -> EncTable:
        lp = LargePlan(self.ta, work_slot=self.query_slot, job_id=self._table_id(),
                       rows_per_block=self.large_rows_per_block)
        pad = node.pad_rows
        final = Final(slot, req.out_table_id, req.out_table_version,
                      padded_hash(out_schema) if pad else out_schema.hash(),
                      self.rows_per_block)
        public = None if pad else final     # padded: pad_public's final step
        parts = [Part(t.descriptor, t.blocks, t.rows, t.schema.row_size, t.slot)
                 for t in inputs]
        s0 = inputs[0].schema
        p0 = parts[0]
        if isinstance(node, Filter):
            assert req.predicate is not None
            r = L.filter_rows(lp, p0, req.predicate, final, pad=pad, layout=s0,
                              out=out_schema)
        elif isinstance(node, Project):
            r = L.project(lp, p0, req.projections, out_schema.row_size, public)
        elif isinstance(node, Limit):
            r = L.limit(lp, p0, node.n, public)
        elif isinstance(node, Union):
            r = L.union_all(lp, p0, parts[1], public)
        elif isinstance(node, Sort):
            names = [k if isinstance(k, str) else k[0] for k in node.keys]
            r = L.sort(lp, p0, s0, list(zip(names, req.keys)), node.limit, public)
        elif isinstance(node, Distinct):
            names = list(node.columns) if node.columns else s0.names
            r = L.distinct(lp, p0, s0, list(zip(names, req.keys)), final, pad=pad)
        elif isinstance(node, Aggregate):
            r = L.aggregate(lp, p0, s0, node.groups, node.aggs, req.keys, final,
                            out_schema.row_size, pad=pad)
        else:
            assert isinstance(node, Join)
            left = L.JoinSide(p0, s0, [(a, k) for (a, _b), k in zip(node.on, req.keys)])
            right = L.JoinSide(parts[1], inputs[1].schema,
                               [(b, k) for (_a, b), k in zip(node.on, req.right_keys)])
            r = L.join(lp, left, right, node.kind, node.pk_side, node.residual, out_schema,
                       final, pad=pad)
        if pad and isinstance(node, (Project, Limit, Union, Sort)):
            r = pad_public(lp, r, pad, out_schema, final)
        return EncTable(out_schema, r.descriptor, r.blocks, slot, r.rows, bool(pad))

    def _estimate(self, req: OpRequest, inputs: list[EncTable]) -> int:
        """Output bytes from public sizes (exact when padded)."""
        prs = req.out_row_size + (1 if req.pad_rows else 0)
        if req.pad_rows:
            rows = req.pad_rows
        elif req.op == c.TS_OP_LIMIT or (req.op == c.TS_OP_SORT and req.limit):
            rows = min(req.limit, inputs[0].rows)
        else:
            rows = sum(t.rows for t in inputs) + 1
        blocks = max(1, -(-rows // req.rows_per_block))
        return c.TS_TABLE_DESCRIPTOR_SIZE + blocks * (c.TS_BLOCK_HEADER_SIZE +
                                                      c.TS_TAG_SIZE) + rows * prs

    def _call(self, req: OpRequest, inputs: list[EncTable], out_schema: Schema,
              slot: int, pad_rows: int) -> EncTable:
        data = pack_op_request(req, len(inputs[0].blocks) if len(inputs) == 2 else 0)
        est = self._estimate(req, inputs)
        for attempt in range(2):
            try:
                desc, blocks, rows, _nb = self.ta.run_operator(
                    [t.blocks for t in inputs], data, estimate=est)
                break
            except TableNotRegisteredError:
                # Evicted (LRU) or lost: register the inputs again.
                if attempt:
                    raise
                for t in inputs:
                    self.ta.register_table(t.descriptor, t.slot)
        return EncTable(out_schema, desc, blocks, slot, rows, bool(pad_rows))


def decrypt_table(t: EncTable) -> pd.DataFrame:
    """Open a table whose key is known and decode it; a padded table's
    dummy rows (is_real byte 0) are dropped."""
    assert t.key is not None
    raw = open_rows(t.key, t.blocks)
    rs = t.schema.row_size
    if t.padded:
        arr = np.frombuffer(raw, dtype=np.uint8).reshape(-1, rs + 1)
        real = arr[:, rs]
        if not np.all((real == 0) | (real == 1)):
            raise ValueError("padded table: is_real byte other than 0/1")
        if np.any(arr[real == 0]):
            raise ValueError("padded table: a dummy row is not all zero")
        raw = np.ascontiguousarray(arr[real == 1, :rs]).tobytes()
    return decode_rows(raw, t.schema).to_pandas()


def padded_hash(schema: Schema) -> bytes:
    """The schema hash a padded table of ``schema`` carries."""
    return padded_schema_hash(schema.hash())
