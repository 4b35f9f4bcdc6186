"""The encrypted table format: schema, fixed-width rows, manifest, table files.

docs/FORMAT.md is the specification; these modules implement it:

- :mod:`teespark.format.schema`: :class:`Schema`, :class:`Column`.
- :mod:`teespark.format.row_codec`: :func:`encode_rows`, :func:`decode_rows`.
- :mod:`teespark.format.manifest`: :class:`Manifest`, :func:`load_manifest`.
- :mod:`teespark.format.table_files`: :func:`write_table`, :func:`read_table`,
  :func:`verify_table`, :func:`iter_sealed_blocks`, :func:`read_manifest`.
"""

from teespark.format.manifest import FORMAT_VERSION, Manifest, load_manifest
from teespark.format.row_codec import decode_rows, encode_rows
from teespark.format.schema import Column, Schema
from teespark.format.table_files import (DEFAULT_BLOCK_BYTES, MANIFEST_NAME, TableReport,
                                         iter_sealed_blocks, read_manifest, read_table,
                                         verify_table, write_table)

__all__ = [
    "DEFAULT_BLOCK_BYTES", "FORMAT_VERSION", "MANIFEST_NAME", "Column", "Manifest", "Schema",
    "TableReport",
    "decode_rows", "encode_rows", "iter_sealed_blocks", "load_manifest", "read_manifest",
    "read_table", "verify_table", "write_table",
]
