/* Instantiates the LTTng-UST probes of rtbench_tp.h. */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "rtbench_tp.h"
