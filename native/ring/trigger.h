/* The app side of the flight recorder's triggers: an app asks for a snapshot
 * by recording a ringtrace:snapshot_request event and then adding one to the
 * session header's snapshot_requests, which the recorder watches. Both the
 * addon (JavaScript snapshot()) and the C API (rt_snapshot_request) go
 * through here. An error loop must not flood the recorder, so requests are
 * limited per process: at most one per RT_SNAPSHOT_INTERVAL_NS; calls within
 * that interval are folded into the next request, whose record counts them. */
#ifndef RINGTRACE_RING_TRIGGER_H
#define RINGTRACE_RING_TRIGGER_H

#include <stdint.h>
#include "session.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RT_SNAPSHOT_INTERVAL_NS 100000000ull /* 100 ms */

/* May this process make a request now (CLOCK_MONOTONIC_COARSE)? Returns -1
 * if not (the call is counted, to be reported by the next request), else the
 * number of calls folded since the previous request, which the request's
 * record carries. `force`: make it whatever the interval (a process about to
 * die makes no later request). Any thread; lock-free. */
int64_t rt_trigger_permit(int force);
/* The same at time `now_ns` (tests). */
int64_t rt_trigger_permit_at(uint64_t now_ns, int force);
/* Publish a request whose record the calling thread has committed. */
void rt_trigger_publish(const struct rt_session *s);
/* Requests published so far (the recorder's side). */
uint64_t rt_trigger_count(const struct rt_session *s);

#ifdef __cplusplus
}
#endif
#endif
