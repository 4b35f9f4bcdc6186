"""Numbers of the binary expression IR, mirroring enclave/ta/expr/expr.h.

tests/expr/test_expr_ir_constants.py parses expr.h and checks every value
here against it, so the two cannot drift apart.
"""

from __future__ import annotations

MAGIC = b"TSXP"
VERSION = 1
HEADER_SIZE = 16
INSN_HEADER_SIZE = 16

MAX_DEPTH = 256
MAX_INSNS = 65536
MAX_STRING = 65535
MAX_PRECISION = 38
MAX_STORED_PRECISION = 18
MAX_LIST = 65536
NOT_NULLABLE = 0xFFFFFFFF

# enum ts_expr_kind
T_BOOL = 1
T_INT32 = 2
T_INT64 = 3
T_FLOAT64 = 4
T_DECIMAL = 5
T_DATE = 6
T_TIMESTAMP = 7
T_STRING = 8

# enum ts_expr_op
OP_COL = 0x01
OP_LIT = 0x02
OP_ADD = 0x10
OP_SUB = 0x11
OP_MUL = 0x12
OP_DIV = 0x13
OP_IDIV = 0x14
OP_MOD = 0x15
OP_NEG = 0x16
OP_ABS = 0x17
OP_ROUND = 0x18
OP_EQ = 0x20
OP_EQ_NS = 0x21
OP_LT = 0x22
OP_LE = 0x23
OP_GT = 0x24
OP_GE = 0x25
OP_AND = 0x30
OP_OR = 0x31
OP_NOT = 0x32
OP_IS_NULL = 0x33
OP_IS_NOT_NULL = 0x34
OP_CASE = 0x40
OP_COALESCE = 0x41
OP_IN = 0x42
OP_CAST = 0x50
OP_NORMALIZE = 0x51
OP_UNSCALED = 0x52
OP_MAKE_DECIMAL = 0x53
OP_SUBSTR = 0x60
OP_LIKE = 0x61
OP_YEAR = 0x70
OP_MONTH = 0x71
OP_DAY = 0x72
OP_DATE_ADD = 0x73
OP_DATE_SUB = 0x74
OP_DATEDIFF = 0x75

LIKE_ANY_CHAR = 0x0100
LIKE_ANY_STRING = 0x0200
SUBSTR_TO_END = 0x7FFFFFFF

# enum ts_expr_err
E_OK = 0
E_TRUNCATED = 1
E_MAGIC = 2
E_VERSION = 3
E_LENGTH = 4
E_OPCODE = 5
E_TYPE = 6
E_OPERAND_TYPE = 7
E_UNDERFLOW = 8
E_DEPTH = 9
E_RESULT = 10
E_OFFSET = 11
E_LITERAL = 12
E_PARAM = 13
E_TRAILING = 14
E_UNSUPPORTED = 15
E_ROW_SIZE = 16
E_WORKSPACE = 17
E_NOT_STORABLE = 18
E_ARG = 19

OPCODE_NAMES = {v: k[3:] for k, v in dict(globals()).items()
                if k.startswith("OP_") and isinstance(v, int)}
ERROR_NAMES = {v: k[2:] for k, v in dict(globals()).items()
               if k.startswith("E_") and isinstance(v, int)}
