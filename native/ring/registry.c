/* Event-class registry (see registry.h). Cold path: runs once per class. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "error.h"
#include "registry.h"


static int side_path(const struct rt_session *s, const char *ext, char *out, size_t outlen) {
  char hex[33];
  for (int i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", s->uuid[i]);
  int n = snprintf(out, outlen, "/dev/shm/ringtrace-%u-%s-%s.%s", (unsigned)geteuid(), s->name,
                   hex, ext);
  return n > 0 && (size_t)n < outlen ? 0 : -1;
}

int rt_registry_path(const struct rt_session *s, char *out, size_t outlen) {
  return side_path(s, "classes", out, outlen);
}

int rt_registry_procs_path(const struct rt_session *s, char *out, size_t outlen) {
  return side_path(s, "procs", out, outlen);
}

int rt_selection_path(const struct rt_session *s, char *out, size_t outlen) {
  return side_path(s, "selection", out, outlen);
}

/* Acquire pairs with rt_selection_bump's release: the rename that put the
 * file in place happened before the number a reader sees. The file itself is
 * validated by whoever reads it, like any file. */
uint32_t rt_selection_generation(const struct rt_session *s) {
  return __atomic_load_n(&s->hdr->selection_gen, __ATOMIC_ACQUIRE);
}

uint32_t rt_selection_bump(const struct rt_session *s) {
  return __atomic_add_fetch(&s->hdr->selection_gen, 1, __ATOMIC_RELEASE);
}

int rt_registry_add_process(const struct rt_session *s, const char *name, char *err, size_t errlen) {
  char path[256], line[160];
  if (rt_registry_procs_path(s, path, sizeof path)) return rt_error(err, errlen, "process log path too long");
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return rt_error(err, errlen, "cannot open process log %s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
    close(fd);
    return rt_error(err, errlen, "refusing process log %s: not a private regular file of yours", path);
  }
  int n = snprintf(line, sizeof line, "%d %ld %.100s\n", (int)getpid(), (long)syscall(SYS_gettid),
                   name && *name ? name : "-");
  for (int i = 0; i < n - 1; i++) if (line[i] == '\n') line[i] = ' ';
  ssize_t w = write(fd, line, (size_t)n);
  close(fd);
  return w == n ? 0 : rt_error(err, errlen, "cannot write process log %s", path);
}

/* Scan "<id> <desc>\n" lines: the id of `desc` if present, else 0, and the
 * largest id seen. -1 if a line is malformed (the file is not ours or damaged). */
static int scan(const char *buf, size_t len, const char *desc, uint32_t *found, uint32_t *max_id,
                size_t *bad_line) {
  size_t dlen = strlen(desc), line = 1;
  *found = 0;
  *max_id = 0;
  for (size_t pos = 0; pos < len; line++) {
    const char *nl = memchr(buf + pos, '\n', len - pos);
    if (!nl) break; /* a torn last line (writer died mid-write): ignored, rewritten below */
    size_t end = (size_t)(nl - buf);
    uint64_t id = 0;
    size_t p = pos;
    while (p < end && buf[p] >= '0' && buf[p] <= '9' && id < UINT32_MAX) id = id * 10 + (uint64_t)(buf[p++] - '0');
    if (p == pos || p >= end || buf[p] != ' ' || id < RT_FIRST_CLASS_ID || id > UINT32_MAX) {
      *bad_line = line;
      return -1;
    }
    p++;
    if (end - p == dlen && memcmp(buf + p, desc, dlen) == 0) *found = (uint32_t)id;
    if (id > *max_id) *max_id = (uint32_t)id;
    pos = end + 1;
  }
  return 0;
}

int rt_registry_register(const struct rt_session *s, const char *desc, uint32_t *id, char *err,
                         size_t errlen) {
  char path[256];
  size_t dlen = strlen(desc);
  if (dlen == 0 || dlen > RT_CLASS_DESC_MAX || memchr(desc, '\n', dlen))
    return rt_error(err, errlen, "event class description must be 1..%u bytes on one line",
                RT_CLASS_DESC_MAX);
  if (rt_registry_path(s, path, sizeof path)) return rt_error(err, errlen, "registry path too long");
  /* O_NOFOLLOW: a symlink planted at the path is refused, never followed. */
  int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return rt_error(err, errlen, "cannot open event registry %s: %s", path, strerror(errno));
  int rc = -1;
  char *buf = NULL;
  if (flock(fd, LOCK_EX)) {
    rt_error(err, errlen, "cannot lock event registry %s: %s", path, strerror(errno));
    goto out;
  }
  struct stat st;
  if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
    rt_error(err, errlen, "refusing event registry %s: not a private regular file of yours", path);
    goto out;
  }
  if ((uint64_t)st.st_size > RT_REGISTRY_MAX_BYTES) {
    rt_error(err, errlen, "event registry %s is %lld bytes, more than %u: refusing it as corrupt", path,
         (long long)st.st_size, RT_REGISTRY_MAX_BYTES);
    goto out;
  }
  size_t len = (size_t)st.st_size;
  buf = malloc(len + 1);
  if (!buf) {
    rt_error(err, errlen, "out of memory reading %s", path);
    goto out;
  }
  size_t got = 0;
  while (got < len) {
    ssize_t n = pread(fd, buf + got, len - got, (off_t)got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  uint32_t found, max_id;
  size_t bad_line = 0;
  if (scan(buf, got, desc, &found, &max_id, &bad_line)) {
    rt_error(err, errlen, "event registry %s is corrupt at line %zu", path, bad_line);
    goto out;
  }
  if (found) {
    *id = found;
    rc = 0;
    goto out;
  }
  uint32_t next = max_id < RT_FIRST_CLASS_ID ? RT_FIRST_CLASS_ID : max_id + 1;
  /* A torn last line (a writer died mid-write; its process never got the id)
   * is cut off so the file stays parseable. */
  size_t keep = got;
  while (keep > 0 && buf[keep - 1] != '\n') keep--;
  if (keep != got && ftruncate(fd, (off_t)keep)) {
    rt_error(err, errlen, "cannot repair event registry %s: %s", path, strerror(errno));
    goto out;
  }
  char head[16];
  int hl = snprintf(head, sizeof head, "%u ", next);
  char *line = malloc((size_t)hl + dlen + 1);
  if (!line) {
    rt_error(err, errlen, "out of memory");
    goto out;
  }
  memcpy(line, head, (size_t)hl);
  memcpy(line + hl, desc, dlen);
  line[(size_t)hl + dlen] = '\n';
  ssize_t w = write(fd, line, (size_t)hl + dlen + 1); /* one write under the lock */
  free(line);
  if (w != (ssize_t)((size_t)hl + dlen + 1)) {
    rt_error(err, errlen, "cannot write event registry %s: %s", path, w < 0 ? strerror(errno) : "short write");
    goto out;
  }
  *id = next;
  rc = 0;
out:
  free(buf);
  close(fd); /* releases the lock */
  return rc;
}

int rt_registry_unlink(const struct rt_session *s, char *err, size_t errlen) {
  char path[256];
  int (*const paths[])(const struct rt_session *, char *, size_t) = {rt_registry_path, rt_registry_procs_path,
                                                                     rt_selection_path};
  for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
    if (paths[i](s, path, sizeof path))
      return rt_error(err, errlen, "registry path too long");
    if (unlink(path) && errno != ENOENT)
      return rt_error(err, errlen, "cannot remove %s: %s", path, strerror(errno));
  }
  return 0;
}
