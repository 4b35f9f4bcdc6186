# sub.mk - sources of the teespark TA for the OP-TEE TA dev kit (and the
# iTrustee branch of ta/Makefile, which includes this file for its list).
# Every TA source is listed here, one per line; the simulator build
# (ta_sim.mk) checks that this list and its own agree (ta-submk-check).
# Never *_ref.c (NOT constant-time references) nor ops/trace.c (trace build).

global-incdirs-y += include

srcs-y += entry.c
srcs-y += key_slots.c
srcs-y += table_registry.c
srcs-y += attestation.c
srcs-y += crypto/block_gcm.c
srcs-y += crypto/sealing_key.c
srcs-y += crypto/sha256.c
srcs-y += crypto/hkdf.c
srcs-y += crypto/x25519.c
srcs-y += crypto/ed25519.c
srcs-y += crypto/key_wrap.c
srcs-y += crypto/descriptor_mac.c
srcs-y += cmd/block_list.c
srcs-y += cmd/cmd_util.c
srcs-y += cmd/cmd_info.c
srcs-y += cmd/cmd_keys.c
srcs-y += cmd/cmd_reseal_blocks.c
srcs-y += cmd/cmd_sort_blocks.c
srcs-y += cmd/cmd_attest.c
srcs-y += cmd/cmd_import_keys.c
srcs-y += cmd/cmd_register_table.c
srcs-y += cmd/cmd_export_result.c
srcs-y += cmd/output_table.c
# External sort (XSORT_*, ids 20..23).
srcs-y += cmd/cmd_external_sort.c
srcs-y += cmd/cmd_merge_split.c
srcs-y += cmd/cmd_merge_runs.c
srcs-y += cmd/cmd_operator.c
srcs-y += cmd/cmd_operator_run.c
# Streaming aggregate and join (STREAM, id 13).
srcs-y += cmd/cmd_stream.c
srcs-y += cmd/cmd_stream_map.c
srcs-y += cmd/cmd_stream_expand.c

# The oblivious kernels (ops/ops.mk OPS_NAMES).
srcs-y += ops/key_encode.c
srcs-y += ops/sort_bitonic.c
srcs-y += ops/compact_or.c
srcs-y += ops/scan_prefix.c
srcs-y += ops/scan_segmented.c

# Relational operators and the kernels they add (ops/ops.mk).
srcs-y += ops/fast_sort.c
srcs-y += ops/key_encode_nulls.c
srcs-y += ops/obl_expand.c
srcs-y += ops/op_aggregate.c
srcs-y += ops/op_aggregate_fast.c
srcs-y += ops/op_common.c
srcs-y += ops/op_filter.c
srcs-y += ops/op_filter_fast.c
srcs-y += ops/op_join_common.c
srcs-y += ops/op_join_fast.c
srcs-y += ops/op_join_general.c
srcs-y += ops/op_join_outer.c
srcs-y += ops/op_join_pkfk.c
srcs-y += ops/op_join_semi.c
srcs-y += ops/op_limit.c
srcs-y += ops/op_sort.c
srcs-y += ops/op_sort_fast.c
srcs-y += ops/op_union_distinct.c
srcs-y += ops/op_union_distinct_fast.c

# Expression evaluation (expr/).
srcs-y += expr/expr_cast.c
srcs-y += expr/expr_eval.c
srcs-y += expr/expr_ops_dec.c
srcs-y += expr/expr_ops_num.c
srcs-y += expr/expr_ops_str.c
srcs-y += expr/expr_output.c
srcs-y += expr/expr_validate.c
