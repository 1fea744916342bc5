/* One consumer per session: an flock on /dev/shm/ringtrace-<uid>-<name>.lock,
 * held for the consumer's lifetime. The kernel drops it when the consumer
 * dies, so a session whose lock is free has no consumer: it was left by one
 * that exited or crashed and can be taken over or cleaned. */
#ifndef RINGTRACE_RING_CONSUMER_LOCK_H
#define RINGTRACE_RING_CONSUMER_LOCK_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Returns 0 with *fd holding the lock (our pid written in the file), 1 if
 * another process holds it (*holder = its pid, 0 if unknown), -1 on error. */
int rt_consumer_lock(const char *name, int *fd, int *holder, char *err, size_t errlen);
/* Remove the lock file (if it is still ours) and release the lock. */
void rt_consumer_unlock(const char *name, int fd);
/* Probe without taking: 1 held (holder set), 0 free or absent, -1 error. */
int rt_consumer_lock_probe(const char *name, int *holder, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
