/* Writers killed between reserve and commit (SIGKILL, in a forked child that
 * shares the session): the ring is blocked until the consumer salvages the
 * dead record; then every other record is delivered intact, in order, and the
 * dead one is counted as exactly one lost event (or delivered, when it was
 * sealed before the kill). Unsafe cases are refused without touching the ring. */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "small_rings.h"
#include "test_hooks.h"

struct seen {
  long count;
  uint64_t next_seq; /* parent records carry 0, 1, 2, ... */
  long out_of_order;
  long dead_writer;  /* records carrying the child's marker */
  long other;        /* records of class 2 (not in the sequence) */
};

static void collect(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev,
                    const uint8_t *payload) {
  (void)ch;
  struct seen *s = ctx;
  s->count++;
  if (ev->id == 2) {
    s->other++;
    return;
  }
  uint64_t v;
  memcpy(&v, payload, 8);
  if (v == UINT64_MAX) {
    s->dead_writer++;
    return;
  }
  if (v != s->next_seq || ev->size != RT_EVENT_HEADER_SIZE + PAYLOAD) s->out_of_order++;
  s->next_seq = v + 1;
}

static struct rt_session *new_session(void) { return small_session("salvage"); }

enum death { BEFORE_PAYLOAD, MID_PAYLOAD, AFTER_SEAL };

/* A child (same CPU, same rings) reserves one record and is killed before committing it. */
static void dead_writer(const struct rt_session *s, enum death when) {
  pid_t pid = fork();
  REQUIRE(pid >= 0, "fork");
  if (pid == 0) {
    struct rt_reservation r;
    if (rt_reserve(s, 1, PAYLOAD, &r) != RT_RESERVED) _exit(2);
    uint64_t marker = UINT64_MAX;
    if (when != BEFORE_PAYLOAD) memcpy(rt_payload(&r), &marker, 8);
    if (when == AFTER_SEAL) memcpy(r.record, &r.header, sizeof r.header); /* what rt_commit does first */
    raise(SIGKILL);
    _exit(3);
  }
  int status;
  REQUIRE(waitpid(pid, &status, 0) == pid, "wait");
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child killed (status %d)", status);
}

/* After `warm` records written and read (so the dead record's bytes hold an
 * older lap's records, whose headers look valid but for their timestamps):
 * emit `before`, a writer dies (as `when`), emit `after`; salvage and drain. */
static void run_case(const char *what, int warm, int before, enum death when, int after,
                     int expect_hole_at_start) {
  pin_cpu(0);
  struct rt_session *s = new_session();
  uint32_t ring = ring_of_cpu0(s);
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  struct seen sn = {0};
  seq = 0;
  for (int left = warm; left > 0; left -= 50) { /* in pieces the ring holds */
    emit(s, left < 50 ? left : 50);
    CHECK(drain_once(&c, 1, collect, &sn) == (left < 50 ? left : 50), "%s: warm-up", what);
  }
  sn = (struct seen){.next_seq = seq};
  uint64_t base = seq;
  emit(s, before);
  dead_writer(s, when);
  emit(s, after);
  uint64_t off, committed;
  CHECK(drain_once(&c, 1, collect, &sn) >= 0, "%s: drain up to the dead record", what);
  CHECK(sn.count <= before, "%s: nothing past the dead record (%ld)", what, sn.count);
  CHECK(rt_consumer_blocked(&c, ring, &off, &committed) == 1, "%s: ring blocked", what);
  struct rt_salvage sv;
  CHECK(rt_consumer_salvage(&c, ring, 0, &sv) == 1, "%s: salvaged: %s", what, c.err);
  CHECK(rt_consumer_blocked(&c, ring, &off, &committed) == 0, "%s: unblocked", what);
  CHECK(drain_once(&c, 1, collect, &sn) >= 0, "%s: drain", what);
  long expect_dead = when == AFTER_SEAL;
  CHECK(sn.count == before + after + expect_dead, "%s: delivered %ld of %d", what, sn.count,
        before + after + (int)expect_dead);
  CHECK(sn.out_of_order == 0 && sn.next_seq == base + (uint64_t)(before + after), "%s: in order, intact", what);
  CHECK(sn.dead_writer == expect_dead, "%s: the dead record %s", what, expect_dead ? "kept (sealed)" : "left out");
  CHECK(lost(s) == (uint64_t)(1 - expect_dead), "%s: lost %llu", what, (unsigned long long)lost(s));
  if (when != AFTER_SEAL) {
    CHECK(sv.hole_bytes == RT_EVENT_HEADER_SIZE + PAYLOAD, "%s: hole of %u bytes", what, sv.hole_bytes);
    CHECK((sv.hole_at == RT_PACKET_HEADER_SIZE) == expect_hole_at_start, "%s: hole at %u", what, sv.hole_at);
  }
  /* The ring works normally afterwards. */
  emit(s, 300);
  CHECK(drain_once(&c, 1, collect, &sn) >= 0 && sn.next_seq == base + (uint64_t)(before + after + 300) &&
            sn.out_of_order == 0, "%s: ring usable after the salvage", what);
  rt_consumer_fini(&c);
  rt_session_close(s);
}

static void test_killed_before_payload(void) {
  run_case("before payload, first lap", 0, 20, BEFORE_PAYLOAD, 150, 0);
  run_case("before payload, later lap", 437, 20, BEFORE_PAYLOAD, 150, 0);
}
static void test_killed_mid_payload(void) {
  run_case("mid payload, first lap", 0, 20, MID_PAYLOAD, 150, 0);
  run_case("mid payload, later lap", 1013, 20, MID_PAYLOAD, 150, 0);
}
static void test_killed_opener(void) {
  run_case("opener, first lap", 0, 0, MID_PAYLOAD, 150, 1);
  run_case("opener, later lap", 400, 0, BEFORE_PAYLOAD, 150, 1);
}
static void test_killed_after_seal(void) { run_case("after seal", 437, 20, AFTER_SEAL, 150, 0); }
static void test_killed_in_open_sub_buffer(void) { run_case("open sub-buffer", 437, 20, MID_PAYLOAD, 10, 0); }

/* Two dead writers in one sub-buffer: which bytes belong to which is not
 * knowable, so it cannot be repaired; held only by dead writers, it is
 * abandoned (it is closed), its records counted lost: a lower bound, as the
 * second dead record hides where the records after it begin. */
static void test_two_dead_writers_abandoned(void) {
  pin_cpu(0);
  struct rt_session *s = new_session();
  uint32_t ring = ring_of_cpu0(s);
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  seq = 0;
  emit(s, 10);
  dead_writer(s, MID_PAYLOAD);
  emit(s, 10);
  dead_writer(s, BEFORE_PAYLOAD);
  emit(s, 150); /* the sub-buffer holds 100 records: seq 0..97 and the two dead ones */
  struct rt_salvage sv;
  CHECK(rt_consumer_salvage(&c, ring, 0, &sv) == RT_SALVAGE_ABANDONED && sv.released && !sv.lost_exact &&
            sv.dead_writers == 2 && sv.records_lost >= 12 && sv.records_lost <= 100,
        "abandoned (%llu records, exact %d): %s", (unsigned long long)sv.records_lost, sv.lost_exact, c.err);
  CHECK(strstr(c.err, "at least") && strstr(c.err, "more than one dead writer"), "message: %s", c.err);
  CHECK(lost(s) == sv.records_lost, "counted lost (%llu)", (unsigned long long)lost(s));
  struct seen sn = {.next_seq = 98};
  CHECK(drain_once(&c, 1, collect, &sn) >= 0, "drain");
  CHECK(sn.count == 72 && sn.next_seq == 170 && sn.out_of_order == 0,
        "the ring delivers again from the next sub-buffer (%ld, next %llu)", sn.count, (unsigned long long)sn.next_seq);
  rt_consumer_fini(&c);
  rt_session_close(s);
}

/* A live writer commits on the blocked ring in the middle of a salvage (test
 * hook at `point`). The salvage may complete only the dead record's bytes,
 * never a live one's (it commits them itself), or the counters overshoot and
 * the ring reads as corrupt from then on.
 * - reserve_in_hook: the live record is reserved and committed at the hook
 *   (between the consumer's read of the counters and of the write offset);
 * - otherwise it was reserved before the salvage began and is filled and
 *   committed at the hook (after the snapshot, before anything is decided). */
static const struct rt_session *hook_session;
static enum rt_test_point hook_point;
static int hook_fired;
static struct rt_reservation *hook_open; /* NULL: reserve and commit a new record */
static void live_writer_at(enum rt_test_point point, uint32_t ring) {
  (void)ring;
  if (point != hook_point || hook_fired) return;
  hook_fired = 1;
  if (!hook_open) {
    emit(hook_session, 1);
    return;
  }
  memcpy(rt_payload(hook_open), &seq, 8);
  seq++;
  rt_commit(hook_open);
}

static void salvage_races_live_writer(enum rt_test_point point, int reserve_in_hook, const char *what) {
  pin_cpu(0);
  struct rt_session *s = new_session();
  uint32_t ring = ring_of_cpu0(s);
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  struct seen sn = {0};
  seq = 0;
  emit(s, 20);
  dead_writer(s, MID_PAYLOAD);
  emit(s, 10); /* the sub-buffer stays open: live writers can still reserve in it */
  struct rt_reservation live;
  if (!reserve_in_hook) REQUIRE(rt_reserve(s, 1, PAYLOAD, &live) == RT_RESERVED, "%s: live reserve", what);
  CHECK(drain_once(&c, 1, collect, &sn) >= 0, "%s: drain up to the dead record", what);
  hook_session = s;
  hook_point = point;
  hook_fired = 0;
  hook_open = reserve_in_hook ? NULL : &live;
  rt_test_hook = live_writer_at;
  struct rt_salvage sv;
  int rc, tries = 0;
  while ((rc = rt_consumer_salvage(&c, ring, 0, &sv)) == 0 && ++tries < 3) {
    /* "changed meanwhile": the consumer tries again on its next look */
  }
  rt_test_hook = NULL;
  CHECK(hook_fired, "%s: the live writer ran inside the salvage", what);
  CHECK(rc == 1, "%s: salvaged (rc %d): %s", what, rc, c.err);
  emit(s, 300); /* fills and closes the sub-buffer, then later ones */
  long n = drain_once(&c, 1, collect, &sn);
  CHECK(n >= 0, "%s: no corrupt counters after the salvage", what);
  CHECK(sn.count == 20 + 10 + 1 + 300 && sn.next_seq == 331 && sn.out_of_order == 0,
        "%s: every live record delivered once, in order (%ld, next %llu, %ld out of order)", what, sn.count,
        (unsigned long long)sn.next_seq, sn.out_of_order);
  CHECK(sn.dead_writer == 0 && lost(s) == 1, "%s: the dead record is the one loss (lost %llu)", what,
        (unsigned long long)lost(s));
  rt_consumer_fini(&c);
  rt_session_close(s);
}

static void test_live_writer_during_salvage_snapshot(void) {
  salvage_races_live_writer(RT_TEST_SALVAGE_COUNTERS_READ, 1, "new record between counters and offset");
}
static void test_live_writer_commits_after_salvage_snapshot(void) {
  salvage_races_live_writer(RT_TEST_SALVAGE_SNAPSHOT_TAKEN, 0, "open record committed after the snapshot");
}

/* Only what dead threads hold is salvaged. A process of the session has
 * exited normally, and a live one is in the middle of a record, asleep (as if
 * descheduled), for as long as it takes: the ring waits for it, names it, and
 * changes nothing; once it commits, everything is delivered, nothing lost. */
static void test_live_holder_waited_for(void) {
  pin_cpu(0);
  struct rt_session *s = new_session();
  uint32_t ring = ring_of_cpu0(s);
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  struct seen sn = {0};
  seq = 0;
  emit(s, 20);
  pid_t early = fork();
  REQUIRE(early >= 0, "fork");
  if (early == 0) _exit(rt_emit(s, 2, "x", 1) == RT_RESERVED ? 0 : 1); /* writes, exits normally */
  int status;
  REQUIRE(waitpid(early, &status, 0) == early && WIFEXITED(status) && WEXITSTATUS(status) == 0, "early exit");
  int ready[2], go[2];
  REQUIRE(pipe(ready) == 0 && pipe(go) == 0, "pipe");
  pid_t live = fork();
  REQUIRE(live >= 0, "fork");
  if (live == 0) {
    struct rt_reservation r;
    if (rt_reserve(s, 1, PAYLOAD, &r) != RT_RESERVED) _exit(2);
    uint8_t buf[PAYLOAD] = {0};
    memcpy(buf, &seq, 8); /* the next sequence number: it lies before the parent's next records */
    char byte = 1;
    if (write(ready[1], &byte, 1) != 1 || read(go[0], &byte, 1) != 1) _exit(3); /* asleep mid-record */
    memcpy(rt_payload(&r), buf, PAYLOAD);
    rt_commit(&r);
    _exit(0);
  }
  char byte;
  REQUIRE(read(ready[0], &byte, 1) == 1, "live writer ready");
  seq++;
  emit(s, 10);
  uint64_t off, before, after;
  CHECK(rt_consumer_blocked(&c, ring, &off, &before) == 1, "blocked by the live writer");
  struct rt_salvage sv;
  int rc = rt_consumer_salvage(&c, ring, 0, &sv);
  CHECK(rc != RT_SALVAGED, "a live writer's record is not salvaged");
  CHECK(rc == RT_SALVAGE_WAIT && sv.pid == (uint32_t)live && strstr(c.err, "alive"),
        "the ring waits for pid %d (rc %d, pid %u): %s", (int)live, rc, sv.pid, c.err);
  CHECK(rt_consumer_blocked(&c, ring, &off, &after) == 1 && after == before && lost(s) == 0, "nothing changed");
  REQUIRE(write(go[1], &byte, 1) == 1, "wake the live writer");
  REQUIRE(waitpid(live, &status, 0) == live && WIFEXITED(status) && WEXITSTATUS(status) == 0, "live writer done");
  emit(s, 300);
  CHECK(drain_once(&c, 1, collect, &sn) >= 0, "drain");
  /* The early process's record (class 2, one byte) is delivered too. */
  CHECK(sn.count == 20 + 1 + 1 + 10 + 300 && sn.other == 1 && sn.out_of_order == 0 && sn.next_seq == 331,
        "every record delivered, in order (%ld, next %llu, %ld out of order)", sn.count,
        (unsigned long long)sn.next_seq, sn.out_of_order);
  CHECK(lost(s) == 0, "nothing lost (%llu)", (unsigned long long)lost(s));
  for (int i = 0; i < 2; i++) close(ready[i]), close(go[i]);
  rt_consumer_fini(&c);
  rt_session_close(s);
}

/* A thread that exits in the middle of a record, its process living on, is a
 * dead writer: its record is salvaged, named by its thread id. */
static const struct rt_session *exiting_session;
static uint32_t exiting_tid;
static void *exit_mid_record(void *arg) {
  (void)arg;
  pin_cpu(0);
  exiting_tid = (uint32_t)syscall(SYS_gettid);
  struct rt_reservation r;
  if (rt_reserve(exiting_session, 1, PAYLOAD, &r) == RT_RESERVED) memset(rt_payload(&r), 0xff, PAYLOAD);
  return NULL; /* never commits */
}

static void test_thread_exited_mid_record(void) {
  pin_cpu(0);
  struct rt_session *s = new_session();
  uint32_t ring = ring_of_cpu0(s);
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  struct seen sn = {0};
  seq = 0;
  emit(s, 20);
  exiting_session = s;
  pthread_t th;
  REQUIRE(pthread_create(&th, NULL, exit_mid_record, NULL) == 0 && pthread_join(th, NULL) == 0, "thread");
  emit(s, 10);
  struct rt_salvage sv;
  int rc = rt_consumer_salvage(&c, ring, 0, &sv);
  CHECK(rc == RT_SALVAGED && sv.tid == exiting_tid && sv.pid == (uint32_t)getpid() && sv.hole_bytes == 40,
        "salvaged the exited thread's record (rc %d, tid %u of %u, hole %u): %s", rc, sv.tid, exiting_tid,
        sv.hole_bytes, c.err);
  emit(s, 300);
  CHECK(drain_once(&c, 1, collect, &sn) >= 0, "drain");
  CHECK(sn.count == 330 && sn.out_of_order == 0 && sn.dead_writer == 0 && lost(s) == 1,
        "every other record, in order; one lost (%ld, lost %llu)", sn.count, (unsigned long long)lost(s));
  rt_consumer_fini(&c);
  rt_session_close(s);
}

static void test_healthy_ring_not_blocked(void) {
  pin_cpu(0);
  struct rt_session *s = new_session();
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  seq = 0;
  emit(s, 150);
  uint64_t off, committed;
  struct rt_salvage sv;
  CHECK(rt_consumer_blocked(&c, ring_of_cpu0(s), &off, &committed) == 0, "not blocked");
  CHECK(rt_consumer_salvage(&c, ring_of_cpu0(s), 0, &sv) == 0, "nothing to salvage");
  rt_consumer_fini(&c);
  rt_session_close(s);
}

int main(void) {
  RUN(test_killed_before_payload);
  RUN(test_killed_mid_payload);
  RUN(test_killed_opener);
  RUN(test_killed_after_seal);
  RUN(test_killed_in_open_sub_buffer);
  RUN(test_two_dead_writers_abandoned);
  RUN(test_live_writer_during_salvage_snapshot);
  RUN(test_live_writer_commits_after_salvage_snapshot);
  RUN(test_live_holder_waited_for);
  RUN(test_thread_exited_mid_record);
  RUN(test_healthy_ring_not_blocked);
  return CHECK_EXIT();
}
