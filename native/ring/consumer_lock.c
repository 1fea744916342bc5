/* See consumer_lock.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "consumer_lock.h"
#include "error.h"
#include "session.h"

static int lock_path(const char *name, char *out, size_t outlen, char *err, size_t errlen) {
  char shm[128];
  if (rt_session_shm_name(name, shm, sizeof shm, err, errlen)) return -1;
  snprintf(out, outlen, "/dev/shm%s.lock", shm);
  return 0;
}

static int read_pid(int fd) {
  char buf[32] = {0};
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  return n > 0 ? atoi(buf) : 0;
}

static int open_lock(const char *path, int create, char *err, size_t errlen) {
  /* O_NOFOLLOW: a symlink planted at the path is refused, never followed. */
  int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
  if (fd < 0) {
    if (errno == ENOENT && !create) return -2;
    return rt_error(err, errlen, "cannot open consumer lock %s: %s", path, strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
    close(fd);
    return rt_error(err, errlen, "refusing consumer lock %s: not a private regular file of yours", path);
  }
  return fd;
}

int rt_consumer_lock(const char *name, int *fd_out, int *holder, char *err, size_t errlen) {
  char path[256];
  *holder = 0;
  if (lock_path(name, path, sizeof path, err, errlen)) return -1;
  int fd = open_lock(path, 1, err, errlen);
  if (fd < 0) return -1;
  if (flock(fd, LOCK_EX | LOCK_NB)) {
    int e = errno;
    *holder = read_pid(fd);
    close(fd);
    if (e == EWOULDBLOCK) return 1;
    return rt_error(err, errlen, "cannot lock %s: %s", path, strerror(e));
  }
  char pid[32];
  int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
  if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)n, 0) != n) {
    close(fd);
    return rt_error(err, errlen, "cannot write %s: %s", path, strerror(errno));
  }
  *fd_out = fd;
  return 0;
}

void rt_consumer_unlock(const char *name, int fd) {
  char path[256];
  if (lock_path(name, path, sizeof path, NULL, 0) == 0) unlink(path);
  close(fd);
}

int rt_consumer_lock_probe(const char *name, int *holder, char *err, size_t errlen) {
  char path[256];
  *holder = 0;
  if (lock_path(name, path, sizeof path, err, errlen)) return -1;
  int fd = open_lock(path, 0, err, errlen);
  if (fd == -2) return 0;
  if (fd < 0) return -1;
  int held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  if (held) *holder = read_pid(fd);
  close(fd); /* also drops our shared lock if we got it */
  return held;
}
