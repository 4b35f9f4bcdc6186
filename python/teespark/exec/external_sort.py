"""Oblivious sort of a table much larger than the TA heap (external sort).

The host streams the table through the TA in sealed runs (the TA commands
``XSORT_*``; docs/LEAKAGE.md, "External sort"):

1. :func:`plan_external_sort` picks the run geometry from public sizes only:
   ``run_rows`` (a power of two) records per run, ``blocks_per_chunk``
   input blocks per run, so that a merge of two runs fits the TA heap;
2. ``XSORT_CHUNK`` sorts each chunk into a run (padding records sort last);
3. ``XSORT_MERGE_SPLIT`` applies each comparator of
   :func:`merge_schedule`, a block-level bitonic network over the runs whose
   comparators depend only on the run count;
4. ``XSORT_EMIT`` writes the sorted rows (padding dropped) as a new table,
   registered in the session.

The TA checks every step against the same schedule and every run against
its epoch, so a host that deviates gets an error, never a wrong result.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from teespark.tee import SortKey, TeesparkTA, pack_sort_request
from teespark.tee import constants as c
from teespark.tee.descriptor import parse_table_descriptor
from teespark.tee.external_sort_ta import (
    xsort_chunk,
    xsort_emit,
    xsort_merge_split,
    xsort_start,
)
from teespark.tee.params import BytesLike
from teespark.tee.wire import iter_block_headers

__all__ = ["ExternalSortPlan", "SortedTable", "external_sort", "merge_schedule",
           "plan_external_sort"]

#: Share of the TA heap a merge step may use (the rest: session state, GP
#: operation objects, allocator overhead).
HEAP_SHARE = 0.75


def merge_schedule(runs: int) -> Iterator[tuple[int, int]]:
    """The comparators ``(lo, hi)`` of the merge network over ``runs`` runs, in order.

    Batcher's bitonic sorter over the next power of two K >= runs, written
    with ascending comparators only: each merge of size s starts with a flip
    stage (b + t against b + s - 1 - t), then half-cleaners of strides
    s/4 .. 1. Comparators touching a position >= runs are dropped (those
    positions stand for +infinity). The same function as ``xsort_net_next``
    in the TA, which refuses any other order.

    >>> list(merge_schedule(3))
    [(0, 1), (1, 2), (0, 1)]

    Reveals: nothing beyond ``runs``.
    """
    if not isinstance(runs, int) or runs < 1:
        raise ValueError(f"merge_schedule: 'runs' must be an int >= 1, got {runs!r}")
    K = 1
    while K < runs:
        K <<= 1
    size = 2
    while size <= K:
        half = size // 2
        for i in range(K):
            t = i & (size - 1)
            if t < half:
                j = i - t + size - 1 - t
                if j < runs:
                    yield i, j
        stride = half // 2
        while stride >= 1:
            for i in range(K):
                if not i & stride and i + stride < runs:
                    yield i, i + stride
            stride //= 2
        size *= 2


def _key_words(keys: Sequence[SortKey]) -> int:
    words = 0
    for k in keys:
        t = k.type if isinstance(k.type, int) else \
            {"uint": c.TS_KEY_UINT, "int": c.TS_KEY_INT, "float64": c.TS_KEY_FLOAT64,
             "bytes": c.TS_KEY_BYTES}.get(k.type, 0)
        words += -(-k.width // 8) if t == c.TS_KEY_BYTES else 1
    return words


@dataclass(frozen=True)
class ExternalSortPlan:
    """The public geometry of one external sort job."""

    blocks_per_chunk: int
    run_rows: int
    runs: int
    rec_size: int
    recs_per_block: int
    run_size: int          #: bytes of one sealed run

    @property
    def steps(self) -> int:
        """MERGE_SPLIT calls the job makes."""
        return sum(1 for _ in merge_schedule(self.runs))


def _geometry(blocks_per_chunk: int, run_rows: int, block_count: int,
              rec_size: int) -> ExternalSortPlan:
    runs = -(-block_count // blocks_per_chunk)
    per_block = min(run_rows, c.TS_XSORT_RUN_BLOCK_BYTES // rec_size)
    full, last = divmod(run_rows, per_block)
    run_size = full * c.TS_SEALED_BLOCK_SIZE(per_block * rec_size)
    if last:
        run_size += c.TS_SEALED_BLOCK_SIZE(last * rec_size)
    return ExternalSortPlan(blocks_per_chunk, run_rows, runs, rec_size, per_block, run_size)


def plan_external_sort(*, row_size: int, rows_per_block: int, block_count: int,
                       keys: Sequence[SortKey], heap_bytes: int,
                       out_rows_per_block: int | None = None,
                       run_rows: int | None = None) -> ExternalSortPlan:
    """Choose the run geometry for a table of the given public shape.

    Args:
        row_size, rows_per_block, block_count: the input table's shape.
        keys: the sort keys (their widths set the record size).
        heap_bytes: the TA heap (``TeesparkTA.get_info().heap_bytes``).
        out_rows_per_block: output block capacity (default rows_per_block).
        run_rows: force the records per run (a power of two); default the
            largest that fits ``HEAP_SHARE`` of the heap.

    Returns:
        An :class:`ExternalSortPlan`.

    Raises:
        ValueError: an input block does not fit the heap next to a run, or
            the table needs more than ``TS_XSORT_MAX_RUNS`` runs.

    Reveals: nothing (all inputs are public).
    """
    rec_size = 8 * (1 + _key_words(keys)) + (row_size + 7) // 8 * 8
    in_block = rows_per_block * row_size
    out_block = (out_rows_per_block or rows_per_block) * row_size
    budget = int(heap_bytes * HEAP_SHARE)
    if run_rows is None:
        r = 1
        while (2 * (2 * r) * rec_size <= budget and
               2 * r * rec_size + in_block <= budget):
            r *= 2
        # No larger than the whole table needs.
        need = 1
        while need < rows_per_block * block_count:
            need *= 2
        r = min(r, need)
        if r < rows_per_block or 2 * r * rec_size > budget or \
                r * rec_size + in_block > budget or \
                min(r, c.TS_XSORT_RUN_BLOCK_BYTES // rec_size) * rec_size + out_block > budget:
            raise ValueError(
                f"plan_external_sort: input blocks of {rows_per_block} rows of {row_size} "
                f"bytes do not fit a {heap_bytes}-byte TA heap next to a run; re-block the "
                "table with fewer rows per block")
    else:
        r = run_rows
        if r < 1 or r & (r - 1) or r < rows_per_block:
            raise ValueError(f"plan_external_sort: 'run_rows' must be a power of two >= "
                             f"rows_per_block ({rows_per_block}), got {run_rows!r}")
    plan = _geometry(max(1, r // rows_per_block), r, block_count, rec_size)
    if plan.runs > c.TS_XSORT_MAX_RUNS:
        raise ValueError(f"plan_external_sort: {plan.runs} runs exceed TS_XSORT_MAX_RUNS "
                         f"({c.TS_XSORT_MAX_RUNS}); use a larger TA heap")
    return plan


@dataclass(frozen=True)
class SortedTable:
    """The output of :func:`external_sort` (registered in the TA session)."""

    descriptor: bytes
    blocks: bytes
    rows: int
    block_count: int
    plan: ExternalSortPlan


def external_sort(ta: TeesparkTA, table_blocks: BytesLike, descriptor: bytes,
                  keys: Sequence[SortKey], *, in_key_slot: int, out_key_slot: int,
                  out_table_id: bytes, out_table_version: int,
                  rows_per_block: int | None = None,
                  run_rows: int | None = None) -> SortedTable:
    """Sort a registered table of any size obliviously, run by run.

    Args:
        ta: an open TA session in which the table is registered with
            ``in_key_slot`` (``ta.register_table(descriptor, in_key_slot)``).
        table_blocks: the table's complete sealed block sequence.
        descriptor: its 136-byte descriptor (public shape and schema hash).
        keys: sort keys, most significant first.
        in_key_slot, out_key_slot: key slots opening the input and sealing
            the output.
        out_table_id, out_table_version: the output table's id and version.
        rows_per_block: output block capacity (default the input's).
        run_rows: force records per run (testing); default from the heap.

    Returns:
        A :class:`SortedTable`; the table is registered in ``ta`` with
        ``out_key_slot``.

    Example:
        >>> out = external_sort(ta, blocks, desc, [SortKey("int", 0, 8)],
        ...                     in_key_slot=0, out_key_slot=1,
        ...                     out_table_id=b"sorted-table-id!",
        ...                     out_table_version=1)  # doctest: +SKIP

    Reveals: the table's shape, the key column list, the run geometry, and
        the sequence of TA calls (a function of these public sizes only);
        never which row went where.
    """
    d = parse_table_descriptor(descriptor)
    out_rpb = rows_per_block if rows_per_block is not None else d.rows_per_block
    plan = plan_external_sort(row_size=d.row_size, rows_per_block=d.rows_per_block,
                              block_count=d.block_count, keys=keys,
                              heap_bytes=ta.get_info().heap_bytes,
                              out_rows_per_block=out_rpb, run_rows=run_rows)
    request = pack_sort_request(keys=keys, rows_per_block=out_rpb, in_key_slot=in_key_slot,
                                out_key_slot=out_key_slot, out_table_id=out_table_id,
                                out_table_version=out_table_version,
                                schema_hash=d.schema_hash)
    runs, steps = xsort_start(ta, request, d.table_id,
                              blocks_per_chunk=plan.blocks_per_chunk,
                              run_rows=plan.run_rows)
    if runs != plan.runs:
        raise RuntimeError(f"external_sort: the TA planned {runs} runs, the host "
                           f"{plan.runs}: the TA and this teespark disagree on the ABI")

    view = memoryview(table_blocks).cast("B")
    offsets = [off for off, _h in iter_block_headers(view)] + [len(view)]
    if len(offsets) - 1 != d.block_count:
        raise ValueError(f"external_sort: 'table_blocks' holds {len(offsets) - 1} blocks, "
                         f"the descriptor says {d.block_count}")
    cpb = plan.blocks_per_chunk
    sealed: list[bytes] = []
    for j in range(runs):
        first, end = j * cpb, min((j + 1) * cpb, d.block_count)
        run, _real = xsort_chunk(ta, j, [view[offsets[first]:offsets[end]]], plan.run_size)
        sealed.append(run)
    for lo, hi in merge_schedule(runs):
        sealed[lo], sealed[hi], _left = xsort_merge_split(ta, lo, hi, sealed[lo], sealed[hi])
    n_out = max(1, -(-d.row_count // out_rpb))
    out_size = (c.TS_TABLE_DESCRIPTOR_SIZE + n_out * (c.TS_BLOCK_HEADER_SIZE + c.TS_TAG_SIZE)
                + d.row_count * d.row_size)
    desc, blocks, rows, count = xsort_emit(ta, sealed, out_size)
    del steps
    return SortedTable(desc, blocks, rows, count, plan)
