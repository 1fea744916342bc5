/* Timing helpers shared by the native benchmarks: a monotonic clock in ns and
 * the median of a sample (medians resist the other tenants of a shared host). */
#ifndef RINGTRACE_BENCH_UTIL_H
#define RINGTRACE_BENCH_UTIL_H
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static inline int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Sorts v. */
static inline double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return v[n / 2];
}

/* Case `name` was named on the command line, or none was (run all). */
static inline int wanted(int argc, char **argv, const char *name) {
  int any = 0;
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-') continue;
    any = 1;
    if (!strcmp(argv[i], name)) return 1;
  }
  return !any;
}
#endif
