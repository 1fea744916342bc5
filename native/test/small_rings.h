/* What the dead-writer tests (test_salvage, test_abandon) share: a small
 * session (4 sub-buffers of 4 KiB: 100 records of 40 bytes fill one), records
 * numbered in order, and the ring CPU 0's writers use. Each run names its
 * producer path (mode.h). */
#ifndef RINGTRACE_TEST_SMALL_RINGS_H
#define RINGTRACE_TEST_SMALL_RINGS_H
#include <string.h>
#include "check.h"
#include "mode.h"
#include "util.h"

#define PAYLOAD 24 /* 40-byte records: 100 fill a 4 KiB sub-buffer (4 088 bytes with its header) */

static inline struct rt_session *small_session(const char *tag) {
  char name[64], err[256];
  struct rt_session *s;
  test_session_name(name, sizeof name, tag);
  struct rt_session_options o = {.sub_size = 4096, .n_sub = 4};
  REQUIRE(rt_session_create(name, &o, &s, err, sizeof err) == 0, "%s", err);
  rt_session_unlink(name, err, sizeof err);
  require_expected_mode(s);
  return s;
}

/* The ring a thread pinned to CPU 0 writes: its rseq ring, or the fallback's. */
static inline uint32_t ring_of_cpu0(const struct rt_session *s) { return s->use_rseq ? 0 : s->n_cpus; }

/* n records of class 1, each carrying the next number of `seq`. */
static uint64_t seq;
static inline void emit(const struct rt_session *s, int n) {
  uint8_t buf[PAYLOAD] = {0};
  for (int i = 0; i < n; i++) {
    memcpy(buf, &seq, 8);
    seq++;
    CHECK(rt_emit(s, 1, buf, PAYLOAD) == RT_RESERVED, "emit");
  }
}

static inline uint64_t lost(const struct rt_session *s) {
  struct rt_ring_stats st;
  rt_ring_stats_read(s, ring_of_cpu0(s), &st);
  return st.lost;
}
#endif
