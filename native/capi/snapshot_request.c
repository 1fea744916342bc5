/* rt_snapshot_request: a C program asks the flight recorder for a snapshot,
 * as JavaScript's snapshot() does (src/snapshot.ts): a
 * ringtrace:snapshot_request record (reason, calls folded into it) from the
 * calling thread, then, once it is committed, one more in the session
 * header's snapshot_requests (native/ring/trigger.h), at most one request
 * per 100 ms per process. */
#include "capi.h"
#include "test_hooks.h"
#include "trigger.h"

/* The library's own class (describe.c lets it use the reserved provider);
 * the same description as the JavaScript API's, so one class in the trace. */
RT_EVENT(ringtrace, snapshot_request, RT_FIELD(string, reason), RT_FIELD(u64, folded))

int rt_capi_own_class(const struct rt_class *cls) { return cls == &rt_class__ringtrace__snapshot_request; }

int rt_snapshot_request(const char *reason) {
  /* Attached (the library's own provider is recorded whatever the session's
   * selection): otherwise nothing, not even a place in the rate limit. */
  if (!rt_enabled(ringtrace, snapshot_request)) return 0;
  int64_t folded = rt_trigger_permit(0);
  if (folded < 0) return 0;
  rt_trace(ringtrace, snapshot_request, reason, (uint64_t)folded);
  /* The thread's attachment, which the record just went to: it stays
   * allocated while this thread's context points to it; retired meanwhile,
   * its mapping is private memory and the add lands there, harmlessly. */
  struct rt_attachment *a = rt_capi_thread.att;
  RT_TEST_POINT(RT_TEST_SNAPSHOT_RECORDED, 0);
  if (a && a->s) rt_trigger_publish(a->s);
  return 1;
}
