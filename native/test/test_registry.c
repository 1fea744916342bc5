/* Event-class registry: the same description gets the same id in every
 * process (also when they register at the same moment), new ones get new ids,
 * and a damaged, foreign or symlinked registry file is refused or repaired. */
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "util.h"

static struct rt_session *new_session(char *name, size_t len) {
  char err[256];
  struct rt_session *s;
  test_session_name(name, len, "reg");
  struct rt_session_options o = {.sub_size = 4096, .n_sub = 2};
  REQUIRE(rt_session_create(name, &o, &s, err, sizeof err) == 0, "%s", err);
  return s;
}

static void finish(struct rt_session *s, const char *name) {
  char err[256];
  CHECK(rt_registry_unlink(s, err, sizeof err) == 0, "%s", err);
  rt_session_unlink(name, err, sizeof err);
  rt_session_close(s);
}

static void test_dedup_and_order(void) {
  char name[64], err[256];
  struct rt_session *s = new_session(name, sizeof name);
  uint32_t a, b, a2, c;
  CHECK(rt_registry_register(s, "{\"event\":\"a\"}", &a, err, sizeof err) == 0, "%s", err);
  CHECK(rt_registry_register(s, "{\"event\":\"b\"}", &b, err, sizeof err) == 0, "%s", err);
  CHECK(rt_registry_register(s, "{\"event\":\"a\"}", &a2, err, sizeof err) == 0, "%s", err);
  CHECK(a == RT_FIRST_CLASS_ID && b == a + 1 && a2 == a, "ids a=%u b=%u a2=%u", a, b, a2);
  /* A prefix of an existing description is a different class. */
  CHECK(rt_registry_register(s, "{\"event\":\"a\"", &c, err, sizeof err) == 0 && c == b + 1,
        "prefix gets its own id (%u)", c);
  CHECK(rt_registry_register(s, "two\nlines", &c, err, sizeof err) == -1 &&
            strstr(err, "one line") != NULL,
        "multi-line description refused: %s", err);
  CHECK(rt_registry_register(s, "", &c, err, sizeof err) == -1, "empty description refused");
  finish(s, name);
}

/* Several processes register overlapping sets at once: one id per class. */
static void test_concurrent_processes(void) {
  char name[64], err[256];
  struct rt_session *s = new_session(name, sizeof name);
  enum { PROCS = 4, CLASSES = 50 };
  int pipes[PROCS][2];
  for (int p = 0; p < PROCS; p++) {
    REQUIRE(pipe(pipes[p]) == 0, "pipe");
    pid_t pid = fork();
    REQUIRE(pid >= 0, "fork");
    if (pid == 0) {
      uint32_t ids[CLASSES];
      for (int i = 0; i < CLASSES; i++) {
        char desc[64];
        int k = (i * 7 + p * 13) % CLASSES; /* each process in its own order */
        snprintf(desc, sizeof desc, "{\"event\":\"e%d\"}", k);
        if (rt_registry_register(s, desc, &ids[k], err, sizeof err)) _exit(1);
      }
      _exit(write(pipes[p][1], ids, sizeof ids) == (ssize_t)sizeof ids ? 0 : 2);
    }
    close(pipes[p][1]);
  }
  uint32_t first[CLASSES];
  for (int p = 0; p < PROCS; p++) {
    uint32_t ids[CLASSES];
    CHECK(read(pipes[p][0], ids, sizeof ids) == (ssize_t)sizeof ids, "child %d result", p);
    close(pipes[p][0]);
    if (p == 0) memcpy(first, ids, sizeof ids);
    else CHECK(memcmp(first, ids, sizeof ids) == 0, "child %d saw other ids", p);
  }
  int status, ok = 1;
  while (wait(&status) > 0) ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
  CHECK(ok, "children succeeded");
  uint32_t seen[CLASSES + RT_FIRST_CLASS_ID] = {0};
  for (int k = 0; k < CLASSES; k++) {
    CHECK(first[k] >= RT_FIRST_CLASS_ID && first[k] < RT_FIRST_CLASS_ID + CLASSES, "id %u", first[k]);
    if (first[k] < CLASSES + RT_FIRST_CLASS_ID) CHECK(!seen[first[k]]++, "id %u given twice", first[k]);
  }
  finish(s, name);
}

static void test_damaged_files(void) {
  char name[64], err[256], path[256];
  struct rt_session *s = new_session(name, sizeof name);
  uint32_t id;
  REQUIRE(rt_registry_path(s, path, sizeof path) == 0, "path");
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0, "create %s", path);
  /* A complete line, then a torn one (writer killed mid-line). */
  CHECK(write(fd, "16 {\"event\":\"x\"}\n17 {\"ev", 24) == 24, "write");
  close(fd);
  CHECK(rt_registry_register(s, "{\"event\":\"y\"}", &id, err, sizeof err) == 0 && id == 17,
        "torn line repaired, next id 17 (got %u): %s", id, err);
  CHECK(rt_registry_register(s, "{\"event\":\"x\"}", &id, err, sizeof err) == 0 && id == 16,
        "earlier class kept (%u)", id);

  fd = open(path, O_WRONLY | O_TRUNC);
  CHECK(write(fd, "garbage line\n", 13) == 13, "write");
  close(fd);
  CHECK(rt_registry_register(s, "{\"event\":\"x\"}", &id, err, sizeof err) == -1 &&
            strstr(err, "corrupt at line 1") && strstr(err, path),
        "foreign content refused: %s", err);

  CHECK(chmod(path, 0644) == 0, "chmod");
  CHECK(rt_registry_register(s, "{\"event\":\"x\"}", &id, err, sizeof err) == -1 &&
            strstr(err, "private regular file"),
        "loose mode refused: %s", err);
  unlink(path);

  CHECK(symlink("/etc/hostname", path) == 0, "symlink");
  CHECK(rt_registry_register(s, "{\"event\":\"x\"}", &id, err, sizeof err) == -1 &&
            strstr(err, "cannot open event registry"),
        "symlink not followed: %s", err);
  unlink(path);
  finish(s, name);
}

int main(void) {
  RUN(test_dedup_and_order);
  RUN(test_concurrent_processes);
  RUN(test_damaged_files);
  return CHECK_EXIT();
}
