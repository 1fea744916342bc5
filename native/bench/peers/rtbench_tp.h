/* LTTng-UST tracepoint provider for the side-by-side benchmark: the same
 * event shapes as the ringtrace cases (three integers and a short string; a
 * span begin/end pair). Built only when liblttng-ust-dev is installed. */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER rtbench

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./rtbench_tp.h"

#if !defined(RTBENCH_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define RTBENCH_TP_H

#include <stdint.h>
#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_EVENT(rtbench, request,
  LTTNG_UST_TP_ARGS(uint32_t, a, uint32_t, b, uint32_t, c, const char *, path),
  LTTNG_UST_TP_FIELDS(
    lttng_ust_field_integer(uint32_t, a, a)
    lttng_ust_field_integer(uint32_t, b, b)
    lttng_ust_field_integer(uint32_t, c, c)
    lttng_ust_field_string(path, path)))

LTTNG_UST_TRACEPOINT_EVENT(rtbench, span_begin,
  LTTNG_UST_TP_ARGS(uint64_t, span_id, uint64_t, parent_id),
  LTTNG_UST_TP_FIELDS(
    lttng_ust_field_integer(uint64_t, span_id, span_id)
    lttng_ust_field_integer(uint64_t, parent_id, parent_id)))

LTTNG_UST_TRACEPOINT_EVENT(rtbench, span_end,
  LTTNG_UST_TP_ARGS(uint64_t, span_id),
  LTTNG_UST_TP_FIELDS(lttng_ust_field_integer(uint64_t, span_id, span_id)))

#endif

#include <lttng/tracepoint-event.h>
