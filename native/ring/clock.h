/* The session clock: raw cycles where they are invariant, else CLOCK_MONOTONIC.
 * Read before the reserve's compare-and-store, which keeps each ring in
 * timestamp order; on the rseq rings the cycle counter is read inside that
 * section (rseq_*.h), clock_gettime (a call) just before it. */
#ifndef RINGTRACE_RING_CLOCK_H
#define RINGTRACE_RING_CLOCK_H

#include <stdint.h>
#include <time.h>
#include "layout.h"
#include "rseq.h"

static inline uint64_t rt_monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Unordered read (calibration, benchmarks). */
static inline uint64_t rt_clock_read(uint32_t kind) {
  if (__builtin_expect(kind == RT_CLOCK_CYCLES, 1)) return rt_arch_cycles();
  return rt_monotonic_ns();
}
/* Ordered after earlier loads: for rings any CPU writes (atomic rings). */
static inline uint64_t rt_clock_read_ordered(uint32_t kind) {
  if (__builtin_expect(kind == RT_CLOCK_CYCLES, 1)) return rt_arch_cycles_ordered();
  return rt_monotonic_ns();
}

/* The cycle counter and CLOCK_MONOTONIC at one instant: the counter read on
 * both sides of clock_gettime, the midpoint kept (a preemption in between
 * only widens the error, never changes the order). Producers' slow path (once
 * per sub-buffer) and the consumer. */
static inline void rt_clock_pair(uint64_t *cycles, uint64_t *ns) {
  uint64_t before = rt_arch_cycles_ordered();
  *ns = rt_monotonic_ns();
  uint64_t after = rt_arch_cycles_ordered();
  *cycles = before + (after - before) / 2;
}

#ifdef __cplusplus
extern "C" {
#endif
/* Decide the clock for a new session and calibrate it (clock.c). */
struct rt_clock_desc {
  uint32_t kind;
  uint64_t freq_hz;
  uint64_t ref_ticks;
  int64_t ref_realtime_ns;
  int64_t monotonic_ref_ns, monotonic_ref_realtime_ns;
  char why[200]; /* why this clock, for doctor */
};
int rt_clock_choose(uint32_t requested, struct rt_clock_desc *out, char *err, size_t errlen);
/* Cross-CPU check of the cycle counter (clock_sync.c): threads on pairs of CPUs
 * take turns reading it; a read that comes after another CPU's, in memory
 * order, must not be smaller. 1: consistent; 0: not (why in `why`). */
int rt_cycles_synchronized(char *why, size_t whylen);
#ifdef __cplusplus
}
#endif

#endif
