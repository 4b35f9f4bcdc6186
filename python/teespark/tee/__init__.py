"""teespark.tee: the only code that talks to trusted applications.

Layers, bottom up:

- ``_abi``: ctypes binding of ``libteespark_ca.so``, the stable C ABI over the
  GP TEE Client API (never the ``TEEC_*`` structs themselves);
- :class:`TaSession`: a session with one TA instance: typed parameters,
  shared memory, error mapping, cancellation, reopen after a TA crash;
- :class:`TeesparkTA`: one typed method per command of the teespark TA;
- :mod:`teespark.tee.descriptor`: the MAC'd table descriptors that register
  tables with the TA.
"""

from teespark.tee.descriptor import build_table_descriptor, verify_table_descriptor
from teespark.tee.params import InBuffer, InOutBuffer, OutBuffer, Value
from teespark.tee.session import TaSession
from teespark.tee.shared_memory import SharedMemory, SharedMemoryRef
from teespark.tee.teespark_ta import (
    SortKey,
    TaInfo,
    TeesparkTA,
    pack_export_request,
    pack_sort_request,
)

__all__ = [
    "InBuffer",
    "InOutBuffer",
    "OutBuffer",
    "SharedMemory",
    "SharedMemoryRef",
    "SortKey",
    "TaInfo",
    "TaSession",
    "TeesparkTA",
    "Value",
    "build_table_descriptor",
    "pack_export_request",
    "pack_sort_request",
    "verify_table_descriptor",
]
