# ta/ops/ops.mk - the oblivious kernels (included by enclave/Makefile; paths
# relative to enclave/).
#
#   OPS_OBJS        shipped kernel objects, $(TA_CFLAGS); linked into the TA
#   OPS_TRACE_OBJS  the same sources with -DOBL_TRACE plus the trace digest
#                   (ops/trace.c); for the trace-equality tests only
#   OPS_REF_OBJS    NOT constant-time references (*_ref.c), $(HOST_CFLAGS);
#                   tests only
#   $(BUILD)/lib/libteespark_kernels.so        OPS_OBJS, for Python ctypes tests
#   $(BUILD)/lib/libteespark_kernels_trace.so  OPS_TRACE_OBJS (exports
#                   obl_trace_reset/digest/events)
#
# Kernels include only ../ct.h, ../trace.h, their own header and C standard
# headers, so they build natively here and unchanged in the OP-TEE/iTrustee
# TA (the TA's sub.mk lists the same OPS_NAMES sources; never *_ref.c and
# never trace.c).

OPS_NAMES := key_encode sort_bitonic compact_or scan_prefix scan_segmented
# Relational operators (op_*.c: obl_<op> oblivious, op_<op>_fast encrypted
# mode, NOT oblivious) and the kernels they add (key_encode_nulls,
# obl_expand, fast_sort).
OPS_NAMES += op_common key_encode_nulls fast_sort \
	op_filter op_filter_fast op_aggregate op_aggregate_fast \
	obl_expand op_join_common op_join_pkfk op_join_general op_join_semi \
	op_join_outer op_join_fast op_sort op_limit op_sort_fast \
	op_union_distinct op_union_distinct_fast
OPS_REF_NAMES := sort_bitonic_ref compact_or_ref scan_prefix_ref \
	scan_segmented_ref key_encode_ref

OPS_OBJS := $(OPS_NAMES:%=$(BUILD)/obj/ops/%.o)
OPS_TRACE_OBJS := $(OPS_NAMES:%=$(BUILD)/obj/ops-trace/%.o) \
	$(BUILD)/obj/ops-trace/trace.o
OPS_REF_OBJS := $(OPS_REF_NAMES:%=$(BUILD)/obj/ops-ref/%.o)

OPS_KERNELS_LIB := $(BUILD)/lib/libteespark_kernels.so
OPS_KERNELS_TRACE_LIB := $(BUILD)/lib/libteespark_kernels_trace.so

all: $(OPS_KERNELS_LIB) $(OPS_KERNELS_TRACE_LIB)

$(OPS_OBJS): $(BUILD)/obj/ops/%.o: ta/ops/%.c
	@mkdir -p $(@D)
	$(CC) $(TA_CFLAGS) -MMD -MP -c -o $@ $<

$(OPS_TRACE_OBJS): $(BUILD)/obj/ops-trace/%.o: ta/ops/%.c
	@mkdir -p $(@D)
	$(CC) $(TA_CFLAGS) -DOBL_TRACE -MMD -MP -c -o $@ $<

$(OPS_REF_OBJS): $(BUILD)/obj/ops-ref/%.o: ta/ops/%.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c -o $@ $<

$(OPS_KERNELS_LIB): $(OPS_OBJS)
	@mkdir -p $(@D)
	$(CC) -shared -o $@ $^

$(OPS_KERNELS_TRACE_LIB): $(OPS_TRACE_OBJS)
	@mkdir -p $(@D)
	$(CC) -shared -o $@ $^

-include $(OPS_OBJS:.o=.d) $(OPS_TRACE_OBJS:.o=.d) $(OPS_REF_OBJS:.o=.d)
