# sub.mk - sources of the teespark TA for the OP-TEE TA dev kit (and the
# iTrustee branch of ta/Makefile, which includes this file for its list).
# Every TA source is listed here, one per line; the simulator build
# (ta_sim.mk) checks that this list and its own agree (ta-submk-check).
# Never *_ref.c (NOT constant-time references) nor ops/trace.c (trace build).

global-incdirs-y += include

srcs-y += entry.c
srcs-y += key_slots.c
srcs-y += crypto/block_gcm.c
srcs-y += crypto/sealing_key.c
srcs-y += cmd/block_list.c
srcs-y += cmd/cmd_util.c
srcs-y += cmd/cmd_info.c
srcs-y += cmd/cmd_keys.c
srcs-y += cmd/cmd_reseal_blocks.c
srcs-y += cmd/cmd_sort_blocks.c

# The oblivious kernels (ops/ops.mk OPS_NAMES).
srcs-y += ops/key_encode.c
srcs-y += ops/sort_bitonic.c
srcs-y += ops/compact_or.c
srcs-y += ops/scan_prefix.c
srcs-y += ops/scan_segmented.c
