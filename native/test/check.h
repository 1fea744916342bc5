/* Minimal TAP-style checks for the native tests: a failed CHECK prints where and
 * why, and the test exits non-zero. */
#ifndef RINGTRACE_TEST_CHECK_H
#define RINGTRACE_TEST_CHECK_H
#include <stdio.h>
#include <stdlib.h>

static int check_failures;
#define CHECK(cond, ...)                                                  \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);     \
      fprintf(stderr, __VA_ARGS__);                                       \
      fprintf(stderr, "\n");                                              \
      check_failures++;                                                   \
    }                                                                     \
  } while (0)
/* Like CHECK, but stops the test program: later steps depend on it. */
#define REQUIRE(cond, ...)                                                \
  do {                                                                    \
    int required_ok_ = !!(cond);                                          \
    CHECK(required_ok_ && #cond, __VA_ARGS__);                            \
    if (!required_ok_) exit(1);                                           \
  } while (0)

static inline int run_test(const char *name, void (*fn)(void)) {
  int before = check_failures;
  fn();
  int ok = check_failures == before;
  printf("%s - %s\n", ok ? "ok" : "not ok", name);
  fflush(stdout);
  return ok;
}
#define RUN(fn) run_test(#fn, fn)
#define RUN_NAMED(name, stmt)                                               \
  do {                                                                    \
    int before_ = check_failures;                                         \
    stmt;                                                                 \
    printf("%s - %s\n", check_failures == before_ ? "ok" : "not ok", name); \
    fflush(stdout);                                                       \
  } while (0)
#define CHECK_EXIT() (check_failures ? (fprintf(stderr, "%d check(s) failed\n", check_failures), 1) : 0)
#endif
