/* Helpers for the tests of the public C API (ringtrace.h): each scenario runs
 * in a child process, because the API reads RINGTRACE_SESSION and attaches
 * once per process; the test plays the consumer with the core's own calls. */
#ifndef RINGTRACE_TEST_CAPI_UTIL_H
#define RINGTRACE_TEST_CAPI_UTIL_H
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include "ringtrace.h"
#include "check.h"
#include "mode.h"
#include "util.h"

/* Run fn in a child process; its failed checks fail the parent. */
static inline void in_child(void (*fn)(void)) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  REQUIRE(pid >= 0, "fork");
  if (pid == 0) {
    check_failures = 0; /* the child answers for its own checks only */
    fn();
    fflush(NULL);
    _exit(check_failures ? 1 : 0);
  }
  int status;
  REQUIRE(waitpid(pid, &status, 0) == pid, "waitpid");
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
}

static inline void sleep_ms(int ms) {
  struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

static inline uint32_t own_tid(void) { return (uint32_t)syscall(SYS_gettid); }

/* A session named for this test, which the C API of this process looks for. */
static inline struct rt_session *capi_session(const char *name, uint64_t sub_size) {
  char err[256];
  struct rt_session *s;
  struct rt_session_options o = {.sub_size = sub_size, .n_sub = 8};
  REQUIRE(rt_session_create(name, &o, &s, err, sizeof err) == 0, "%s", err);
  return s;
}

static inline void capi_session_name(char *name, size_t len, const char *tag) {
  test_session_name(name, len, tag);
  setenv("RINGTRACE_SESSION", name, 1);
}

/* Remove a session as the consumer does at the end of a recording: its
 * files, its object, then a new selection generation, so that programs whose
 * events are all off look at the session too. */
static inline void capi_remove(struct rt_session *s, const char *name) {
  char err[256];
  rt_registry_unlink(s, err, sizeof err);
  rt_session_unlink(name, err, sizeof err);
  rt_selection_bump(s);
}

/* Counting a removed session's records registers the counted classes in it
 * again (class_id): remove that file too. */
static inline void forget_registry(const struct rt_session *s) {
  char err[256];
  rt_registry_unlink(s, err, sizeof err);
}

/* Put a selection file in place as the consumer does (docs/selection.md):
 * write a temporary file (a dot name: not taken for a session by `list`),
 * rename it over the selection, bump the generation. */
static inline void put_selection_mode(const struct rt_session *s, const char *text, mode_t mode) {
  char path[256], tmp[300];
  REQUIRE(rt_selection_path(s, path, sizeof path) == 0, "selection path");
  const char *base = strrchr(path, '/') + 1;
  snprintf(tmp, sizeof tmp, "%.*s.%s.tmp", (int)(base - path), path, base);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text) && fchmod(fd, mode) == 0 &&
              close(fd) == 0 && rename(tmp, path) == 0,
          "write %s", path);
  rt_selection_bump(s);
}
static inline void put_selection(const struct rt_session *s, const char *text) { put_selection_mode(s, text, 0600); }

/* The class id of description `desc` in session s (the registry dedups, so
 * this is the id the C API got if its description is byte-identical). */
static inline uint32_t class_id(const struct rt_session *s, const char *desc) {
  char err[256];
  uint32_t id = 0;
  CHECK(rt_registry_register(s, desc, &id, err, sizeof err) == 0, "%s", err);
  return id;
}

/* Poll rt_enabled (which also looks for the session) for up to 3 s. */
#define WAIT_ENABLED(provider, name, want)                                   \
  do {                                                                       \
    for (int i_ = 0; i_ < 300 && !!rt_enabled(provider, name) != (want); i_++) \
      sleep_ms(10);                                                          \
    REQUIRE(!!rt_enabled(provider, name) == (want), "rt_enabled never became %d", want); \
  } while (0)

/* Send this process's stderr to a file (to check what the API prints). */
static inline void capture_stderr(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0, "open %s", path);
  dup2(fd, 2);
  close(fd);
}

static inline size_t read_text(const char *path, char *buf, size_t len) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, len - 1);
  close(fd);
  buf[n > 0 ? n : 0] = 0;
  return n > 0 ? (size_t)n : 0;
}

static inline int count_lines(const char *text, const char *needle) {
  int n = 0;
  for (const char *p = text; (p = strstr(p, needle)) != NULL; p++) n++;
  return n;
}

static inline uint64_t lost_in(const struct rt_session *s) {
  uint64_t lost = 0;
  struct rt_ring_stats st;
  for (uint32_t r = 0; r < s->n_rings; r++) {
    rt_ring_stats_read(s, r, &st);
    lost += st.lost;
  }
  return lost;
}
#endif
