/* Access to the rseq area glibc registered for this thread, and dispatch to the
 * architecture's critical sections. We never register an rseq area ourselves:
 * glibc >= 2.35 does it for every thread and exports where it lives. */
#ifndef RINGTRACE_RING_RSEQ_H
#define RINGTRACE_RING_RSEQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/rseq.h> /* __rseq_offset, __rseq_size (glibc >= 2.35) */

/* The kernel ABI prefix of struct rseq we use (stable since Linux 4.18). Our own
 * view, so we do not depend on which kernel headers declared the struct. */
struct rt_rseq_abi {
  uint32_t cpu_id_start;
  int32_t cpu_id; /* < 0: not registered (-1) or registration failed (-2) */
  uint64_t rseq_cs;
  uint32_t flags;
};

/* Outcome of one critical section attempt. */
enum rt_rseq_result {
  RT_RSEQ_OK = 0,       /* the commit store happened */
  RT_RSEQ_CHANGED = 1,  /* compare failed: the word moved since we read it */
  RT_RSEQ_MISMATCH = 2, /* we are not on the CPU we planned for */
  RT_RSEQ_ABORTED = 3,  /* the kernel aborted the section (preempt, signal, migration) */
};

static inline struct rt_rseq_abi *rt_rseq_area(void) {
  return (struct rt_rseq_abi *)((char *)__builtin_thread_pointer() + __rseq_offset);
}

/* True when glibc registered rseq for this process (it may be disabled with
 * GLIBC_TUNABLES=glibc.pthread.rseq=0 or refused by the kernel). Per thread, the
 * fast path still checks cpu_id >= 0 on each call. */
static inline int rt_rseq_available(void) {
  return __rseq_size >= 20 && rt_rseq_area()->cpu_id >= 0;
}

#if defined(__x86_64__)
#include "rseq_x86_64.h"
#elif defined(__aarch64__)
#include "rseq_aarch64.h"
#else
#error "ringtrace supports x86-64 and aarch64"
#endif

#endif
