"""Numbers shared with the TA and the GlobalPlatform TEE Client API.

The ``TA_TEESPARK_*`` and ``TS_*`` names are copies of the ``#define`` lines of
``enclave/ta/include/teespark_ta.h`` (the host/TA ABI), under the same names.
``tests/test_ta_header_constants.py`` parses that header and fails on any
drift, in either direction. The ``TEEC_*`` names are the GP TEE Client API
result codes, return origins and parameter types (GPD_SPE_007, OP-TEE values).
"""

from __future__ import annotations

import uuid as _uuid

# --- teespark_ta.h: identity ----------------------------------------------

TA_TEESPARK_UUID_STR = "83c7c701-68cf-4ff1-9ff7-4ba80b8f66ec"
#: The TA UUID in RFC 4122 byte order (what ``tsca_open`` takes).
TA_TEESPARK_UUID: bytes = _uuid.UUID(TA_TEESPARK_UUID_STR).bytes
TA_TEESPARK_ABI_VERSION = 1

# --- teespark_ta.h: commands ----------------------------------------------

TA_TEESPARK_CMD_GET_INFO = 0
TA_TEESPARK_CMD_INSTALL_DEV_KEY = 1
TA_TEESPARK_CMD_NEW_QUERY_KEY = 2
TA_TEESPARK_CMD_CLEAR_KEY = 3
TA_TEESPARK_CMD_RESEAL_BLOCKS = 4
TA_TEESPARK_CMD_SORT_BLOCKS = 5

#: Command id -> name, for error messages.
COMMAND_NAMES: dict[int, str] = {
    TA_TEESPARK_CMD_GET_INFO: "GET_INFO",
    TA_TEESPARK_CMD_INSTALL_DEV_KEY: "INSTALL_DEV_KEY",
    TA_TEESPARK_CMD_NEW_QUERY_KEY: "NEW_QUERY_KEY",
    TA_TEESPARK_CMD_CLEAR_KEY: "CLEAR_KEY",
    TA_TEESPARK_CMD_RESEAL_BLOCKS: "RESEAL_BLOCKS",
    TA_TEESPARK_CMD_SORT_BLOCKS: "SORT_BLOCKS",
}

# --- teespark_ta.h: limits ------------------------------------------------

TS_KEY_SIZE = 32
TS_NONCE_SIZE = 12
TS_TAG_SIZE = 16
TS_MAX_KEY_SLOTS = 8
TS_MAX_SORT_KEYS = 8
TS_MAX_ROW_SIZE = 65536
TS_MAX_BLOCK_PLAINTEXT = 4 * 1024 * 1024

# --- teespark_ta.h: sealed blocks -----------------------------------------

TS_BLOCK_MAGIC = 0x31425354  # bytes "TSB1"
TS_FORMAT_VERSION = 1
TS_BLOCK_HEADER_SIZE = 96


def TS_SEALED_BLOCK_SIZE(plaintext_bytes: int) -> int:  # noqa: N802 (mirrors the C macro)
    """Size of a sealed block holding ``plaintext_bytes`` of rows."""
    return TS_BLOCK_HEADER_SIZE + plaintext_bytes + TS_TAG_SIZE


# --- teespark_ta.h: sort request ------------------------------------------

TS_KEY_UINT = 1
TS_KEY_INT = 2
TS_KEY_FLOAT64 = 3
TS_KEY_BYTES = 4
TS_SORT_REQUEST_SIZE = 200

# --- teespark_ta.h: TA-specific error codes -------------------------------

TS_ERROR_BLOCK_FORMAT = 0x80010001
TS_ERROR_BLOCK_AUTH = 0x80010002
TS_ERROR_BLOCK_SEQUENCE = 0x80010003
TS_ERROR_KEY_SLOT_EMPTY = 0x80010004
TS_ERROR_BAD_REQUEST = 0x80010005

# --- GP TEE Client API ----------------------------------------------------

TEEC_SUCCESS = 0x00000000
TEEC_ERROR_STORAGE_NOT_AVAILABLE = 0xF0100003
TEEC_ERROR_GENERIC = 0xFFFF0000
TEEC_ERROR_ACCESS_DENIED = 0xFFFF0001
TEEC_ERROR_CANCEL = 0xFFFF0002
TEEC_ERROR_ACCESS_CONFLICT = 0xFFFF0003
TEEC_ERROR_EXCESS_DATA = 0xFFFF0004
TEEC_ERROR_BAD_FORMAT = 0xFFFF0005
TEEC_ERROR_BAD_PARAMETERS = 0xFFFF0006
TEEC_ERROR_BAD_STATE = 0xFFFF0007
TEEC_ERROR_ITEM_NOT_FOUND = 0xFFFF0008
TEEC_ERROR_NOT_IMPLEMENTED = 0xFFFF0009
TEEC_ERROR_NOT_SUPPORTED = 0xFFFF000A
TEEC_ERROR_NO_DATA = 0xFFFF000B
TEEC_ERROR_OUT_OF_MEMORY = 0xFFFF000C
TEEC_ERROR_BUSY = 0xFFFF000D
TEEC_ERROR_COMMUNICATION = 0xFFFF000E
TEEC_ERROR_SECURITY = 0xFFFF000F
TEEC_ERROR_SHORT_BUFFER = 0xFFFF0010
TEEC_ERROR_EXTERNAL_CANCEL = 0xFFFF0011
TEEC_ERROR_OVERFLOW = 0xFFFF300F
TEEC_ERROR_TARGET_DEAD = 0xFFFF3024
TEEC_ERROR_STORAGE_NO_SPACE = 0xFFFF3041
TEEC_ERROR_MAC_INVALID = 0xFFFF3071
TEEC_ERROR_SIGNATURE_INVALID = 0xFFFF3072

TEEC_ORIGIN_API = 1
TEEC_ORIGIN_COMMS = 2
TEEC_ORIGIN_TEE = 3
TEEC_ORIGIN_TRUSTED_APP = 4

ORIGIN_NAMES: dict[int, str] = {
    TEEC_ORIGIN_API: "API",
    TEEC_ORIGIN_COMMS: "COMMS",
    TEEC_ORIGIN_TEE: "TEE",
    TEEC_ORIGIN_TRUSTED_APP: "TRUSTED_APP",
}

TEEC_NONE = 0x0
TEEC_VALUE_INPUT = 0x1
TEEC_VALUE_OUTPUT = 0x2
TEEC_VALUE_INOUT = 0x3
TEEC_MEMREF_TEMP_INPUT = 0x5
TEEC_MEMREF_TEMP_OUTPUT = 0x6
TEEC_MEMREF_TEMP_INOUT = 0x7
TEEC_MEMREF_WHOLE = 0xC
TEEC_MEMREF_PARTIAL_INPUT = 0xD
TEEC_MEMREF_PARTIAL_OUTPUT = 0xE
TEEC_MEMREF_PARTIAL_INOUT = 0xF
