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

/* The holder unlinks the lock file on unlock and the next taker creates a new
 * one, so a file we opened may have left the path before our flock: a lock on
 * it excludes nobody (a racer that opened the path later holds the new file).
 * Only a lock on the file still at the path counts; it cannot be replaced
 * while we hold it, since only its holder unlinks it. */
static int still_at_path(int fd, const char *path) {
  struct stat held, now;
  return fstat(fd, &held) == 0 && lstat(path, &now) == 0 && held.st_dev == now.st_dev &&
         held.st_ino == now.st_ino;
}

/* Each retry means another consumer removed the file in between: bounded so a
 * path that keeps changing is reported rather than spun on. */
#define LOCK_ATTEMPTS 1000

int rt_consumer_lock(const char *name, int *fd_out, int *holder, char *err, size_t errlen) {
  char path[256];
  *holder = 0;
  if (lock_path(name, path, sizeof path, err, errlen)) return -1;
  for (int attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
    int fd = open_lock(path, 1, err, errlen);
    if (fd < 0) return -1;
    if (flock(fd, LOCK_EX | LOCK_NB)) {
      int e = errno;
      int pid = read_pid(fd);
      int current = still_at_path(fd, path);
      close(fd);
      if (e != EWOULDBLOCK) return rt_error(err, errlen, "cannot lock %s: %s", path, strerror(e));
      if (!current) continue; /* held by a racer that will find it stale too */
      *holder = pid;
      return 1;
    }
    if (!still_at_path(fd, path)) {
      close(fd); /* drops the lock on the orphaned file */
      continue;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)n, 0) != n) {
      int e = errno;
      unlink(path);
      close(fd);
      return rt_error(err, errlen, "cannot write %s: %s", path, strerror(e));
    }
    *fd_out = fd;
    return 0;
  }
  return rt_error(err, errlen, "cannot lock %s: the file was replaced %d times in a row", path,
                  LOCK_ATTEMPTS);
}

void rt_consumer_unlock(const char *name, int fd) {
  char path[256];
  /* Unlink while still holding the lock, and only our own file. */
  if (lock_path(name, path, sizeof path, NULL, 0) == 0 && still_at_path(fd, path)) unlink(path);
  close(fd);
}

int rt_consumer_lock_probe(const char *name, int *holder, char *err, size_t errlen) {
  char path[256];
  *holder = 0;
  if (lock_path(name, path, sizeof path, err, errlen)) return -1;
  for (int attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
    int fd = open_lock(path, 0, err, errlen);
    if (fd == -2) return 0;
    if (fd < 0) return -1;
    int held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    int pid = held ? read_pid(fd) : 0;
    int current = still_at_path(fd, path);
    close(fd); /* also drops our shared lock if we got it */
    if (!current) continue; /* replaced meanwhile: ask the file that is there now */
    *holder = pid;
    return held;
  }
  return rt_error(err, errlen, "cannot probe %s: the file was replaced %d times in a row", path,
                  LOCK_ATTEMPTS);
}
