"""teespark demo: one table's whole path, owner to analyst, through the TA.

Run with ``make demo`` or ``python -m teespark.demo``. Every party runs in
this process, each using only what it would have in production:

1. **Bank (data owner)**: creates a master key and keyring, encrypts an
   accounts table client-side (``teespark.encrypt_table``), and loads the
   table's data key and policy into its key broker (an embedded KBS on a
   loopback port): which TA measurement may receive the key, and that the
   analyst may receive results.
2. **Host (untrusted)**: opens a session on the teespark TA (host TEE
   simulator), relays the TA's attestation evidence to the KBS and the signed
   reply back (it cannot unwrap the key), registers the table from its
   authenticated manifest, asks the TA to sort all rows by
   (balance descending, id ascending) with an oblivious sorting network, and
   to export the sorted table to the analyst. It only ever holds ciphertext.
3. **Analyst (result recipient)**: opens the result with its private key and
   checks it against pandas' sort of the original data.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from teespark.api import encrypt_table
from teespark.attest.client import release_keys
from teespark.crypto.keyring import Keyring
from teespark.crypto.master_key import MasterKey
from teespark.format.row_codec import decode_rows
from teespark.format.table_files import iter_sealed_blocks, read_manifest
from teespark.kbs.embedded import start_embedded_kbs
from teespark.results import open_result
from teespark.tee.teespark_ta import SortKey, TeesparkTA, pack_export_request, pack_sort_request

QUERY_KEY_SLOT = 7


def make_accounts(rows: int, seed: int) -> pd.DataFrame:
    """A reproducible accounts table with tied balances, NULL-free keys, random order."""
    rng = np.random.default_rng(seed)
    branches = np.array(["LDN-01", "NYC-02", "FRA-03", "SGP-04", "HKG-05"])
    return pd.DataFrame({
        "id": rng.permutation(rows).astype(np.int64) + 1_000_000,
        # Whole currency units, so that ties occur and the second key matters.
        "balance": np.round(rng.lognormal(8.0, 1.5, rows) - 500.0) + 0.0,
        "branch": branches[rng.integers(0, len(branches), rows)],
    })


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="teespark-demo", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows in the table")
    parser.add_argument("--rows-per-block", type=int, default=8192)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="teespark-demo-") as tmp:
        work = Path(tmp)
        accounts = make_accounts(args.rows, args.seed)

        # 1. The bank encrypts its table and configures its key broker.
        keyring = Keyring.create(work / "keyring.json", MasterKey.generate())
        t0 = time.perf_counter()
        manifest = encrypt_table(accounts, work / "accounts", table_name="accounts",
                                 keyring=keyring, schema="id:int64 not null, "
                                 "balance:float64 not null, branch:string(8) not null",
                                 rows_per_block=args.rows_per_block)
        print(f"bank: encrypted {manifest.row_count} rows into {manifest.block_count} "
              f"AES-256-GCM blocks in {time.perf_counter() - t0:.2f} s")
        analyst_key = X25519PrivateKey.generate()
        analyst_id = os.urandom(16)

        with start_embedded_kbs(profile="dev") as kbs, TeesparkTA() as ta:
            kbs.trust_device_key(ta.get_device_pubkey(), owner="bank")
            kbs.add_recipient(analyst_id, analyst_key.public_key().public_bytes(
                Encoding.Raw, PublicFormat.Raw), owner="bank", name="analyst")
            kbs.add_table("accounts", owner="bank", table_id=manifest.table_id,
                          key_id=manifest.key_id, data_key=keyring.get(manifest.key_id.hex()),
                          recipients=["analyst"])
            print(f"bank: key broker on {kbs.url} holds the table key; policy names the "
                  "TA measurement and the analyst")

            # 2. The host relays; the TA proves itself and receives the key.
            release = release_keys(ta, kbs, tables=["accounts"], recipients=["analyst"])
            slot = release.slot_of("accounts")
            print(f"host: TA attested (simulated evidence) and received the data key in "
                  f"slot {slot}; the host saw only the wrapped key")

            ta.register_table(read_manifest(work / "accounts").descriptor_bytes(), slot)
            sealed = b"".join(block for _, block in iter_sealed_blocks(work / "accounts"))
            layout = {col.name: col for col in manifest.schema.layout()}
            ta.new_query_key(QUERY_KEY_SLOT)
            request = pack_sort_request(
                keys=[SortKey("float64", layout["balance"].offset, 8, descending=True),
                      SortKey("int", layout["id"].offset, 8)],
                rows_per_block=args.rows_per_block, in_key_slot=slot,
                out_key_slot=QUERY_KEY_SLOT, out_table_id=os.urandom(16),
                out_table_version=1, schema_hash=manifest.schema_hash)
            t0 = time.perf_counter()
            _, sorted_blocks, rows, n_blocks = ta.sort_blocks(sealed, request)
            t_sort = time.perf_counter() - t0
            print(f"host: TA sorted {rows} rows by (balance desc, id asc) obliviously into "
                  f"{n_blocks} blocks under a per-query key in {t_sort:.2f} s")
            envelope, descriptor, result_blocks = ta.export_result(
                sorted_blocks, pack_export_request(
                    in_key_slot=QUERY_KEY_SLOT, rows_per_block=args.rows_per_block,
                    recipient_id=analyst_id, out_table_id=os.urandom(16),
                    out_table_version=1))
            print(f"host: TA exported the result to the analyst "
                  f"({len(result_blocks) / 2**20:.1f} MiB of ciphertext)")

        # 3. The analyst opens the result with its private key.
        result = open_result(envelope, descriptor, result_blocks, analyst_key,
                             expected_recipient_id=analyst_id)
        rows_array = np.frombuffer(result.rows, dtype=np.uint8).reshape(
            result.descriptor.row_count, result.descriptor.row_size)
        got = decode_rows(rows_array, manifest.schema).to_pandas()
        expected = accounts.sort_values(["balance", "id"], ascending=[False, True],
                                        ignore_index=True)
        if not got.equals(expected):
            print("error: result-mismatch\n  the TA's sorted table differs from pandas' sort",
                  file=sys.stderr)
            return 1
        print("analyst: opened the result with its private key: identical to pandas' sort")
        print("analyst: top 3 balances:")
        for row in got.head(3).itertuples():
            print(f"  id {row.id}  balance {row.balance:>12.2f}  branch {row.branch}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
