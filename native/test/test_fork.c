/* fork(): a child of a traced process keeps the session mapping (MAP_SHARED)
 * and, for its one thread, the rseq registration, so it records into the same
 * rings with its own identity; exec'd programs start clean (the kernel drops
 * both). Parent and children emit at once; every record must arrive, intact,
 * under the pid that wrote it. */
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "check.h"
#include "mode.h"
#include "util.h"

#define CHILDREN 3
#define PER_PROCESS 20000

struct tally {
  pid_t pids[CHILDREN + 1];
  long per_pid[CHILDREN + 1];
  long bad;
  long wrong_path; /* records in a ring of the other path (rseq vs atomic) */
  const struct rt_session *s;
};

static void count(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev,
                  const uint8_t *payload);

/* Payload: pid, tid (the context every record starts with), then a sequence
 * number. A full ring drops the event (counted as lost); here it is retried
 * after a drain (the parent) or a pause (children), so all must arrive. */
static void emit_many(const struct rt_session *s, struct rt_consumer *c, struct tally *t) {
  uint32_t p[3] = {(uint32_t)getpid(), (uint32_t)syscall(SYS_gettid), 0};
  for (uint32_t i = 0; i < PER_PROCESS; i++) {
    p[2] = i;
    while (rt_emit(s, 7, p, sizeof p) != RT_RESERVED) {
      if (c) CHECK(drain_once(c, 0, count, t) >= 0, "drain");
      else usleep(100);
    }
  }
}

static void count(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev,
                  const uint8_t *payload) {
  struct tally *t = ctx;
  uint32_t p[3];
  if (ring_is_rseq(t->s, ch->ring) != expected_rseq()) t->wrong_path++;
  if (ev->id != 7 || ev->size != RT_EVENT_HEADER_SIZE + sizeof p) {
    t->bad++;
    return;
  }
  memcpy(p, payload, sizeof p);
  for (int i = 0; i <= CHILDREN; i++) {
    if ((uint32_t)t->pids[i] == p[0]) {
      t->per_pid[i]++;
      if (p[1] != p[0]) t->bad++; /* single-threaded processes: tid == pid */
      return;
    }
  }
  t->bad++;
}

static void test_children_record_with_their_own_pid(void) {
  char name[64], err[256];
  struct rt_session *s;
  test_session_name(name, sizeof name, "fork");
  struct rt_session_options o = {.sub_size = 65536, .n_sub = 8};
  REQUIRE(rt_session_create(name, &o, &s, err, sizeof err) == 0, "%s", err);
  rt_session_unlink(name, err, sizeof err);
  require_expected_mode(s);
  struct rt_consumer c;
  REQUIRE(rt_consumer_init(&c, s) == 0, "consumer");

  struct tally t = {.s = s};
  t.pids[0] = getpid();
  for (int i = 1; i <= CHILDREN; i++) {
    pid_t pid = fork();
    REQUIRE(pid >= 0, "fork");
    if (pid == 0) {
      /* The kernel keeps a forked thread's rseq registration. */
      if (thread_has_rseq() != expected_rseq()) _exit(4);
      emit_many(s, NULL, NULL);
      _exit(0);
    }
    t.pids[i] = pid;
  }
  emit_many(s, &c, &t);
  int running = CHILDREN;
  while (running) {
    CHECK(drain_once(&c, 0, count, &t) >= 0, "drain");
    int status;
    pid_t done = waitpid(-1, &status, WNOHANG);
    if (done > 0) {
      CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child %d status %d", (int)done, status);
      running--;
    } else {
      usleep(1000);
    }
  }
  CHECK(drain_once(&c, 1, count, &t) >= 0, "final drain");
  CHECK(t.bad == 0, "%ld records with a wrong id, size, pid or tid", t.bad);
  CHECK(t.wrong_path == 0, "%ld records written by the other path than %s", t.wrong_path,
        rseq_mode_name(expected_rseq()));
  for (int i = 0; i <= CHILDREN; i++)
    CHECK(t.per_pid[i] == PER_PROCESS, "pid %d: %ld of %d records", (int)t.pids[i], t.per_pid[i], PER_PROCESS);
  rt_consumer_fini(&c);
  rt_session_close(s);
}

int main(void) {
  RUN(test_children_record_with_their_own_pid);
  return CHECK_EXIT();
}
