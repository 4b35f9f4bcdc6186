"""Client-side cryptography: sealing and opening teespark blocks."""

from teespark.crypto.block_seal import (BlockHeader, open_block, seal_block, sealed_size,
                                       split_blocks)

__all__ = ["BlockHeader", "open_block", "seal_block", "sealed_size", "split_blocks"]
