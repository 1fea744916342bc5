/* Producer slow paths: the atomic rings used by threads without rseq, and
 * oversized records. Correct on any CPU at any time, at the price of locked
 * instructions (~10 ns per event instead of ~1.5 ns for the rseq mechanism). */
#include <sched.h>
#include "producer.h"

/* Atomic rings are never written by rseq sections (mixing a plain rseq store
 * and a CAS on one word would lose updates), so any thread may CAS here. */
int rt_reserve_atomic(const struct rt_session *s, uint32_t id, uint32_t size,
                      struct rt_reservation *r) {
  int cpu = sched_getcpu(); /* only picks a ring near us; correctness does not need it */
  uint32_t ring_idx = s->n_cpus + (uint32_t)(cpu < 0 ? 0 : cpu) % s->n_cpus;
  struct rt_ring_ctl *ring = &s->rings[ring_idx];
  uint32_t stride = rt_record_stride(size);
  uint64_t old = __atomic_load_n(&ring->write_off, __ATOMIC_RELAXED);
  for (;;) {
    /* Clock after the offset read, CAS after the clock: a CAS that succeeds saw
     * no reservation since our read, so every later reservation reads the clock
     * after ours. (Relies on synchronized invariant TSCs across CPUs; the stress
     * test checks per-ring monotonicity on this path too.) */
    uint64_t ts = rt_clock_read(s->clock_kind);
    uint64_t consumed = __atomic_load_n(&ring->consumed_off, __ATOMIC_ACQUIRE);
    if (consumed > old) { /* stale offset: the consumer is already past it */
      old = __atomic_load_n(&ring->write_off, __ATOMIC_RELAXED);
      continue;
    }
    struct rt_plan p;
    rt_plan_reservation(s, old, stride, &p);
    if (p.end - consumed > s->ring_size) {
      __atomic_fetch_add(&ring->lost_remote, 1, __ATOMIC_RELAXED);
      return RT_DISCARDED_FULL;
    }
    /* On failure `old` is reloaded and we plan again. Acquire on success is not
     * needed for the data (commits publish it); relaxed keeps it cheap. */
    if (__atomic_compare_exchange_n(&ring->write_off, &old, p.end, 0, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED)) {
      rt_finish_reserve(s, ring_idx, -1, &p, ts, id, size, stride, r);
      return RT_RESERVED;
    }
  }
}

int rt_discard_oversized(const struct rt_session *s) {
  int cpu = sched_getcpu();
  struct rt_ring_ctl *ring = &s->rings[(uint32_t)(cpu < 0 ? 0 : cpu) % s->n_cpus];
  __atomic_fetch_add(&ring->lost_remote, 1, __ATOMIC_RELAXED);
  return RT_DISCARDED_SIZE;
}
