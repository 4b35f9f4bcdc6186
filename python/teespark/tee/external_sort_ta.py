"""The external sort commands of the teespark TA (``XSORT_*``, ids 20..23).

One function per command, each taking a :class:`~teespark.tee.TeesparkTA`;
:func:`teespark.exec.external_sort.external_sort` drives a whole job with
them. ``teespark_ta.h`` ("External sort") documents the parameters and
docs/LEAKAGE.md ("External sort") what the host learns.

Bulk data goes through shared memory regions kept per TA object (grown on
demand), so a merge step copies each run once in and once out.

Errors are those of :class:`~teespark.tee.TeesparkTA`: a stale, swapped,
replayed or truncated run raises :class:`~teespark.errors.BlockSequenceError`
(``block_index`` = the block within its run), a modified one
:class:`~teespark.errors.BlockAuthenticationError`; a step off the schedule
or in the wrong phase raises :class:`~teespark.errors.EnclaveError` with
``code`` = ``TEEC_ERROR_BAD_STATE``.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

from teespark.tee import constants as c
from teespark.tee.params import BytesLike, InBuffer, Param, Value, byte_view
from teespark.tee.shared_memory import SharedMemory, SharedMemoryRef
from teespark.tee.teespark_ta import TeesparkTA

__all__ = ["xsort_chunk", "xsort_emit", "xsort_merge_split", "xsort_start"]

# Shared memory per TA object and role ("in", "out").
_SCRATCH: weakref.WeakKeyDictionary[TeesparkTA, dict[str, SharedMemory]] = \
    weakref.WeakKeyDictionary()


def _region(ta: TeesparkTA, role: str, n: int) -> SharedMemory:
    regions = _SCRATCH.setdefault(ta, {})
    shm = regions.get(role)
    if shm is None or shm.size < n:
        if shm is not None:
            shm.release()
        shm = SharedMemory(max(1 << 20, 1 << max(0, (n - 1).bit_length())),
                           direction="in" if role == "in" else "out")
        regions[role] = shm
    return shm


def _in_parts(ta: TeesparkTA, parts: Sequence[BytesLike], where: str) -> SharedMemoryRef:
    """Copy parts back to back into the input region; a ref to all of them."""
    views = [byte_view(p, writable=False, where=where) for p in parts]
    total = sum(int(v.nbytes) for v in views)
    shm = _region(ta, "in", max(1, total))
    off = 0
    for v in views:
        shm.write(v, off)
        off += int(v.nbytes)
    return shm.ref(0, max(1, total) if total else 0, direction="in")


def _out(ta: TeesparkTA, n: int) -> SharedMemoryRef:
    return _region(ta, "out", max(1, n)).ref(0, n, direction="out")


def xsort_start(ta: TeesparkTA, request: bytes, table_id: bytes, *,
                blocks_per_chunk: int, run_rows: int) -> tuple[int, int]:
    """Start an external sort job (XSORT_START); discards the session's previous job.

    Args:
        ta: an open TA session in which the input table is registered with
            the request's ``in_key_slot``.
        request: a packed ``struct ts_sort_request``
            (:func:`~teespark.tee.pack_sort_request`); its ``schema_hash`` must
            be the input table's.
        table_id: the input table's 16-byte id.
        blocks_per_chunk: input blocks per run (c >= 1).
        run_rows: records per run, a power of two >= c * the input's
            rows_per_block.

    Returns:
        ``(runs, steps)``: the number of runs and of MERGE_SPLIT steps.

    Raises:
        EnclaveBadParametersError: the TA rejected the request or sizes.
        TableNotRegisteredError: the table is not registered with that slot.
        EnclaveOutOfMemoryError: a merge or chunk would not fit the TA heap.

    Reveals: the request, the table id, c and run_rows.
    """
    if len(request) != c.TS_SORT_REQUEST_SIZE:
        raise ValueError(f"xsort_start: 'request' must be {c.TS_SORT_REQUEST_SIZE} bytes, "
                         f"got {len(request)}")
    if len(table_id) != 16:
        raise ValueError(f"xsort_start: 'table_id' must be 16 bytes, got {len(table_id)}")
    for name, v in (("blocks_per_chunk", blocks_per_chunk), ("run_rows", run_rows)):
        if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= 0xFFFFFFFF:
            raise ValueError(f"xsort_start: {name!r} must be an int in 1..2**32-1, got {v!r}")
    with ta._lock:
        out = Value.output()
        ta._invoke(c.TA_TEESPARK_CMD_XSORT_START,
                   [InBuffer(bytes(request)), InBuffer(bytes(table_id)),
                    Value(blocks_per_chunk, run_rows), out])
        return out.a, out.b


def xsort_chunk(ta: TeesparkTA, index: int, blocks: Sequence[BytesLike],
                run_size: int) -> tuple[bytes, int]:
    """Sort chunk ``index`` of the input into run ``index`` (XSORT_CHUNK).

    Args:
        ta: the session running the job.
        index: the chunk, 0 .. runs-1, in order.
        blocks: the chunk's sealed input blocks (one or more buffers that
            together are blocks index*c .. min((index+1)*c, block_count)-1).
        run_size: bytes of a sealed run (see
            :func:`teespark.exec.external_sort.plan_external_sort`).

    Returns:
        ``(run, real_rows)``: the sealed run and how many input rows it holds.

    Reveals: the chunk index, block headers, the run's size.
    """
    with ta._lock:
        ta.session.ensure_open()
        src = _in_parts(ta, blocks, "xsort_chunk")
        dst = _out(ta, run_size)
        counts = Value.output()
        ta._invoke(c.TA_TEESPARK_CMD_XSORT_CHUNK, [src, dst, Value(index, 0), counts],
                   counts)
        return bytes(dst.data), counts.a


def xsort_merge_split(ta: TeesparkTA, lo: int, hi: int, run_lo: BytesLike,
                      run_hi: BytesLike) -> tuple[bytes, bytes, int]:
    """One comparator of the merge network (XSORT_MERGE_SPLIT).

    Args:
        ta: the session running the job.
        lo, hi: the schedule's next comparator
            (:func:`teespark.exec.external_sort.merge_schedule`).
        run_lo, run_hi: the current sealed runs ``lo`` and ``hi``.

    Returns:
        ``(new_lo, new_hi, steps_left)``: the lower and upper halves of the
        merged records, resealed at the runs' next epochs.

    Reveals: lo, hi (a function of the run count) and the run sizes.
    """
    with ta._lock:
        ta.session.ensure_open()
        src = _in_parts(ta, (run_lo, run_hi), "xsort_merge_split")
        n = src.size
        dst = _out(ta, n)
        counts = Value.output()
        ta._invoke(c.TA_TEESPARK_CMD_XSORT_MERGE_SPLIT, [src, dst, Value(lo, hi), counts],
                   counts)
        data = dst.data
        half = n // 2
        return bytes(data[:half]), bytes(data[half:n]), counts.a


def xsort_emit(ta: TeesparkTA, runs: Sequence[BytesLike],
               out_size: int) -> tuple[bytes, bytes, int, int]:
    """Write the sorted rows as the output table and end the job (XSORT_EMIT).

    Args:
        ta: the session running the job (every comparator done).
        runs: the current sealed runs 0 .. runs-1.
        out_size: bytes of descriptor | sealed output blocks.

    Returns:
        ``(descriptor, blocks, rows, block_count)`` of the output table,
        which is registered in the session with the request's out slot.

    Reveals: the run count and sizes, the output's row and block counts.
    """
    with ta._lock:
        ta.session.ensure_open()
        src = _in_parts(ta, runs, "xsort_emit")
        dst = _out(ta, out_size)
        counts = Value.output()
        params: list[Param | None] = [src, dst, None, counts]
        ta._invoke(c.TA_TEESPARK_CMD_XSORT_EMIT, params, counts)
        data = dst.data
        d = c.TS_TABLE_DESCRIPTOR_SIZE
        return bytes(data[:d]), bytes(data[d:dst.size]), counts.a, counts.b
