/* The consumer lock: at most one consumer of a session at any time. Many
 * processes race to take the lock and give it back (each unlock removes the
 * lock file, so takers keep meeting a file that is being replaced); each
 * counts itself in a shared counter while it holds the lock, and any moment
 * with two holders is recorded. */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "consumer_lock.h"
#include "util.h"

#define RACERS 12
#define ATTEMPTS 4000

struct shared {
  int active;          /* racers that believe they hold the lock right now */
  long acquisitions;   /* successful takes, all racers */
  long refusals;       /* takes refused because another held it */
  long overlaps;       /* takes that found another holder active: must stay 0 */
  long holder_unknown; /* refusals that could not name the holder */
};

static int race(const char *name, struct shared *sh) {
  char err[256];
  for (int i = 0; i < ATTEMPTS; i++) {
    int fd = -1, holder = 0;
    int rc = rt_consumer_lock(name, &fd, &holder, err, sizeof err);
    if (rc < 0) {
      fprintf(stderr, "racer %d: %s\n", (int)getpid(), err);
      return 1;
    }
    if (rc == 1) {
      __atomic_fetch_add(&sh->refusals, 1, __ATOMIC_RELAXED);
      if (holder <= 0) __atomic_fetch_add(&sh->holder_unknown, 1, __ATOMIC_RELAXED);
      sched_yield();
      continue;
    }
    /* Seq-cst: the counter is the test's own witness of "two holders at once". */
    if (__atomic_fetch_add(&sh->active, 1, __ATOMIC_SEQ_CST) != 0)
      __atomic_fetch_add(&sh->overlaps, 1, __ATOMIC_RELAXED);
    sched_yield(); /* hold it a moment, so others try meanwhile */
    __atomic_fetch_sub(&sh->active, 1, __ATOMIC_SEQ_CST);
    __atomic_fetch_add(&sh->acquisitions, 1, __ATOMIC_RELAXED);
    rt_consumer_unlock(name, fd);
  }
  return 0;
}

static void test_one_consumer_at_a_time(void) {
  char name[64];
  test_session_name(name, sizeof name, "lock");
  struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(sh != MAP_FAILED, "shared page");
  memset(sh, 0, sizeof *sh);
  pid_t pids[RACERS];
  for (int i = 0; i < RACERS; i++) {
    pids[i] = fork();
    REQUIRE(pids[i] >= 0, "fork");
    if (pids[i] == 0) _exit(race(name, sh));
  }
  for (int i = 0; i < RACERS; i++) {
    int status;
    REQUIRE(waitpid(pids[i], &status, 0) == pids[i], "wait");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "racer %d status %d", (int)pids[i], status);
  }
  printf("# %d racers x %d attempts: %ld taken, %ld refused (%ld without a holder pid), %ld overlaps\n",
         RACERS, ATTEMPTS, sh->acquisitions, sh->refusals, sh->holder_unknown, sh->overlaps);
  CHECK(sh->overlaps == 0, "two consumers held the lock at once %ld times", sh->overlaps);
  CHECK(sh->acquisitions + sh->refusals == (long)RACERS * ATTEMPTS, "every attempt accounted for");
  CHECK(sh->acquisitions > 0 && sh->refusals > 0, "the racers did contend");
  int holder = -1;
  char err[256];
  CHECK(rt_consumer_lock_probe(name, &holder, err, sizeof err) == 0, "free at the end: %s", err);
  munmap(sh, sizeof *sh);
}

/* A held lock is seen as held, with the holder's pid, by a probe and by a
 * second taker; after unlock it is free and leaves no file behind. */
static void test_probe_and_holder(void) {
  char name[64], err[256], path[256], shm[128];
  test_session_name(name, sizeof name, "lockprobe");
  REQUIRE(rt_session_shm_name(name, shm, sizeof shm, err, sizeof err) == 0, "%s", err);
  snprintf(path, sizeof path, "/dev/shm%s.lock", shm);
  int fd = -1, holder = 0;
  REQUIRE(rt_consumer_lock(name, &fd, &holder, err, sizeof err) == 0, "take: %s", err);
  pid_t child = fork();
  REQUIRE(child >= 0, "fork");
  if (child == 0) {
    int h1 = 0, h2 = 0, fd2 = -1;
    int probe = rt_consumer_lock_probe(name, &h1, err, sizeof err);
    int take = rt_consumer_lock(name, &fd2, &h2, err, sizeof err);
    _exit(probe == 1 && h1 == (int)getppid() && take == 1 && h2 == (int)getppid() ? 0 : 1);
  }
  int status;
  REQUIRE(waitpid(child, &status, 0) == child, "wait");
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "another process sees it held by us");
  rt_consumer_unlock(name, fd);
  CHECK(access(path, F_OK) != 0 && errno == ENOENT, "no lock file left behind");
  CHECK(rt_consumer_lock_probe(name, &holder, err, sizeof err) == 0, "free after unlock");
}

int main(void) {
  RUN(test_probe_and_holder);
  RUN(test_one_consumer_at_a_time);
  return CHECK_EXIT();
}
