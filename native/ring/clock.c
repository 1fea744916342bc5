/* Choosing and calibrating the session clock (cold path, at session creation). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "clock.h"

static int64_t clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Pair a tick reading with a reading of `id`, bracketing the tick read between
 * two clock reads and keeping the tightest of several tries. */
static void sample_pair(uint32_t kind, clockid_t id, uint64_t *ticks, int64_t *ns) {
  int64_t best = INT64_MAX;
  *ticks = 0;
  *ns = 0;
  for (int i = 0; i < 16; i++) {
    int64_t a = clock_ns(id);
    uint64_t t = rt_clock_read(kind);
    int64_t b = clock_ns(id);
    if (b - a < best) {
      best = b - a;
      *ticks = t;
      *ns = a + (b - a) / 2;
    }
  }
}

#if defined(__x86_64__)
static int file_contains(const char *path, const char *needle) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  char line[4096];
  int found = 0;
  while (!found && fgets(line, sizeof line, f)) found = strstr(line, needle) != NULL;
  fclose(f);
  return found;
}

/* Raw TSC is usable as a trace clock if it is invariant (constant rate, runs
 * in every C-state) and one clock across CPUs: the kernel says so by using it
 * as its clocksource; where it keeps another (kvm-clock), our own cross-CPU
 * check decides. Its rate is not trusted beyond one packet: the consumer maps
 * each packet's cycles to CLOCK_MONOTONIC from pairs read at both ends
 * (clock_map.h), so drift, a jump or a stall is bounded and reported. */
static int cycles_usable(char *why, size_t whylen) {
  if (!file_contains("/proc/cpuinfo", " constant_tsc") || !file_contains("/proc/cpuinfo", " nonstop_tsc")) {
    snprintf(why, whylen, "the TSC is not invariant (no constant_tsc and nonstop_tsc in /proc/cpuinfo)");
    return 0;
  }
  if (file_contains("/sys/devices/system/clocksource/clocksource0/current_clocksource", "tsc")) {
    snprintf(why, whylen, "invariant TSC, the kernel's own clocksource");
    return 1;
  }
  char sync[120];
  if (!rt_cycles_synchronized(sync, sizeof sync)) {
    snprintf(why, whylen, "invariant TSC, but %.119s", sync);
    return 0;
  }
  snprintf(why, whylen, "invariant TSC (the kernel keeps another clocksource; %.119s)", sync);
  return 1;
}

static uint64_t cycles_freq(void) {
  uint64_t t0 = 0, t1 = 0;
  int64_t n0 = 0, n1 = 0;
  sample_pair(RT_CLOCK_CYCLES, CLOCK_MONOTONIC_RAW, &t0, &n0);
  struct timespec pause = {0, 20 * 1000 * 1000};
  nanosleep(&pause, NULL);
  sample_pair(RT_CLOCK_CYCLES, CLOCK_MONOTONIC_RAW, &t1, &n1);
  return (uint64_t)((double)(t1 - t0) * 1e9 / (double)(n1 - n0) + 0.5);
}
#elif defined(__aarch64__)
static int cycles_usable(char *why, size_t whylen) {
  snprintf(why, whylen, "the generic timer's virtual counter");
  return 1;
}
static uint64_t cycles_freq(void) {
  uint64_t f;
  __asm__ __volatile__("mrs %0, cntfrq_el0" : "=r"(f));
  return f;
}
#endif

int rt_clock_choose(uint32_t requested, struct rt_clock_desc *out, char *err, size_t errlen) {
  char why[200] = "";
  const char *asked = "";
  if (requested == 0) {
    const char *env = getenv("RINGTRACE_CLOCK");
    if (!env || !*env || !strcmp(env, "auto")) {
      requested = cycles_usable(why, sizeof why) ? RT_CLOCK_CYCLES : RT_CLOCK_MONOTONIC;
    } else if (!strcmp(env, "cycles")) {
      requested = RT_CLOCK_CYCLES;
      asked = "RINGTRACE_CLOCK=cycles; ";
    } else if (!strcmp(env, "monotonic")) {
      requested = RT_CLOCK_MONOTONIC;
      snprintf(why, sizeof why, "RINGTRACE_CLOCK=monotonic");
    } else {
      snprintf(err, errlen, "RINGTRACE_CLOCK=%s: expected auto, cycles or monotonic", env);
      return -1;
    }
  } else if (requested == RT_CLOCK_MONOTONIC) {
    snprintf(why, sizeof why, "asked for by the session's creator");
  } else if (requested == RT_CLOCK_CYCLES) {
    asked = "asked for by the session's creator; ";
  }
  if (requested == RT_CLOCK_CYCLES && !why[0] && !cycles_usable(why, sizeof why)) {
    snprintf(err, errlen, "cannot use the cycle counter: %s; use the monotonic clock", why);
    return -1;
  }
  if (requested != RT_CLOCK_CYCLES && requested != RT_CLOCK_MONOTONIC) {
    snprintf(err, errlen, "unknown clock kind %u", requested);
    return -1;
  }
  out->kind = requested;
  out->freq_hz = requested == RT_CLOCK_CYCLES ? cycles_freq() : 1000000000u;
  if (out->freq_hz == 0) {
    snprintf(err, errlen, "cycle counter calibration failed");
    return -1;
  }
  sample_pair(requested, CLOCK_REALTIME, &out->ref_ticks, &out->ref_realtime_ns);
  uint64_t mono = 0;
  sample_pair(RT_CLOCK_MONOTONIC, CLOCK_REALTIME, &mono, &out->monotonic_ref_realtime_ns);
  out->monotonic_ref_ns = (int64_t)mono;
  if (requested == RT_CLOCK_MONOTONIC)
    snprintf(out->why, sizeof out->why, "%s", why[0] ? why : "the cycle counter is not usable here");
  else
    snprintf(out->why, sizeof out->why, "%.39s%.160s", asked, why);
  return 0;
}
