/* Is the cycle counter one clock on every CPU? The check the kernel makes
 * before it trusts the TSC (its tsc_sync), made by the session's creator when
 * the kernel itself keeps another clocksource (a KVM guest on kvm-clock):
 * threads on two CPUs take turns, each reading the counter after seeing the
 * other's read in memory; a read smaller than the one before it means the
 * CPUs' counters disagree by more than the hand-off takes, and then events of
 * different CPUs could not be ordered by their cycles. The first CPU this
 * thread may run on is checked against each other one, within a time budget
 * (a cold path: session creation, once per process). aarch64's counter is
 * architecturally one clock and is not checked. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET */
#endif
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "clock.h"

#if !defined(__aarch64__)
#define TURNS 4000u               /* hand-offs per CPU pair */
#define PAIR_BUDGET_NS 20000000   /* per pair: 20 ms (2 ms when the CPUs are free) */
#define TOTAL_BUDGET_NS 100000000 /* all pairs: 100 ms */
/* Fewer hand-offs prove too little. On busy CPUs each takes a scheduler
 * round (ms): a few still catch counters far apart, which is what breaks the
 * order of events; the per-packet checks (clock_map.h) bound the rest. */
#define MIN_TURNS 8u

struct hand_off {
  uint64_t turn; /* even: side 0 reads next; odd: side 1 */
  uint64_t last; /* the counter as the side that moved last read it */
  uint64_t warps, worst;
  int64_t deadline_ns;
};

struct side {
  struct hand_off *h;
  int cpu;
  unsigned parity;
  int pinned;
};

static void *take_turns(void *arg) {
  struct side *me = arg;
  struct hand_off *h = me->h;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(me->cpu, &set);
  me->pinned = pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
  for (unsigned spins = 0;;) {
    /* Acquire: the other side's read of the counter and its store of `last`
     * happened before its release of `turn` that we see here. */
    uint64_t turn = __atomic_load_n(&h->turn, __ATOMIC_ACQUIRE);
    if (turn >= 2 * TURNS || !me->pinned) break;
    if ((turn & 1) != me->parity) {
      if (++spins % 1024 == 0) {
        if ((int64_t)rt_monotonic_ns() > __atomic_load_n(&h->deadline_ns, __ATOMIC_RELAXED)) break;
        sched_yield(); /* the other side may share our CPU's time with others */
      }
      continue;
    }
    /* Ordered read (`lfence; rdtsc` on x86-64): it executes after the load of
     * `turn` above, so it is later in time than the other side's read. */
    uint64_t now = rt_arch_cycles_ordered();
    if (turn > 0 && now < h->last) {
      h->warps++;
      if (h->last - now > h->worst) h->worst = h->last - now;
    }
    h->last = now;
    /* Release: our read and `last` are visible before the turn passes. */
    __atomic_store_n(&h->turn, turn + 1, __ATOMIC_RELEASE);
  }
  return NULL;
}

/* Hand-offs between `a` and `b`; returns how many were made (-1: could not run). */
static long check_pair(int a, int b, int64_t deadline_ns, uint64_t *warps, uint64_t *worst) {
  struct hand_off h = {.deadline_ns = deadline_ns};
  struct side sa = {&h, a, 0, 0}, sb = {&h, b, 1, 0};
  pthread_t ta, tb;
  if (pthread_create(&ta, NULL, take_turns, &sa)) return -1;
  if (pthread_create(&tb, NULL, take_turns, &sb)) {
    __atomic_store_n(&h.deadline_ns, 0, __ATOMIC_RELAXED);
    pthread_join(ta, NULL);
    return -1;
  }
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  if (!sa.pinned || !sb.pinned) return -1;
  *warps = h.warps;
  *worst = h.worst;
  return (long)(h.turn / 2);
}

#endif

static int check_all(char *why, size_t whylen);

/* Once per process: the answer does not change, and creating many sessions
 * (tests, tools) should not pay for it each time. */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int answer;
static char answer_why[160];
static void check_once(void) { answer = check_all(answer_why, sizeof answer_why); }

int rt_cycles_synchronized(char *why, size_t whylen) {
  pthread_once(&once, check_once);
  snprintf(why, whylen, "%s", answer_why);
  return answer;
}

static int check_all(char *why, size_t whylen) {
#if defined(__aarch64__)
  snprintf(why, whylen, "the generic timer's virtual counter is one clock on every CPU");
  return 1;
#else
  /* Every CPU of the machine, not only this thread's: an app pinned
   * elsewhere writes with another CPU's counter. A CPU we may not run on
   * (a cpuset) cannot be checked and is skipped. */
  long n_cpus = sysconf(_SC_NPROCESSORS_CONF);
  if (n_cpus > CPU_SETSIZE) n_cpus = CPU_SETSIZE;
  int first = -1, checked = 0;
  long total = 0;
  int64_t end = (int64_t)rt_monotonic_ns() + TOTAL_BUDGET_NS;
  cpu_set_t mine; /* the reference: the first CPU this thread may run on */
  if (sched_getaffinity(0, sizeof mine, &mine) == 0)
    for (int cpu = 0; cpu < CPU_SETSIZE && first < 0; cpu++)
      if (CPU_ISSET(cpu, &mine)) first = cpu;
  if (first < 0) {
    snprintf(why, whylen, "cannot read this thread's CPUs to check them");
    return 0;
  }
  for (int cpu = 0; cpu < n_cpus; cpu++) {
    if (cpu == first) continue;
    int64_t now = (int64_t)rt_monotonic_ns();
    if (now > end) break; /* budget spent: the CPUs checked so far speak for the rest */
    uint64_t warps = 0, worst = 0;
    long turns = check_pair(first, cpu, now + PAIR_BUDGET_NS, &warps, &worst);
    if (turns < 0) continue; /* not a CPU we can run on after all */
    if (warps) {
      snprintf(why, whylen, "CPUs %d and %d disagree: %llu of %ld reads were behind the other CPU's, by up to %llu cycles",
               first, cpu, (unsigned long long)warps, turns, (unsigned long long)worst);
      return 0;
    }
    if ((unsigned long)turns < MIN_TURNS) {
      snprintf(why, whylen, "could not check CPUs %d and %d against each other (only %ld hand-offs: busy?)", first,
               cpu, turns);
      return 0;
    }
    checked++;
    total += turns;
  }
  if (checked == 0)
    snprintf(why, whylen, "one CPU: nothing to compare");
  else
    snprintf(why, whylen, "CPU %d agreed with %d other CPU%s in a cross-CPU check (%ld hand-offs)", first, checked,
             checked == 1 ? "" : "s", total);
  return 1;
#endif
}
