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
#define TA_TEESPARK_ABI_VERSION 2

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

#endif /* TEESPARK_TA_H */
