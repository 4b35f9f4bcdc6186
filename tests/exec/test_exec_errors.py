"""RUN_OPERATOR refusals: out of heap, tampered and foreign blocks (naming
the input), duplicate primary keys, malformed requests."""

from __future__ import annotations

import os

import pytest

from exec_helpers import SCHEMA_A, SCHEMA_B, table_a, table_b
from teespark.errors import (BlockAuthenticationError, BlockSequenceError, EnclaveBadParametersError,
                             EnclaveError, EnclaveOutOfMemoryError)
from teespark.exec import Filter, Join, LocalDriver, Scan, Sort
from teespark.exec._common import EncTable
from teespark.ir import col
from teespark.tee import TeesparkTA
from teespark.tee.teespark_ta import PrimaryKeyDuplicateError

KEY_A, KEY_B = bytes(range(32)), bytes(range(32, 64))


def test_out_of_memory_is_clean() -> None:
    os.environ["TEESPARK_TA_DATA_SIZE"] = str(1 << 20)
    try:
        with TeesparkTA() as small:
            drv = LocalDriver(small, rows_per_block=1024, large="never")
            t = drv.load(table_a(30000, 1, nulls=0.0), SCHEMA_A, slot=0, key=KEY_A)
            with pytest.raises(EnclaveOutOfMemoryError):
                drv.run(Sort(Scan(t), ["k"]))
            # the session is still usable
            small_t = drv.load(table_a(10, 2), SCHEMA_A, slot=1, key=KEY_B)
            assert len(drv.collect(Sort(Scan(small_t), ["id"]))) == 10
    finally:
        del os.environ["TEESPARK_TA_DATA_SIZE"]


def test_tampered_block_names_input(ta) -> None:
    drv = LocalDriver(ta, rows_per_block=16)
    a = drv.load(table_a(40, 3), SCHEMA_A, slot=0, key=KEY_A, rows_per_block=16)
    b = drv.load(table_b(40, 4), SCHEMA_B, slot=1, key=KEY_B, rows_per_block=16)
    blocks = bytearray(b.blocks)
    blocks[-5] ^= 1   # last block's tag
    bad = EncTable(b.schema, b.descriptor, bytes(blocks), b.slot, b.rows)
    with pytest.raises(BlockAuthenticationError) as ei:
        drv.run(Join(Scan(a), Scan(bad), "inner", [("k", "rk")]))
    assert ei.value.block_index == 2 and ei.value.input_index == 1


def test_schema_mismatch_and_pk_duplicate(ta) -> None:
    drv = LocalDriver(ta, rows_per_block=16)
    a = drv.load(table_a(20, 5), SCHEMA_A, slot=0, key=KEY_A)
    lie = EncTable(SCHEMA_B, a.descriptor, a.blocks, a.slot, a.rows)
    with pytest.raises(BlockSequenceError):   # the registered schema is another
        drv.run(Filter(Scan(lie), col("rid") > 0))
    b = drv.load(table_b(20, 6, keys=3, nulls=0.0), SCHEMA_B, slot=1, key=KEY_B)
    with pytest.raises(PrimaryKeyDuplicateError):
        LocalDriver(ta, mode="oblivious").run(
            Join(Scan(a), Scan(b), "inner", [("k", "rk")], pk_side="right"))


def test_malformed_request(ta) -> None:
    drv = LocalDriver(ta)
    a = drv.load(table_a(10, 7), SCHEMA_A, slot=0, key=KEY_A)
    from teespark.tee.operators import OpRequest, pack_op_request
    from teespark.tee import constants as c
    req = OpRequest(op=c.TS_OP_FILTER, mode=1, in_slots=[0],
                    in_schema_hashes=[SCHEMA_A.hash()], out_key_slot=6, rows_per_block=8,
                    out_row_size=SCHEMA_A.row_size, out_table_id=bytes(16),
                    out_table_version=1, out_schema_hash=SCHEMA_A.hash())
    with pytest.raises(EnclaveBadParametersError):   # FILTER without a predicate
        ta.run_operator([a.blocks], pack_op_request(req))
    data = bytearray(pack_op_request(req))
    with pytest.raises(EnclaveError):                # body_size disagrees
        ta.run_operator([a.blocks], bytes(data) + b"\0" * 8)
