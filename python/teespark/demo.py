"""teespark demo: seal a table on the client and sort it obliviously in the TA.

Run with ``make demo`` or ``python -m teespark.demo``. The demo

1. generates a table of accounts (id, balance, branch code) with numpy and
   packs it into fixed-width rows;
2. seals the rows client-side into AES-256-GCM blocks (the data owner's side);
3. opens a session on the teespark TA (in the host TEE simulator), installs a
   development data key, registers the table from its MAC'd descriptor (so
   the TA knows its exact shape and version), and asks the TA to sort all
   rows by (balance descending, id ascending) with a bitonic sorting
   network; the TA reseals the sorted rows with fresh nonces;
4. opens the result on the client and checks it against numpy's sort.

The data key reaches the TA through the development-only INSTALL_DEV_KEY
command here; attested key release (PIN_KBS_KEY, GET_EVIDENCE, IMPORT_KEYS)
replaces it for real data (docs/ATTESTATION.md).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time

import numpy as np

from teespark.crypto.block_seal import BlockHeader, open_block, seal_block, split_blocks
from teespark.tee.descriptor import build_table_descriptor
from teespark.tee.teespark_ta import SortKey, TeesparkTA, pack_sort_request

ROW_DTYPE = np.dtype([("id", "<i8"), ("balance", "<f8"), ("branch", "S8")])
SCHEMA_HASH = hashlib.sha256(b"id:int64,balance:float64,branch:string(8)").digest()


def make_accounts(rows: int, seed: int) -> np.ndarray:
    """A reproducible table of accounts with duplicate balances and ids in random order."""
    rng = np.random.default_rng(seed)
    table = np.zeros(rows, dtype=ROW_DTYPE)
    table["id"] = rng.permutation(rows).astype(np.int64) + 1_000_000
    # Balances rounded to whole currency units so that ties occur.
    table["balance"] = np.round(rng.lognormal(8.0, 1.5, rows) - 500.0)
    branches = np.array([b"LDN-01", b"NYC-02", b"FRA-03", b"SGP-04", b"HKG-05"])
    table["branch"] = branches[rng.integers(0, len(branches), rows)]
    return table


def seal_table(key: bytes, table: np.ndarray, rows_per_block: int,
               table_id: bytes) -> bytes:
    """Seal the rows into consecutive blocks (the data owner's side)."""
    raw = table.tobytes()
    count = max(1, -(-len(table) // rows_per_block))
    blocks = []
    for index in range(count):
        lo = index * rows_per_block
        hi = min(len(table), lo + rows_per_block)
        header = BlockHeader(table_id=table_id, table_version=1, block_index=index,
                             block_count=count, row_count=hi - lo,
                             row_size=ROW_DTYPE.itemsize, schema_hash=SCHEMA_HASH)
        blocks.append(seal_block(key, header,
                                 raw[lo * ROW_DTYPE.itemsize:hi * ROW_DTYPE.itemsize]))
    return b"".join(blocks)


def open_table(key: bytes, sealed: bytes) -> np.ndarray:
    """Open every block of a sealed result and return its rows."""
    parts = []
    for i, block in enumerate(split_blocks(sealed, what="result")):
        header, plaintext = open_block(key, block, where=f"result block {i}")
        if header.block_index != i:
            raise RuntimeError(f"result block {i} carries index {header.block_index}")
        parts.append(plaintext)
    return np.frombuffer(b"".join(parts), dtype=ROW_DTYPE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="teespark-demo", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows in the table")
    parser.add_argument("--rows-per-block", type=int, default=4096)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    table = make_accounts(args.rows, args.seed)
    key = os.urandom(32)  # the data owner's key; never printed
    t0 = time.perf_counter()
    table_id = b"accounts-demo-01"
    sealed = seal_table(key, table, args.rows_per_block, table_id=table_id)
    descriptor = build_table_descriptor(
        key, table_id=table_id, table_version=1, row_count=len(table),
        row_size=ROW_DTYPE.itemsize, rows_per_block=args.rows_per_block,
        schema_hash=SCHEMA_HASH)
    t_seal = time.perf_counter() - t0
    n_blocks = len(split_blocks(sealed))
    print(f"sealed {args.rows} rows x {ROW_DTYPE.itemsize} B into {n_blocks} blocks "
          f"({len(sealed) / 2**20:.1f} MiB) in {t_seal:.2f} s")

    request = pack_sort_request(
        keys=[SortKey("float64", offset=8, width=8, descending=True),
              SortKey("int", offset=0, width=8)],
        rows_per_block=args.rows_per_block, in_key_slot=0, out_key_slot=0,
        out_table_id=b"accounts-sorted1", out_table_version=1, schema_hash=SCHEMA_HASH)
    with TeesparkTA() as ta:
        info = ta.get_info()
        print(f"TA ABI v{info.abi_version}, heap {info.heap_bytes / 2**20:.0f} MiB "
              f"(simulator)")
        ta.install_dev_key(0, key)
        ta.register_table(descriptor, 0)
        t0 = time.perf_counter()
        _descriptor, result, rows, out_blocks = ta.sort_blocks(sealed, request)
        t_sort = time.perf_counter() - t0
    print(f"TA sorted {rows} rows by (balance desc, id asc) obliviously into "
          f"{out_blocks} resealed blocks in {t_sort:.2f} s "
          f"({len(sealed) / 2**20 / t_sort:.1f} MiB/s of sealed input)")

    got = open_table(key, result)
    order = np.lexsort((table["id"], -table["balance"]))
    expected = table[order]
    if got.shape != expected.shape or not np.array_equal(got, expected):
        print("error: result-mismatch\n  the TA's sorted table differs from numpy's sort",
              file=sys.stderr)
        return 1
    print("opened the result on the client: identical to numpy's sort")
    print("top 3 balances:")
    for row in got[:3]:
        print(f"  id {row['id']}  balance {row['balance']:>12.2f}  "
              f"branch {row['branch'].decode()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
