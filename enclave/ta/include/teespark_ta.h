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
#define TA_TEESPARK_ABI_VERSION 1

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
 * param[0] (memref, input):  sealed input blocks, concatenated (struct
 *                            ts_block_header + ciphertext + tag, each)
 * param[1] (memref, output): sealed output blocks, same count and row layout,
 *                            header fields copied except nonce; on
 *                            TEE_ERROR_SHORT_BUFFER, size = bytes needed
 * param[2] (value, input):   a = input key slot, b = output key slot
 * param[3] (value, output):  a = microseconds spent opening,
 *                            b = microseconds spent sealing;
 *                            on TS_ERROR_BLOCK_* errors: a = failing block index
 */
#define TA_TEESPARK_CMD_RESEAL_BLOCKS 4

/*
 * TA_TEESPARK_CMD_SORT_BLOCKS - open sealed blocks, sort all their rows by
 * the key columns of the request with an oblivious sorting network, and seal
 * the sorted rows into new blocks with fresh nonces.
 * Reveals to the host: block count, row count, row size, output block count
 * (all determined by the input's public sizes and rows_per_block).
 * param[0] (memref, input):  sealed input blocks, concatenated; block i must
 *                            carry block_index i and block_count = count given
 * param[1] (memref, output): sealed output blocks; on TEE_ERROR_SHORT_BUFFER,
 *                            size = bytes needed
 * param[2] (memref, input):  struct ts_sort_request
 * param[3] (value, output):  a = total rows, b = output blocks written;
 *                            on TS_ERROR_BLOCK_* errors: a = failing block index
 */
#define TA_TEESPARK_CMD_SORT_BLOCKS 5

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
/* TA-specific error codes (GP leaves 0x00000001..0xEFFFFFFF to TAs)         */
/* ------------------------------------------------------------------------ */

#define TS_ERROR_BLOCK_FORMAT 0x80010001u   /* malformed header or sizes */
#define TS_ERROR_BLOCK_AUTH 0x80010002u     /* GCM tag check failed */
#define TS_ERROR_BLOCK_SEQUENCE 0x80010003u /* wrong index/count/table/version/schema */
#define TS_ERROR_KEY_SLOT_EMPTY 0x80010004u /* no key in the named slot */
#define TS_ERROR_BAD_REQUEST 0x80010005u    /* invalid ts_sort_request */

#endif /* TEESPARK_TA_H */
