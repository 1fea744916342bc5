/* Test hooks of the native core: points where a test can run code (e.g. a
 * live writer's reserve and commit) in the middle of a consumer operation,
 * or check what a recorder sees halfway through a producer's, to prove a
 * race is closed or an order kept. They exist only when the library is compiled
 * with -DRT_TEST_HOOKS (native/Makefile builds that copy for the tests that
 * use it); everywhere else RT_TEST_POINT compiles to nothing. */
#ifndef RINGTRACE_RING_TEST_HOOKS_H
#define RINGTRACE_RING_TEST_HOOKS_H

#include <stdint.h>

enum rt_test_point {
  /* rt_consumer_salvage: the commit counters have been read for the snapshot,
   * the write offset not yet read again. */
  RT_TEST_SALVAGE_COUNTERS_READ = 1,
  /* rt_consumer_salvage: the snapshot is taken; nothing decided yet. */
  RT_TEST_SALVAGE_SNAPSHOT_TAKEN = 2,
  /* rt_snapshot_request: its record is committed, the request not yet
   * counted in the session header. */
  RT_TEST_SNAPSHOT_RECORDED = 3,
};

#ifdef RT_TEST_HOOKS
#ifdef __cplusplus
extern "C" {
#endif
extern void (*rt_test_hook)(enum rt_test_point point, uint32_t ring);
/* Added to every cycle-counter reading a producer of this process makes (its
 * records' timestamps and its packets' clock pairs): a test jumps it forward
 * or back, or holds the sum still, as a VM's restore or migration would. */
extern int64_t rt_test_cycles_offset;
#ifdef __cplusplus
}
#endif
#define RT_TEST_CYCLES(c) ((c) + (uint64_t)__atomic_load_n(&rt_test_cycles_offset, __ATOMIC_RELAXED))
#define RT_TEST_POINT(point, ring)              \
  do {                                          \
    if (rt_test_hook) rt_test_hook(point, ring); \
  } while (0)
#else
#define RT_TEST_POINT(point, ring) ((void)0)
#define RT_TEST_CYCLES(c) (c)
#endif

#endif
