/* Which producer path a test run exercises. The tests that record run twice,
 * on the rseq rings and on the atomic fallback (glibc's rseq disabled with
 * GLIBC_TUNABLES=glibc.pthread.rseq=0), and each run names the path it means
 * to test in RINGTRACE_TEST_EXPECT_RSEQ (1 or 0). A run on the other path
 * fails: a fallback run that silently used rseq (the tunable misspelled or
 * ignored), or an rseq run that silently fell back (rseq not registered),
 * would pass while testing something else. */
#ifndef RINGTRACE_TEST_MODE_H
#define RINGTRACE_TEST_MODE_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "rseq.h"
#include "session.h"

static inline int expected_rseq(void) {
  static int expected = -1; /* read once: verifiers ask per record */
  if (expected >= 0) return expected;
  const char *v = getenv("RINGTRACE_TEST_EXPECT_RSEQ");
  if (v && (!strcmp(v, "1") || !strcmp(v, "0"))) return expected = v[0] == '1';
  fprintf(stderr, "FAIL: set RINGTRACE_TEST_EXPECT_RSEQ=1 (test the rseq rings) or 0 (test the "
                  "atomic fallback, with GLIBC_TUNABLES=glibc.pthread.rseq=0)\n");
  exit(2);
}

/* Read from glibc's and the kernel's state, not from the library's decision:
 * glibc exports a registered area's size (0 when it did not register), and the
 * kernel keeps the calling thread's CPU number in it (negative if unregistered). */
static inline int thread_has_rseq(void) {
  return __rseq_size >= 20 && rt_rseq_area()->cpu_id >= 0;
}

static inline const char *rseq_mode_name(int rseq) { return rseq ? "rseq" : "atomic fallback"; }

/* This thread and the session handle are on the expected path; and, when
 * RINGTRACE_TEST_EXPECT_CPUS is set (a run that simulates a bigger machine,
 * native/Makefile's test-many-cpus), the session has that many CPUs. */
static inline void require_expected_mode(const struct rt_session *s) {
  const char *cpus = getenv("RINGTRACE_TEST_EXPECT_CPUS");
  if (cpus && *cpus)
    REQUIRE(s->n_cpus == (uint32_t)strtoul(cpus, NULL, 10), "this run expects %s CPUs, the session has %u",
            cpus, s->n_cpus);
  int want = expected_rseq();
  REQUIRE(thread_has_rseq() == want, "this run expects %s, but rseq is %s for this thread "
          "(__rseq_size %u)", rseq_mode_name(want),
          thread_has_rseq() ? "registered" : "not registered", (unsigned)__rseq_size);
  REQUIRE(!!s->use_rseq == want, "this run expects %s, but the session uses %s",
          rseq_mode_name(want), rseq_mode_name(s->use_rseq));
}

/* Rings 0..n_cpus-1 are the rseq rings, the rest the atomic ones: the ring a
 * record was found in shows which path wrote it. */
static inline int ring_is_rseq(const struct rt_session *s, uint32_t ring) {
  return ring < s->n_cpus;
}
#endif
