/* Snapshot requests: the per-process rate limit and the header's counter
 * (see trigger.h). */
#include <time.h>
#include "trigger.h"

/* Per process (the addon is loaded once per process, whatever the number of
 * worker threads; a C program links one copy of the library). */
static uint64_t g_last_ns; /* when the last request was permitted; 0: never */
static uint64_t g_folded;  /* calls refused since then */

int64_t rt_trigger_permit_at(uint64_t now_ns, int force) {
  /* Relaxed throughout: these words order nothing but themselves. The
   * compare-and-swap elects one caller per interval; a call refused while
   * another thread takes its folded count is reported by the request after.
   * The signed difference also refuses a call whose clock read is older than
   * the one another thread just stored. */
  uint64_t last = __atomic_load_n(&g_last_ns, __ATOMIC_RELAXED);
  if (force) {
    __atomic_store_n(&g_last_ns, now_ns, __ATOMIC_RELAXED);
  } else if ((last != 0 && (int64_t)(now_ns - last) < (int64_t)RT_SNAPSHOT_INTERVAL_NS) ||
             !__atomic_compare_exchange_n(&g_last_ns, &last, now_ns, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    __atomic_fetch_add(&g_folded, 1, __ATOMIC_RELAXED);
    return -1;
  }
  uint64_t folded = __atomic_exchange_n(&g_folded, 0, __ATOMIC_RELAXED);
  return folded > INT64_MAX ? INT64_MAX : (int64_t)folded;
}

int64_t rt_trigger_permit(int force) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* vDSO: no system call; a few ms of resolution is plenty */
  uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  return rt_trigger_permit_at(now ? now : 1, force);
}

void rt_trigger_publish(const struct rt_session *s) {
  /* Release: the request's record, committed by this thread before this
   * call (its bytes and its commit count), is visible to a recorder that
   * reads the new count with acquire (rt_trigger_count) and then the ring. */
  __atomic_fetch_add(&s->hdr->snapshot_requests, 1, __ATOMIC_RELEASE);
}

uint64_t rt_trigger_count(const struct rt_session *s) {
  return __atomic_load_n(&s->hdr->snapshot_requests, __ATOMIC_ACQUIRE);
}
