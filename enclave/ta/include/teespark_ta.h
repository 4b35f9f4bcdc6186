/*
 * teespark_ta.h - everything the host and the teespark TA share, and nothing else.
 *
 * This is the ABI between the normal world (the client library and Python) and
 * the trusted application: the TA UUID, the command ids with the meaning of
 * param[0..3] for each, the wire structs and the TA-specific error codes.
 * Python keeps a copy of these numbers in python/teespark/tee/constants.py;
 * tests/test_ta_header_constants.py parses this file and fails on any drift.
 *
 * All multi-byte integers in wire structs are little-endian (both supported
 * TEE targets, AArch64 and the x86-64 simulator, are little-endian; the TA
 * reads them as native integers and the build asserts the byte order).
 */
#ifndef TEESPARK_TA_H
#define TEESPARK_TA_H

#include <stdint.h>

/* 83c7c701-68cf-4ff1-9ff7-4ba80b8f66ec */
#define TA_TEESPARK_UUID \
	{ 0x83c7c701, 0x68cf, 0x4ff1, \
		{ 0x9f, 0xf7, 0x4b, 0xa8, 0x0b, 0x8f, 0x66, 0xec } }
#define TA_TEESPARK_UUID_STR "83c7c701-68cf-4ff1-9ff7-4ba80b8f66ec"

/* Version of the command set below; GET_INFO reports it. */
#define TA_TEESPARK_ABI_VERSION 4

/* ------------------------------------------------------------------------ */
/* Commands                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * TA_TEESPARK_CMD_GET_INFO - report the TA's ABI version and limits.
 * param[0] (value, output): a = TA_TEESPARK_ABI_VERSION, b = TS_MAX_KEY_SLOTS
 * param[1] (value, output): a = heap size in KiB (TA_DATA_SIZE / 1024),
 *                           b = TS_MAX_BLOCK_PLAINTEXT
 * param[2] unused
 * param[3] unused
 */
#define TA_TEESPARK_CMD_GET_INFO 0

/*
 * TA_TEESPARK_CMD_INSTALL_DEV_KEY - place a raw AES-256 data key in a key slot.
 * Development provisioning only: the key crosses the host in the clear. The
 * attested key release (KBS, later ABI versions) replaces it for real data.
 * param[0] (value, input):  a = key slot (0 .. TS_MAX_KEY_SLOTS-1), b unused
 * param[1] (memref, input): the key, exactly TS_KEY_SIZE bytes
 * param[2] unused
 * param[3] unused
 */
#define TA_TEESPARK_CMD_INSTALL_DEV_KEY 1

/*
 * TA_TEESPARK_CMD_NEW_QUERY_KEY - generate a fresh random AES-256 key inside
 * the TA for intermediate results of one query; the key never leaves the TA.
 * param[0] (value, input): a = key slot, b unused
 * param[1] unused
 * param[2] unused
 * param[3] unused
 */
#define TA_TEESPARK_CMD_NEW_QUERY_KEY 2

/*
 * TA_TEESPARK_CMD_CLEAR_KEY - wipe a key slot (no error if already empty).
 * param[0] (value, input): a = key slot, b unused
 * param[1] unused
 * param[2] unused
 * param[3] unused
 */
#define TA_TEESPARK_CMD_CLEAR_KEY 3

/*
 * TA_TEESPARK_CMD_RESEAL_BLOCKS - open sealed blocks under one key slot and
 * seal the same rows again under another slot with fresh nonces (key rotation,
 * and the TA's AES-GCM throughput benchmark).
 * param[0] (memref, input):  sealed input blocks of a registered table,
 *                            concatenated (struct ts_block_header +
 *                            ciphertext + tag, each)
 * param[1] (memref, output): sealed output blocks, same count and row layout,
 *                            header fields copied except nonce; on
 *                            TEE_ERROR_SHORT_BUFFER, size = bytes needed
 * param[2] (value, input):   a = input key slot, b = output key slot
 *                            (the output slot is added to the registered
 *                            table, so the resealed blocks stay usable)
 * param[3] (value, output):  a = microseconds spent opening,
 *                            b = microseconds spent sealing;
 *                            on TS_ERROR_BLOCK_* errors: a = failing block index
 */
#define TA_TEESPARK_CMD_RESEAL_BLOCKS 4

/*
 * TA_TEESPARK_CMD_SORT_BLOCKS - open sealed blocks, sort all their rows by
 * the key columns of the request with an oblivious sorting network, and seal
 * the sorted rows into new blocks with fresh nonces.
 * The input blocks must be the complete block sequence of a registered table
 * (REGISTER_TABLE) opened with in_key_slot.
 * Reveals to the host: block count, row count, row size, output block count
 * (all determined by the input's public sizes and rows_per_block).
 * param[0] (memref, input):  sealed input blocks, concatenated; block i must
 *                            carry block_index i and block_count = count given
 * param[1] (memref, output): struct ts_table_descriptor of the output table
 *                            (MAC under the out slot's key) | sealed output
 *                            blocks; on TEE_ERROR_SHORT_BUFFER, size = bytes
 *                            needed. The output table is registered in the
 *                            session, so it can feed the next command. The
 *                            descriptor's key_id is the out slot's KBS key id
 *                            (zeros for development and query keys).
 * param[2] (memref, input):  struct ts_sort_request
 * param[3] (value, output):  a = total rows, b = output blocks written;
 *                            on TS_ERROR_BLOCK_* errors: a = failing block index
 */
#define TA_TEESPARK_CMD_SORT_BLOCKS 5

/*
 * TA_TEESPARK_CMD_PIN_KBS_KEY - pin the key broker's Ed25519 public key for
 * this session. Once per session: pinning another key later fails with
 * TEE_ERROR_ACCESS_DENIED (pinning the same key again succeeds). Evidence
 * names the pinned key, and IMPORT_KEYS accepts only replies it signed.
 * param[0] (memref, input): Ed25519 public key, TS_ED25519_PUBLIC_SIZE bytes
 * param[1] unused
 * param[2] unused
 * param[3] unused
 */
#define TA_TEESPARK_CMD_PIN_KBS_KEY 6

/*
 * TA_TEESPARK_CMD_GET_EVIDENCE - attestation evidence for key release.
 * The session's ephemeral X25519 key pair is generated on first use. The
 * evidence's SHA-256 becomes the session's pending evidence: IMPORT_KEYS
 * accepts only a reply naming it, once. Needs a pinned KBS key
 * (TS_ERROR_KBS_NOT_PINNED otherwise).
 * param[0] (memref, input):  verifier nonce, TS_NONCE_BYTES (32) bytes
 * param[1] (memref, output): struct ts_evidence (TS_EVIDENCE_SIZE bytes)
 * param[2] unused
 * param[3] unused
 */
#define TA_TEESPARK_CMD_GET_EVIDENCE 7

/*
 * TA_TEESPARK_CMD_GET_DEVICE_PUBKEY - the device attestation public key that
 * signs evidence (RSA, for RSASSA-PSS-SHA256), exactly as OP-TEE's
 * attestation PTA GET_PUBKEY returns it. Public; used to provision verifiers.
 * param[0] (memref, output): public exponent, big-endian
 * param[1] (memref, output): modulus, big-endian
 * param[2] (value, output):  a = TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256
 * param[3] unused
 */
#define TA_TEESPARK_CMD_GET_DEVICE_PUBKEY 8

/*
 * TA_TEESPARK_CMD_IMPORT_KEYS - import data keys from a signed KBS reply.
 * Checks the Ed25519 signature with the pinned KBS key, that the reply names
 * the session's pending evidence (then clears it: a reply imports once),
 * unwraps each key into its slot and records the reply's result recipients.
 * param[0] (memref, input):  the reply (struct ts_kbs_reply_header, key
 *                            entries, recipient entries, signature)
 * param[1] (value, output):  a = keys imported, b = recipients recorded
 * param[2] unused
 * param[3] unused
 */
#define TA_TEESPARK_CMD_IMPORT_KEYS 9

/*
 * TA_TEESPARK_CMD_REGISTER_TABLE - register a table for this session from its
 * authenticated descriptor (the manifest's binary core). The descriptor's MAC
 * is checked with a key derived from the data key in the given slot
 * (TS_ERROR_MANIFEST_AUTH: edited manifest or wrong data key). Block commands
 * accept only blocks of registered tables, and only the complete, in-order
 * block sequence of the registered version.
 * param[0] (memref, input): struct ts_table_descriptor
 * param[1] (value, input):  a = key slot holding the table's data key, b unused
 * param[2] unused
 * param[3] unused
 */
#define TA_TEESPARK_CMD_REGISTER_TABLE 10

/*
 * TA_TEESPARK_CMD_EXPORT_RESULT - reseal a registered table for a result
 * recipient named in the KBS reply: the TA draws a fresh result key, seals
 * the rows under it (new table id and version), authenticates the new
 * descriptor with it, and wraps the result key to the recipient's X25519 key.
 * param[0] (memref, input):  sealed blocks of a registered table
 * param[1] (memref, output): struct ts_result_envelope | struct
 *                            ts_table_descriptor | sealed blocks; on
 *                            TEE_ERROR_SHORT_BUFFER, size = bytes needed
 * param[2] (memref, input):  struct ts_export_request
 * param[3] (value, output):  a = rows, b = blocks written;
 *                            on TS_ERROR_BLOCK_* errors: a = failing block index
 */
#define TA_TEESPARK_CMD_EXPORT_RESULT 11

/* ------------------------------------------------------------------------ */
/* Operator commands (ids 12..19; ABI v3). ids 20..23: block-streaming       */
/* external sort, in its own section.                                        */
/* ------------------------------------------------------------------------ */

/*
 * TA_TEESPARK_CMD_RUN_OPERATOR - run one relational operator (filter,
 * project, sort / top-k, limit, aggregate, join, union all, distinct) over
 * one or two registered tables held entirely in the TA heap, optionally
 * followed by a projection, and seal the result as a new table.
 * The inputs must be complete block sequences of registered tables
 * (REGISTER_TABLE, or the output of an earlier command) opened with the
 * request's in key slots. mode TS_OPMODE_OBLIVIOUS runs the obl_* kernels
 * (access pattern independent of the data); TS_OPMODE_ENCRYPTED the fast
 * op_*_fast versions (NOT oblivious: leaks which rows pass/match, group
 * sizes). docs/LEAKAGE.md ("TA operator commands") lists what each reveals.
 * Output row count: with pad_rows = 0 the number of result rows m is
 * declassified (revealed) and the output holds exactly m rows; with
 * pad_rows > 0 the output holds exactly pad_rows rows of out_row_size + 1
 * bytes (the last byte of each row is is_real, 0 or 1; dummy rows are all
 * zero) under the padded schema hash (docs/FORMAT.md, appendix A), and
 * only whether m > pad_rows is revealed (TS_ERROR_PAD_OVERFLOW).
 * param[0] (memref, input):  sealed blocks of input 0, then (two-input
 *                            operators) those of input 1, concatenated;
 *                            request.in0_bytes says where input 1 starts
 * param[1] (memref, output): struct ts_table_descriptor of the output table
 *                            (MAC under the out slot's key) | sealed output
 *                            blocks; on TEE_ERROR_SHORT_BUFFER, size = bytes
 *                            needed. The output is registered in the
 *                            session with out_key_slot.
 * param[2] (memref, input):  struct ts_op_request | body (body_size bytes,
 *                            layout in "Operator request" below)
 * param[3] (value, output):  a = output rows, b = output blocks;
 *                            on TS_ERROR_BLOCK_* errors: a = failing block
 *                            index, b = the input (0 or 1) it belongs to
 */
#define TA_TEESPARK_CMD_RUN_OPERATOR 12

/* ------------------------------------------------------------------------ */
/* Limits                                                                    */
/* ------------------------------------------------------------------------ */

#define TS_KEY_SIZE 32             /* AES-256 */
#define TS_NONCE_SIZE 12           /* GCM 96-bit nonce */
#define TS_TAG_SIZE 16             /* GCM 128-bit tag */
#define TS_MAX_KEY_SLOTS 8
#define TS_MAX_SORT_KEYS 8
#define TS_MAX_ROW_SIZE 65536
#define TS_MAX_BLOCK_PLAINTEXT (4u * 1024u * 1024u)
#define TS_NONCE_BYTES 32           /* verifier nonce in evidence */
#define TS_X25519_PUBLIC_SIZE 32
#define TS_ED25519_PUBLIC_SIZE 32
#define TS_ED25519_SIGNATURE_SIZE 64
#define TS_MAX_RECIPIENTS 8
#define TS_MAX_TABLES 16            /* registered tables per session */

/* ------------------------------------------------------------------------ */
/* Sealed block                                                              */
/* ------------------------------------------------------------------------ */

#define TS_BLOCK_MAGIC 0x31425354u /* bytes "TSB1" */
#define TS_FORMAT_VERSION 1

/*
 * A sealed block is: struct ts_block_header (96 bytes) | ciphertext
 * (row_count * row_size bytes) | GCM tag (16 bytes).
 * The whole header is the GCM additional authenticated data, so a block is
 * bound to its table, table version, position, block count, schema and row
 * count; the nonce in the header is the GCM nonce (96 random bits per seal).
 */
struct ts_block_header {
	uint32_t magic;             /* TS_BLOCK_MAGIC */
	uint16_t format_version;    /* TS_FORMAT_VERSION */
	uint16_t header_size;       /* sizeof(struct ts_block_header) = 96 */
	uint8_t table_id[16];
	uint64_t table_version;
	uint32_t block_index;       /* 0-based position in the table */
	uint32_t block_count;       /* blocks in the table */
	uint32_t row_count;         /* rows in this block */
	uint32_t row_size;          /* bytes per fixed-width row */
	uint8_t schema_hash[32];    /* SHA-256 of the canonical schema */
	uint8_t nonce[TS_NONCE_SIZE];
	uint32_t ciphertext_size;   /* = row_count * row_size */
};

#define TS_BLOCK_HEADER_SIZE 96
#define TS_SEALED_BLOCK_SIZE(plaintext_bytes) \
	(TS_BLOCK_HEADER_SIZE + (plaintext_bytes) + TS_TAG_SIZE)

/* ------------------------------------------------------------------------ */
/* Sort request                                                              */
/* ------------------------------------------------------------------------ */

/* Key column types; widths in bytes. */
#define TS_KEY_UINT 1      /* unsigned little-endian integer, width 1, 2, 4 or 8 */
#define TS_KEY_INT 2       /* two's complement little-endian, width 1, 2, 4 or 8 */
#define TS_KEY_FLOAT64 3   /* IEEE-754 double, width 8; Spark order: -0.0 == +0.0, NaN last */
#define TS_KEY_BYTES 4     /* byte string compared lexicographically, width 1..256 */

struct ts_sort_key {
	uint16_t type;          /* TS_KEY_* */
	uint16_t descending;    /* 0 = ascending, 1 = descending */
	uint32_t offset;        /* byte offset of the column in the row */
	uint32_t width;         /* bytes */
	uint32_t reserved;      /* must be 0 */
};

struct ts_sort_request {
	uint32_t in_key_slot;
	uint32_t out_key_slot;
	uint32_t rows_per_block;    /* capacity of each output block */
	uint32_t key_count;         /* 1 .. TS_MAX_SORT_KEYS */
	uint8_t out_table_id[16];
	uint64_t out_table_version;
	uint8_t schema_hash[32];    /* input blocks must carry it; output gets it */
	struct ts_sort_key keys[TS_MAX_SORT_KEYS];
};

#define TS_SORT_REQUEST_SIZE 200

/* ------------------------------------------------------------------------ */
/* Table descriptor (the authenticated core of a table manifest)             */
/* ------------------------------------------------------------------------ */

#define TS_DESCRIPTOR_MAGIC 0x44545354u /* bytes "TSTD" */

/*
 * mac = HMAC-SHA256 over the 104 bytes before it, keyed with
 *   HKDF-SHA256(IKM = data key, salt = 32 zero bytes,
 *               info = "teespark/manifest-mac/v1", L = 32).
 * The manifest file (docs/FORMAT.md) carries these fields and the schema
 * whose canonical JSON hashes to schema_hash.
 */
struct ts_table_descriptor {
	uint32_t magic;             /* TS_DESCRIPTOR_MAGIC */
	uint16_t format_version;    /* TS_FORMAT_VERSION */
	uint16_t descriptor_size;   /* 136 */
	uint8_t table_id[16];
	uint64_t table_version;
	uint64_t row_count;
	uint32_t block_count;
	uint32_t row_size;
	uint32_t rows_per_block;    /* capacity; the last block may hold fewer */
	uint32_t reserved;          /* 0 */
	uint8_t schema_hash[32];
	uint8_t key_id[16];         /* which data key (keyring id) seals the blocks */
	uint8_t mac[32];
};

#define TS_TABLE_DESCRIPTOR_SIZE 136
#define TS_DESCRIPTOR_MAC_OFFSET 104
#define TS_MANIFEST_MAC_INFO "teespark/manifest-mac/v1"

/* ------------------------------------------------------------------------ */
/* Attestation evidence                                                      */
/* ------------------------------------------------------------------------ */

#define TS_EVIDENCE_MAGIC 0x56455354u /* bytes "TSEV" */
#define TS_TEE_KIND_SIMULATOR 1
#define TS_TEE_KIND_OPTEE 2
#define TS_TEE_KIND_ITRUSTEE 3
#define TS_EVIDENCE_FLAG_SIMULATED 0x1u

/* What the TA asserts; 128 bytes. */
struct ts_evidence_body {
	uint32_t magic;             /* TS_EVIDENCE_MAGIC */
	uint16_t version;           /* 1 */
	uint16_t tee_kind;          /* TS_TEE_KIND_* */
	uint32_t flags;             /* TS_EVIDENCE_FLAG_* */
	uint32_t abi_version;       /* TA_TEESPARK_ABI_VERSION */
	uint8_t ta_uuid[16];        /* RFC 4122 byte order (big-endian fields) */
	uint8_t verifier_nonce[TS_NONCE_BYTES];
	uint8_t ta_public_key[TS_X25519_PUBLIC_SIZE];   /* session's ephemeral key */
	uint8_t kbs_public_key[TS_ED25519_PUBLIC_SIZE]; /* the pinned KBS key */
};

/*
 * Evidence = body | measurement | signature, in the wire format of OP-TEE's
 * attestation PTA (HASH_TA_MEMORY) with nonce' = SHA-256(body):
 *   signature = RSASSA-PSS-SHA256(SHA-256(nonce' | measurement)), salt 32,
 * by the device attestation key (GET_DEVICE_PUBKEY). measurement = SHA-256
 * of the TA's read-only memory as the PTA hashes it (the simulator hashes the
 * TA image's non-writable PT_LOAD segments, sorted by size then content).
 */
struct ts_evidence {
	struct ts_evidence_body body;
	uint8_t measurement[32];
	uint32_t signature_size;    /* bytes used in signature[] (384 for RSA-3072) */
	uint32_t reserved;
	uint8_t signature[512];
};

#define TS_EVIDENCE_BODY_SIZE 128
#define TS_EVIDENCE_SIZE 680

/* ------------------------------------------------------------------------ */
/* Key broker reply                                                          */
/* ------------------------------------------------------------------------ */

#define TS_KBS_REPLY_MAGIC 0x524b5354u /* bytes "TSKR" */

/*
 * Reply = header | key_count x ts_wrapped_key | recipient_count x
 * ts_recipient | Ed25519 signature (64 bytes) over everything before it.
 * Key wrapping: shared = X25519(private key of kbs_ephemeral_key,
 *                               ta_public_key) (= X25519(TA private, kbs_ephemeral_key));
 *   K = HKDF-SHA256(IKM = shared, salt = evidence_hash,
 *       info = "teespark/kbs-wrap/v1" | kbs_ephemeral_key | ta_public_key, 32);
 *   wrapped_key | tag = AES-256-GCM(K, nonce, data key,
 *       AAD = the entry's first 40 bytes: slot, flags, key_id, table_id).
 */
struct ts_kbs_reply_header {
	uint32_t magic;             /* TS_KBS_REPLY_MAGIC */
	uint16_t version;           /* 1 */
	uint16_t header_size;       /* 96 */
	uint8_t evidence_hash[32];  /* SHA-256 of the 680-byte ts_evidence answered
	                             * (unused signature bytes are zero) */
	uint8_t kbs_ephemeral_key[TS_X25519_PUBLIC_SIZE];
	uint32_t key_count;         /* 0 .. TS_MAX_KEY_SLOTS */
	uint32_t recipient_count;   /* 0 .. TS_MAX_RECIPIENTS */
	uint64_t issued_at;         /* Unix seconds, informational */
	uint32_t reply_size;        /* total bytes, signature included */
	uint32_t reserved;          /* 0 */
};

struct ts_wrapped_key {
	uint32_t slot;              /* key slot to fill */
	uint32_t flags;             /* 0 */
	uint8_t key_id[16];
	uint8_t table_id[16];       /* the table this key may open */
	uint8_t nonce[TS_NONCE_SIZE];
	uint32_t reserved;          /* 0 */
	uint8_t wrapped_key[TS_KEY_SIZE];
	uint8_t tag[TS_TAG_SIZE];
};

struct ts_recipient {
	uint8_t recipient_id[16];
	uint8_t public_key[TS_X25519_PUBLIC_SIZE];
};

#define TS_KBS_REPLY_HEADER_SIZE 96
#define TS_WRAPPED_KEY_SIZE 104
#define TS_WRAPPED_KEY_AAD_SIZE 40
#define TS_RECIPIENT_SIZE 48
#define TS_KBS_WRAP_INFO "teespark/kbs-wrap/v1"

/* ------------------------------------------------------------------------ */
/* Result export                                                             */
/* ------------------------------------------------------------------------ */

struct ts_export_request {
	uint32_t in_key_slot;       /* opens the input (registered) table */
	uint32_t rows_per_block;    /* output block capacity */
	uint8_t recipient_id[16];   /* must be named in the imported KBS reply */
	uint8_t out_table_id[16];
	uint64_t out_table_version;
};

#define TS_EXPORT_REQUEST_SIZE 48
#define TS_RESULT_ENVELOPE_MAGIC 0x45525354u /* bytes "TSRE" */

/*
 * The result key wrapped to a recipient: eph = fresh X25519 key pair;
 *   K = HKDF-SHA256(IKM = X25519(eph, recipient public key), salt = 32 zero
 *       bytes, info = "teespark/result-wrap/v1" | ta_ephemeral_key |
 *       recipient public key, 32);
 *   wrapped_key | tag = AES-256-GCM(K, nonce, result key,
 *       AAD = the envelope's first 56 bytes: magic .. ta_ephemeral_key).
 * The output descriptor's key_id is the envelope's recipient_id.
 */
struct ts_result_envelope {
	uint32_t magic;             /* TS_RESULT_ENVELOPE_MAGIC */
	uint16_t version;           /* 1 */
	uint16_t envelope_size;     /* 120 */
	uint8_t recipient_id[16];
	uint8_t ta_ephemeral_key[TS_X25519_PUBLIC_SIZE];
	uint8_t nonce[TS_NONCE_SIZE];
	uint32_t reserved;          /* 0 */
	uint8_t wrapped_key[TS_KEY_SIZE];
	uint8_t tag[TS_TAG_SIZE];
};

#define TS_RESULT_ENVELOPE_SIZE 120
#define TS_RESULT_ENVELOPE_AAD_SIZE 56
#define TS_RESULT_WRAP_INFO "teespark/result-wrap/v1"

/* ------------------------------------------------------------------------ */
/* Operator request (RUN_OPERATOR, ABI v3)                                   */
/* ------------------------------------------------------------------------ */

/* Operators (ts_op_request.op) and their inputs / raw output row:
 *   FILTER     1 input, pred = boolean predicate; raw row = input row
 *   PROJECT    1 input, no kernel (proj_count >= 1); raw row = input row
 *   SORT       1 input, key_count >= 1 keys; limit > 0: top-k (ORDER BY
 *              ... LIMIT limit); raw row = input row
 *   LIMIT      1 input, limit rows (first in input order); raw = input row
 *   AGGREGATE  1 input, key_count group keys (0: global), agg_count
 *              aggregates; raw row = ops/op_aggregate.h output row
 *   JOIN       2 inputs, join_kind, key_count key pairs, optional residual
 *              pred over [left | right]; raw row = [left | right] (inner,
 *              left outer) or the left row (semi, anti)
 *   UNION_ALL  2 inputs of the same row size; raw row = input row
 *   DISTINCT   1 input, key_count key columns; raw row = input row
 * With proj_count > 0 the raw rows are projected to out_row_size bytes;
 * else out_row_size must equal the raw row size. */
#define TS_OP_FILTER 1
#define TS_OP_PROJECT 2
#define TS_OP_SORT 3
#define TS_OP_LIMIT 4
#define TS_OP_AGGREGATE 5
#define TS_OP_JOIN 6
#define TS_OP_UNION_ALL 7
#define TS_OP_DISTINCT 8

#define TS_OPMODE_ENCRYPTED 0      /* fast, NOT oblivious */
#define TS_OPMODE_OBLIVIOUS 1

#define TS_OP_IN_PADDED 0x1u       /* in_flags: rows carry a trailing is_real byte */

#define TS_JOIN_INNER 0
#define TS_JOIN_LEFT_OUTER 1
#define TS_JOIN_LEFT_SEMI 2
#define TS_JOIN_LEFT_ANTI 3

#define TS_PK_NONE 0               /* general many-to-many join */
#define TS_PK_LEFT 1               /* left keys unique: PK-FK join */
#define TS_PK_RIGHT 2              /* right keys unique: PK-FK join */

/* Aggregate functions (ts_op_agg.fn). */
#define TS_AGG_COUNT_STAR 1
#define TS_AGG_COUNT 2
#define TS_AGG_SUM 3
#define TS_AGG_MIN 4
#define TS_AGG_MAX 5
#define TS_AGG_AVG 6
#define TS_AGG_COUNT_DISTINCT 7

#define TS_OP_MAX_KEYS 16          /* key_count limit */
#define TS_OP_MAX_AGGS 64
#define TS_OP_MAX_PROJ 256
#define TS_OP_MAX_BODY (1u << 20)  /* body_size limit */
#define TS_OP_NOT_NULLABLE 0xFFFFFFFFu /* ts_op_proj.null_bit: no NULL bit */
#define TS_PADDED_SCHEMA_INFO "teespark/padded-rows/v1"

/*
 * The fixed part of a RUN_OPERATOR request; body_size bytes follow:
 *   key entries   key_count x struct ts_op_key (JOIN: 2 x key_count, the
 *                 left keys then the right keys)
 *   aggregates    agg_count x struct ts_op_agg
 *   predicate     pred_size bytes: an expression program
 *                 (docs/EXPRESSIONS.md) over the raw input row (FILTER) or
 *                 the joined row [left | right] (JOIN residual), zero
 *                 padded to a multiple of 8
 *   projections   proj_count x (struct ts_op_proj | program, zero padded
 *                 to a multiple of 8), programs over the raw output row
 * Unused fields and reserved fields are 0. Input 1 fields are 0 for one-
 * input operators.
 */
struct ts_op_request {
	uint32_t op;                /* TS_OP_* */
	uint32_t mode;              /* TS_OPMODE_* */
	uint32_t in0_key_slot;
	uint32_t in1_key_slot;
	uint32_t in0_flags;         /* TS_OP_IN_* */
	uint32_t in1_flags;
	uint64_t in0_bytes;         /* bytes of param[0] holding input 0 */
	uint8_t in0_schema_hash[32]; /* logical (unpadded) schema hashes */
	uint8_t in1_schema_hash[32];
	uint32_t out_key_slot;
	uint32_t rows_per_block;    /* output block capacity */
	uint32_t out_row_size;      /* logical output row bytes */
	uint32_t body_size;
	uint64_t pad_rows;          /* 0: reveal m; else exact padded row count */
	uint8_t out_table_id[16];
	uint64_t out_table_version;
	uint8_t out_schema_hash[32]; /* logical output schema hash */
	uint64_t limit;             /* SORT top-k / LIMIT */
	uint32_t key_count;
	uint32_t agg_count;
	uint32_t pred_size;         /* bytes of the predicate program, 0: none */
	uint32_t proj_count;
	uint32_t join_kind;         /* TS_JOIN_* */
	uint32_t pk_side;           /* TS_PK_* */
	uint32_t right_null_bits;   /* LEFT OUTER: set null bits 0..n-1 of an
	                             * unmatched right part (its columns) */
	uint32_t reserved;
};

#define TS_OP_REQUEST_SIZE 216

/* A key column (sort, group, distinct or join key); the layout of
 * struct obl_key_spec (ops/key_encode_nulls.h). */
struct ts_op_key {
	uint16_t type;              /* TS_KEY_* */
	uint16_t descending;        /* 0 / 1 (ignored by joins) */
	uint32_t offset;
	uint32_t width;
	uint32_t reserved;          /* 0 */
	uint32_t null_offset;       /* byte of the null bitmap with the flag */
	uint8_t null_bit;           /* 0..7 */
	uint8_t nullable;           /* 0 / 1 */
	uint8_t nulls_first;        /* 0 / 1 */
	uint8_t reserved2;          /* 0 */
};

#define TS_OP_KEY_SIZE 24

/* An aggregate; the layout of struct obl_agg_spec (ops/op_aggregate.h). */
struct ts_op_agg {
	uint16_t fn;                /* TS_AGG_* */
	uint16_t type;              /* TS_KEY_* of the input column (0: COUNT(*)) */
	uint32_t offset;
	uint32_t width;
	uint32_t null_offset;
	uint8_t null_bit;
	uint8_t nullable;
	uint16_t reserved;          /* 0 */
};

#define TS_OP_AGG_SIZE 20

/* One output column of the projection; prog_size program bytes follow. */
struct ts_op_proj {
	uint32_t prog_size;
	uint32_t out_offset;        /* byte offset in the output row */
	uint32_t out_null_bit;      /* bit index in the row, or TS_OP_NOT_NULLABLE */
	uint32_t reserved;          /* 0 */
};

#define TS_OP_PROJ_SIZE 16

/* ------------------------------------------------------------------------ */
/* TA-specific error codes (GP leaves 0x00000001..0xEFFFFFFF to TAs)         */
/* ------------------------------------------------------------------------ */

#define TS_ERROR_BLOCK_FORMAT 0x80010001u   /* malformed header or sizes */
#define TS_ERROR_BLOCK_AUTH 0x80010002u     /* GCM tag check failed */
#define TS_ERROR_BLOCK_SEQUENCE 0x80010003u /* wrong index/count/table/version/schema */
#define TS_ERROR_KEY_SLOT_EMPTY 0x80010004u /* no key in the named slot */
#define TS_ERROR_BAD_REQUEST 0x80010005u    /* invalid ts_sort/export_request */
#define TS_ERROR_MANIFEST_AUTH 0x80010006u  /* descriptor MAC failed (edited or wrong key) */
#define TS_ERROR_TABLE_UNKNOWN 0x80010007u  /* blocks of a table not registered */
#define TS_ERROR_KBS_NOT_PINNED 0x80010008u /* GET_EVIDENCE/IMPORT_KEYS before PIN_KBS_KEY */
#define TS_ERROR_REPLY_SIGNATURE 0x80010009u /* KBS reply not signed by the pinned key */
#define TS_ERROR_REPLY_STALE 0x8001000Au    /* reply does not answer the pending evidence */
#define TS_ERROR_REPLY_FORMAT 0x8001000Bu   /* malformed KBS reply */
#define TS_ERROR_RECIPIENT_UNKNOWN 0x8001000Cu /* recipient not named by the KBS */

/* Operator command errors (RUN_OPERATOR, ABI v3). */
#define TS_ERROR_PAD_OVERFLOW 0x80010020u  /* result rows exceed pad_rows */
#define TS_ERROR_PK_DUPLICATE 0x80010021u  /* PK-FK join: duplicate primary key */

/* ------------------------------------------------------------------------ */
/* External sort (ids 20..23): tables larger than the TA heap                */
/* ------------------------------------------------------------------------ */

/*
 * A job sorts a registered table by streaming it through the TA in runs of
 * run_rows sort records each (docs/LEAKAGE.md, "External sort"):
 *   XSORT_START        fix the job: input table, keys, chunk and run sizes;
 *   XSORT_CHUNK j      j = 0 .. runs-1 in order: input blocks
 *                      [j*c, min((j+1)*c, block_count)) sorted into run j;
 *   XSORT_MERGE_SPLIT  one comparator of a block-level bitonic network over
 *                      the runs (all comparators ascending; pairs with an
 *                      index >= runs are skipped), in the network's order;
 *   XSORT_EMIT         the runs, in order, into the output table.
 * Runs are sealed under a random key the TA draws for the job (it never
 * leaves the TA). A run's blocks carry table_id = the job id (random),
 * table_version = epoch << 32 | run index, block_index 0..blocks_per_run-1,
 * row_size = the sort record size; the TA accepts run i only at its current
 * epoch and bumps the epoch when it writes the run again, so a stale,
 * swapped, replayed or truncated run fails with TS_ERROR_BLOCK_SEQUENCE. The
 * TA also checks every chunk index and comparator against the schedule
 * (a pure function of the run count): anything else is TEE_ERROR_BAD_STATE,
 * and so is any command of a job that is not in the right phase. One job per
 * session; XSORT_START discards the previous one.
 * Sort record: [is_dummy word (0 real, 1 padding) | the request's key words
 * | row, zero padded to 8 bytes]; rec_size = 8 + 8 * key words + row_size
 * rounded up to 8. Run blocks hold TS_XSORT_RUN_BLOCK_BYTES / rec_size
 * records (at most run_rows), the last block of a run fewer.
 */

/*
 * TA_TEESPARK_CMD_XSORT_START - start an external sort job.
 * param[0] (memref, input): struct ts_sort_request: in_key_slot opens the
 *                           input, out_key_slot seals the output, rows_per_block
 *                           of the output, keys, out table id and version;
 *                           schema_hash must be the input table's
 * param[1] (memref, input): the input table's id (16 bytes); the table must
 *                           be registered with in_key_slot
 * param[2] (value, input):  a = c, input blocks per chunk (>= 1),
 *                           b = run_rows, records per run: a power of two
 *                           >= c * the input's rows_per_block
 * param[3] (value, output): a = runs = ceil(block_count / c),
 *                           b = MERGE_SPLIT steps the schedule has
 * Fails with TEE_ERROR_OUT_OF_MEMORY when a merge (2 * run_rows records) or
 * a chunk (run_rows records and one input block) would not fit the heap.
 */
#define TA_TEESPARK_CMD_XSORT_START 20

/*
 * TA_TEESPARK_CMD_XSORT_CHUNK - sort one chunk of the input into a run.
 * param[0] (memref, input):  input blocks j*c .. min((j+1)*c, block_count)-1
 *                            of the registered input table, concatenated
 * param[1] (memref, output): run j (epoch 0), blocks concatenated; on
 *                            TEE_ERROR_SHORT_BUFFER, size = bytes needed
 * param[2] (value, input):   a = j (must be the next chunk), b unused
 * param[3] (value, output):  a = real rows in the chunk, b = run blocks;
 *                            on TS_ERROR_BLOCK_* errors: a = failing block
 *                            index (in the input table)
 */
#define TA_TEESPARK_CMD_XSORT_CHUNK 21

/*
 * TA_TEESPARK_CMD_XSORT_MERGE_SPLIT - one comparator of the merge network:
 * merge runs lo and hi (each sorted) obliviously, reseal the lower run_rows
 * records as run lo and the upper ones as run hi (epochs + 1, fresh nonces).
 * param[0] (memref, input):  run lo's blocks | run hi's blocks (current epochs)
 * param[1] (memref, output): new run lo | new run hi (same size as param[0]);
 *                            on TEE_ERROR_SHORT_BUFFER, size = bytes needed
 * param[2] (value, input):   a = lo, b = hi: the schedule's next comparator
 * param[3] (value, output):  a = steps left after this one;
 *                            on TS_ERROR_BLOCK_* errors: a = failing block
 *                            index within its run, b = 0 (run lo) or 1 (hi)
 */
#define TA_TEESPARK_CMD_XSORT_MERGE_SPLIT 22

/*
 * TA_TEESPARK_CMD_XSORT_EMIT - after the last comparator: write the sorted
 * rows (padding dropped) as the output table and end the job.
 * param[0] (memref, input):  runs 0 .. runs-1 (current epochs), concatenated
 * param[1] (memref, output): struct ts_table_descriptor of the output table
 *                            (MAC under the out slot's key) | sealed output
 *                            blocks; on TEE_ERROR_SHORT_BUFFER, size = bytes
 *                            needed. The output is registered in the session
 *                            with out_key_slot.
 * param[2] unused
 * param[3] (value, output):  a = rows, b = output blocks;
 *                            on TS_ERROR_BLOCK_* errors: a = failing block
 *                            index within its run, b = the run
 */
#define TA_TEESPARK_CMD_XSORT_EMIT 23

#define TS_XSORT_MAX_RUNS 65536
#define TS_XSORT_RUN_BLOCK_BYTES (1u << 20)

/* ------------------------------------------------------------------------ */
/* Streaming aggregate and join (id 13): inputs larger than the TA heap       */
/* ------------------------------------------------------------------------ */

/*
 * TA_TEESPARK_CMD_STREAM - one pass over registered tables, one sealed block
 * at a time, with bounded TA memory (one input and one output block plus a
 * carried state). Every output size is a public function of input sizes
 * and the request (docs/LEAKAGE.md, "Streaming operators"). Modes
 * (request.mode):
 *   WIDEN      inputs 0 and 1 (param[0] = input 0's blocks | input 1's,
 *              in0_bytes splits them): every row becomes one out_row_size
 *              row, all zero but: input 0's row at pk_offset, input 1's at
 *              fk_offset, byte side_offset = 0 (input 0) or 1 (input 1)
 *              unless side_offset = TS_STREAM_NO_SIDE, and
 *              copies[0..copy_count) (width bytes from src0 / src1 of the
 *              input row to dst). The union of two tables.
 *   AGGREGATE  input sorted by the key_count group keys (keys[]; 0 keys:
 *              one group, the whole input): output row i = [flag word |
 *              obl_agg_out_row_size row]: on the last row of each group
 *              flag byte 0 = 1 and the group's aggregates (aggs[],
 *              ops/op_aggregate.h layout, the group's last row as
 *              representative); elsewhere all zero (a dummy).
 *              COUNT_DISTINCT: the input must be sorted by (keys, the
 *              distinct column); every COUNT_DISTINCT entry names the same
 *              column (offset, width, type, null flag); it counts the
 *              group's non-NULL values that differ from the previous
 *              non-NULL value of the group.
 *   JOIN_PKFK  input a WIDEN output sorted by (keys, side byte): side 0 is
 *              the lookup (PK) side, side 1 the probe (FK) side. "Matched":
 *              a side-1 row whose non-NULL keys equal those of the last
 *              side-0 row seen. Output row i = [flag word | input row];
 *              by request.variant:
 *                JOIN_INNER  flag 1 on matched rows, with [pk_offset,
 *                            +pk_size) replaced by that side-0 row's bytes;
 *                            two side-0 rows with equal keys fail with
 *                            TS_ERROR_PK_DUPLICATE;
 *                JOIN_OUTER  flag 1 on every side-1 row; flag byte 1 = 1
 *                            if matched (then replaced as INNER), else
 *                            [pk_offset, +pk_size) zero; duplicates fail
 *                            as INNER;
 *                JOIN_SEMI   flag 1 on matched rows, the row unchanged;
 *                            side-0 keys may repeat;
 *                JOIN_ANTI   flag 1 on side-1 rows not matched (NULL keys
 *                            included), the row unchanged; side-0 keys may
 *                            repeat.
 *              Every other row is all zero (a dummy).
 *   LIMIT      the first `limit` rows, bytes [pk_offset, +out_row_size) of
 *              each (blocks wholly after them are checked, not opened).
 *   MAP        one input; every input row k gives one out_row_size row:
 *              zero, then each projection (body) evaluated over the input
 *              row and written at its out_offset / out_null_bit (no
 *              projections: the input row copied to pk_offset); with
 *              variant & MAP_SEQ the row index k (uint64, little endian)
 *              at aux_offset; with variant & MAP_FLAG bytes [0, 8) are the
 *              flag word: byte 0 = 1 iff the predicate (body; none: TRUE)
 *              is TRUE, and rows whose flag is 0 are all zero (a dummy).
 *              A predicate needs MAP_FLAG. Projection offsets must not
 *              overlap the flag word or the sequence number.
 *   GROUP_COUNT  input a union of two tables (side byte 0 / 1) sorted by
 *              (keys, side byte); the 56-byte annotation of each row is at
 *              aux_offset (struct ts_stream_ann, all zero on input to the
 *              forward pass). A row with a NULL key is a group of its own.
 *              Output: the input rows with their annotations filled in:
 *                GC_FORWARD  idx (the row's index among its side's rows
 *                            in the group), alpha0 (side-1 rows: the
 *                            group's side-0 row count), off (the sum of
 *                            alpha0 * alpha1 over earlier groups); in
 *                            input order. With reveal = 1, param[3].b = m
 *                            = the sum of alpha0 * alpha1 over all groups
 *                            (m >= 2^32 fails with TS_ERROR_BAD_REQUEST).
 *                GC_SECOND   input a GC_FORWARD output sorted by (keys,
 *                            side byte descending, idx descending), so a
 *                            group's side-1 rows come first, the last one
 *                            first; in input order: alpha1 (the group's
 *                            side-1 row count), copies = alpha1 (side 0) /
 *                            alpha0 (side 1), dest = off + idx * copies,
 *                            drop = (copies == 0).
 *   GENERATE   no input (param[0] empty, in0_key_slot 0): 2 x limit rows
 *              of out_row_size, all zero but: side byte = r / limit, the
 *              annotation's dest = r % limit and kind = 1 (filler), for
 *              r = 0 .. 2 x limit - 1.
 *   FILL       input a union of a GC_SECOND output and a GENERATE output
 *              (limit = m) sorted by (drop, side, dest, kind); every row
 *              gives [flag word | row]: a real row (kind 0) becomes the
 *              carried row of its side and a dummy; a filler at dest k of
 *              side s gets flag 1 and the carried row of side s with t = k
 *              - carried dest and the annotation's dest replaced by the
 *              target: k (side 0) or off + t * alpha1 + idx (side 1).
 *              A filler with no carried row of its side or t >= copies, or
 *              fillers that do not cover every copy, fail with
 *              TS_ERROR_BAD_REQUEST (the host gave a wrong m).
 * Row counts: AGGREGATE, JOIN_PKFK, GROUP_COUNT and FILL write one output
 * row per input row, one output block per input block (rows_per_block must
 * be 0); WIDEN, LIMIT, MAP and GENERATE use rows_per_block. Input key
 * slots: in0_key_slot (and in1_key_slot, WIDEN).
 * param[0] (memref, input):  sealed blocks of input 0 (then input 1)
 * param[1] (memref, output): struct ts_table_descriptor | sealed output
 *                            blocks; on TEE_ERROR_SHORT_BUFFER, size = bytes
 *                            needed. Registered with out_key_slot.
 * param[2] (memref, input):  struct ts_stream_request, then (MAP only) the
 *                            body: the predicate program (pred_size bytes,
 *                            zero padded to a multiple of 8) and proj_count
 *                            x (struct ts_op_proj | program, zero padded to
 *                            a multiple of 8), as in RUN_OPERATOR; at most
 *                            TS_OP_MAX_BODY bytes
 * param[3] (value, output):  a = output rows, b = real (flagged) rows if
 *                            request.reveal = 1 (AGGREGATE, JOIN_PKFK,
 *                            MAP with MAP_FLAG), m (GROUP_COUNT forward),
 *                            else 0;
 *                            on TS_ERROR_BLOCK_* errors: a = failing block
 *                            index, b = the input (0 or 1) it belongs to
 */
#define TA_TEESPARK_CMD_STREAM 13

#define TS_STREAM_WIDEN 1
#define TS_STREAM_AGGREGATE 2
#define TS_STREAM_JOIN_PKFK 3
#define TS_STREAM_LIMIT 4
#define TS_STREAM_MAP 5
#define TS_STREAM_GROUP_COUNT 6
#define TS_STREAM_GENERATE 7
#define TS_STREAM_FILL 8

/* request.variant */
#define TS_STREAM_JOIN_INNER 0     /* JOIN_PKFK */
#define TS_STREAM_JOIN_OUTER 1
#define TS_STREAM_JOIN_SEMI 2
#define TS_STREAM_JOIN_ANTI 3
#define TS_STREAM_MAP_FLAG 1u      /* MAP: bit flags */
#define TS_STREAM_MAP_SEQ 2u
#define TS_STREAM_GC_FORWARD 0     /* GROUP_COUNT */
#define TS_STREAM_GC_SECOND 1

#define TS_STREAM_NO_SIDE 0xFFFFFFFFu /* WIDEN side_offset: no side byte */

#define TS_STREAM_MAX_KEYS 8
#define TS_STREAM_MAX_AGGS 16
#define TS_STREAM_MAX_COPIES 8

struct ts_stream_copy {
	uint32_t src0;              /* byte offset in an input 0 row */
	uint32_t src1;              /* byte offset in an input 1 row */
	uint32_t dst;               /* byte offset in the output row */
	uint32_t width;             /* bytes; 0 for unused entries */
};

/* The annotation GROUP_COUNT, GENERATE and FILL keep in each row at
 * aux_offset (little endian, any alignment). */
struct ts_stream_ann {
	uint64_t idx;
	uint64_t alpha0;
	uint64_t off;
	uint64_t alpha1;
	uint64_t dest;              /* FILL output: the target position */
	uint64_t copies;
	uint8_t kind;               /* 0 real row, 1 filler */
	uint8_t drop;               /* 1: a real row with no copies */
	uint8_t reserved[6];        /* 0 */
};

#define TS_STREAM_ANN_SIZE 56

struct ts_stream_request {
	uint32_t mode;              /* TS_STREAM_* */
	uint32_t in0_key_slot;
	uint32_t in1_key_slot;      /* WIDEN only, else 0 */
	uint32_t out_key_slot;
	uint32_t rows_per_block;    /* WIDEN, LIMIT, MAP, GENERATE */
	uint32_t out_row_size;      /* WIDEN, LIMIT, MAP, GENERATE */
	uint32_t key_count;         /* AGGREGATE (may be 0), JOIN_PKFK, GROUP_COUNT */
	uint32_t agg_count;         /* AGGREGATE */
	uint32_t copy_count;        /* WIDEN */
	uint32_t side_offset;       /* WIDEN, JOIN_PKFK, GROUP_COUNT, GENERATE, FILL */
	uint32_t pk_offset;         /* WIDEN, JOIN_PKFK, MAP; LIMIT: first byte kept */
	uint32_t pk_size;           /* JOIN_PKFK */
	uint32_t fk_offset;         /* WIDEN */
	uint32_t reveal;            /* 1 = report real rows / m (see param[3]) */
	uint32_t pred_size;         /* MAP: predicate program bytes, 0 = none */
	uint32_t proj_count;        /* MAP: projections, 0 = copy the row */
	uint64_t in0_bytes;         /* WIDEN: bytes of param[0] of input 0, else 0 */
	uint64_t limit;             /* LIMIT; GENERATE: m */
	uint8_t out_table_id[16];
	uint64_t out_table_version;
	uint32_t variant;           /* JOIN_PKFK, MAP, GROUP_COUNT: see above */
	uint32_t aux_offset;        /* MAP: sequence number; GROUP_COUNT,
	                               GENERATE, FILL: struct ts_stream_ann */
	uint8_t out_schema_hash[32];
	struct ts_op_key keys[TS_STREAM_MAX_KEYS];
	struct ts_op_agg aggs[TS_STREAM_MAX_AGGS];
	struct ts_stream_copy copies[TS_STREAM_MAX_COPIES];
};

#define TS_STREAM_COPY_SIZE 16
#define TS_STREAM_REQUEST_SIZE 784

#endif /* TEESPARK_TA_H */
