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

/* Raw TSC is usable as a trace clock only if it is invariant and the kernel
 * trusts it as its own clocksource (synchronized across CPUs). */
static int cycles_usable(void) {
  return file_contains("/proc/cpuinfo", " constant_tsc") &&
         file_contains("/proc/cpuinfo", " nonstop_tsc") &&
         file_contains("/sys/devices/system/clocksource/clocksource0/current_clocksource", "tsc");
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
static int cycles_usable(void) { return 1; }
static uint64_t cycles_freq(void) {
  uint64_t f;
  __asm__ __volatile__("mrs %0, cntfrq_el0" : "=r"(f));
  return f;
}
#endif

int rt_clock_choose(uint32_t requested, struct rt_clock_desc *out, char *err, size_t errlen) {
  if (requested == 0) {
    const char *env = getenv("RINGTRACE_CLOCK");
    if (!env || !*env || !strcmp(env, "auto"))
      requested = cycles_usable() ? RT_CLOCK_CYCLES : RT_CLOCK_MONOTONIC;
    else if (!strcmp(env, "cycles"))
      requested = RT_CLOCK_CYCLES;
    else if (!strcmp(env, "monotonic"))
      requested = RT_CLOCK_MONOTONIC;
    else {
      snprintf(err, errlen, "RINGTRACE_CLOCK=%s: expected auto, cycles or monotonic", env);
      return -1;
    }
  }
  if (requested == RT_CLOCK_CYCLES && !cycles_usable()) {
    snprintf(err, errlen, "the cycle counter is not invariant/synchronized on this machine; "
                          "use the monotonic clock");
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
  return 0;
}
