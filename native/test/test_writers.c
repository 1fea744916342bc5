/* The writer table (native/ring/writers.h): each writing thread has a slot
 * naming it (pid, tid, start time, pid namespace) and claiming the
 * reservation it has open; the consumer salvages only what dead threads hold.
 * Here: liveness (reused tids, exited threads), slots per thread and their
 * reuse, fork, a full table, nested reservations, damaged slots. */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "check.h"
#include "util.h"

static struct rt_session *new_session(uint32_t slots) {
  char name[64], err[256];
  struct rt_session *s;
  test_session_name(name, sizeof name, "writers");
  struct rt_session_options o = {.sub_size = 4096, .n_sub = 4, .n_writer_slots = slots};
  REQUIRE(rt_session_create(name, &o, &s, err, sizeof err) == 0, "%s", err);
  rt_session_unlink(name, err, sizeof err);
  return s;
}

static uint32_t gettid_(void) { return (uint32_t)syscall(SYS_gettid); }

/* The slot of the calling thread in s (after it wrote), or NULL. */
static const struct rt_writer_slot *slot_of(const struct rt_session *s, uint32_t pid, uint32_t tid) {
  for (uint32_t i = 0; i < s->n_writer_slots; i++) {
    const struct rt_writer_slot *sl = &s->writers->slots[i];
    if (RT_SLOT_KIND(sl->state) == RT_SLOT_ACTIVE && sl->pid == pid && sl->tid == tid) return sl;
  }
  return NULL;
}

static uint32_t active_slots(const struct rt_session *s) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < s->n_writer_slots; i++) n += RT_SLOT_KIND(s->writers->slots[i].state) == RT_SLOT_ACTIVE;
  return n;
}

static void emit_one(const struct rt_session *s) {
  uint64_t v = 7;
  CHECK(rt_emit(s, 1, &v, sizeof v) == RT_RESERVED, "emit");
}

/* ---- liveness ---- */

static uint32_t exited_tid;
static void *note_tid(void *arg) {
  (void)arg;
  exited_tid = gettid_();
  return NULL;
}

static void test_liveness(void) {
  struct rt_session *s = new_session(8);
  emit_one(s);
  const struct rt_writer_slot *me = slot_of(s, (uint32_t)getpid(), gettid_());
  REQUIRE(me != NULL, "this thread has a slot after writing");
  CHECK(me->start_time > 0 && me->pid_ns > 0, "identity recorded (start %llu, ns %llu)",
        (unsigned long long)me->start_time, (unsigned long long)me->pid_ns);
  CHECK(rt_writer_liveness(me->pid, me->tid, me->start_time, me->pid_ns) == RT_WRITER_ALIVE, "this thread is alive");
  /* The same pid and tid with another start time: the tid was reused. */
  CHECK(rt_writer_liveness(me->pid, me->tid, me->start_time + 1, me->pid_ns) == RT_WRITER_DEAD,
        "a reused tid is not the writer");
  CHECK(rt_writer_liveness(me->pid, me->tid, me->start_time, me->pid_ns + 1) == RT_WRITER_UNKNOWN,
        "another pid namespace: unknown, never dead");
  pthread_t th;
  REQUIRE(pthread_create(&th, NULL, note_tid, NULL) == 0 && pthread_join(th, NULL) == 0, "thread");
  CHECK(rt_writer_liveness(me->pid, exited_tid, me->start_time, me->pid_ns) == RT_WRITER_DEAD, "an exited thread");
  /* A reaped child process. */
  pid_t child = fork();
  REQUIRE(child >= 0, "fork");
  if (child == 0) _exit(0);
  int status;
  REQUIRE(waitpid(child, &status, 0) == child, "wait");
  CHECK(rt_writer_liveness((uint32_t)child, (uint32_t)child, 1, me->pid_ns) == RT_WRITER_DEAD, "an exited process");
  /* A zombie (exited, not reaped) is dead too. */
  child = fork();
  REQUIRE(child >= 0, "fork");
  if (child == 0) _exit(0);
  char path[64], buf[512] = "";
  snprintf(path, sizeof path, "/proc/%d/stat", (int)child);
  for (int i = 0; i < 2000; i++) { /* until it has exited */
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (p && p[2] == 'Z') break;
    usleep(1000);
  }
  uint64_t zombie_start = 0;
  { /* its start time, field 22 */
    char *p = strrchr(buf, ')') + 2;
    for (int f = 3; f < 22 && p; f++) p = strchr(p, ' ') + 1;
    zombie_start = strtoull(p, NULL, 10);
  }
  CHECK(rt_writer_liveness((uint32_t)child, (uint32_t)child, zombie_start, me->pid_ns) == RT_WRITER_DEAD,
        "a zombie");
  waitpid(child, &status, 0);
  rt_session_close(s);
}

/* ---- slots per thread ---- */

static const struct rt_session *shared;
static uint32_t thread_tid;
static void *write_once(void *arg) {
  (void)arg;
  thread_tid = gettid_();
  emit_one(shared);
  return NULL;
}

static void test_one_slot_per_thread(void) {
  struct rt_session *s = new_session(8);
  emit_one(s);
  emit_one(s);
  CHECK(active_slots(s) == 1, "one slot for this thread (%u)", active_slots(s));
  struct rt_writer w;
  CHECK(rt_writer_attach(&w, s) == 0, "attach");
  CHECK(w.slot == slot_of(s, (uint32_t)getpid(), gettid_()) && active_slots(s) == 1,
        "an attached writer of the same thread shares its slot");
  emit_one(s); /* through w: the thread's writer now */
  CHECK(w.claim->open == 0 && w.claim->nested == 0, "claim given back after the commit");
  rt_writer_detach(&w);
  shared = s;
  pthread_t th;
  REQUIRE(pthread_create(&th, NULL, write_once, NULL) == 0 && pthread_join(th, NULL) == 0, "thread");
  CHECK(active_slots(s) == 2 && slot_of(s, (uint32_t)getpid(), thread_tid), "another thread, another slot");
  rt_session_close(s);
  rt_writer_detach(&w); /* touches no shared memory: fine after close (ASan checks) */
}

/* A child of fork() writes through a slot of its own, not its parent's. */
static void test_fork_takes_own_slot(void) {
  struct rt_session *s = new_session(8);
  struct rt_writer w;
  REQUIRE(rt_writer_attach(&w, s) == 0, "attach");
  const struct rt_writer_slot *parent = w.slot;
  pid_t child = fork();
  REQUIRE(child >= 0, "fork");
  if (child == 0) {
    struct rt_reservation r;
    if (rt_reserve(s, 1, 8, &r) != RT_RESERVED) _exit(2);
    int ok = r.claim != &parent->claim && r.claim->open != 0 && parent->claim.open == 0 &&
             slot_of(s, (uint32_t)getpid(), gettid_()) == w.slot;
    memset(rt_payload(&r), 0, 8);
    rt_commit(&r);
    _exit(ok ? 0 : 3);
  }
  int status;
  REQUIRE(waitpid(child, &status, 0) == child, "wait");
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child claimed in its own slot (status %d)", status);
  CHECK(parent->pid == (uint32_t)getpid() && active_slots(s) == 2, "the parent's slot is still the parent's");
  rt_writer_detach(&w);
  rt_session_close(s);
}

/* ---- a full table ---- */

static int thread_attach_rc;
static pthread_mutex_t gate = PTHREAD_MUTEX_INITIALIZER;
static void *attach_and_wait(void *arg) {
  (void)arg;
  struct rt_writer w;
  thread_attach_rc = rt_writer_attach(&w, shared);
  __atomic_store_n(&thread_tid, gettid_(), __ATOMIC_RELEASE);
  pthread_mutex_lock(&gate); /* alive until the test lets go */
  pthread_mutex_unlock(&gate);
  rt_writer_detach(&w);
  return NULL;
}

static void test_full_table(void) {
  struct rt_session *s = new_session(2);
  shared = s;
  emit_one(s); /* slot 1: this thread */
  pthread_mutex_lock(&gate);
  pthread_t a, b;
  thread_tid = 0;
  REQUIRE(pthread_create(&a, NULL, attach_and_wait, NULL) == 0, "thread a");
  while (!__atomic_load_n(&thread_tid, __ATOMIC_ACQUIRE)) usleep(100);
  CHECK(thread_attach_rc == 0 && active_slots(s) == 2, "slot 2: a live thread");
  thread_tid = 0;
  REQUIRE(pthread_create(&b, NULL, attach_and_wait, NULL) == 0, "thread b");
  while (!__atomic_load_n(&thread_tid, __ATOMIC_ACQUIRE)) usleep(100);
  CHECK(thread_attach_rc == 1 && s->writers->unowned == 1, "no slot for a third live thread: it writes unowned");
  pthread_mutex_unlock(&gate);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  /* With an unowned writer nothing can be attributed: a blocked ring waits. */
  struct rt_reservation r;
  REQUIRE(rt_reserve(s, 1, 8, &r) == RT_RESERVED, "reserve");
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  struct rt_salvage sv;
  int rc = rt_consumer_salvage(&c, s->use_rseq ? (uint32_t)r.cpu : (uint32_t)(r.ring - s->rings), 0, &sv);
  CHECK(rc == RT_SALVAGE_WAIT && strstr(c.err, "no free slot"), "held: %s", c.err);
  memset(rt_payload(&r), 0, 8);
  rt_commit(&r);
  rt_consumer_fini(&c);
  rt_session_close(s);

  /* A dead thread's slot is taken by the next thread. */
  s = new_session(2);
  shared = s;
  emit_one(s);
  thread_tid = 0;
  REQUIRE(pthread_create(&a, NULL, write_once, NULL) == 0 && pthread_join(a, NULL) == 0, "thread a");
  uint32_t a_tid = thread_tid;
  REQUIRE(pthread_create(&b, NULL, write_once, NULL) == 0 && pthread_join(b, NULL) == 0, "thread b");
  CHECK(s->writers->unowned == 0 && slot_of(s, (uint32_t)getpid(), thread_tid) && !slot_of(s, (uint32_t)getpid(), a_tid),
        "thread b took dead thread a's slot (unowned %llu)", (unsigned long long)s->writers->unowned);
  rt_session_close(s);
}

/* ---- nesting ---- */

static void test_nested_reservations(void) {
  struct rt_session *s = new_session(8);
  struct rt_writer w;
  REQUIRE(rt_writer_attach(&w, s) == 0, "attach");
  struct rt_reservation outer, inner;
  REQUIRE(rt_reserve(s, 1, 8, &outer) == RT_RESERVED, "outer");
  uint64_t outer_claim = w.claim->open;
  CHECK(outer_claim != 0 && w.claim->nested == 0, "outer claimed");
  REQUIRE(rt_reserve(s, 1, 8, &inner) == RT_RESERVED, "inner (as a signal handler would)");
  CHECK(w.claim->open != outer_claim && w.claim->nested == 1, "inner claimed, the hidden outer counted");
  memset(rt_payload(&inner), 0, 8);
  rt_commit(&inner);
  CHECK(w.claim->open == outer_claim && w.claim->nested == 0, "the outer claim is back");
  memset(rt_payload(&outer), 0, 8);
  rt_commit(&outer);
  CHECK(w.claim->open == 0, "nothing open");
  rt_writer_detach(&w);
  rt_session_close(s);
}

/* A live thread with a nested reservation may hold anything: the ring waits. */
static void test_nested_live_writer_waited_for(void) {
  struct rt_session *s = new_session(8);
  struct rt_writer w;
  REQUIRE(rt_writer_attach(&w, s) == 0, "attach");
  __atomic_store_n(&w.claim->nested, 1, __ATOMIC_RELAXED); /* as during a nested record */
  pid_t child = fork();
  REQUIRE(child >= 0, "fork");
  if (child == 0) { /* dies mid-record */
    struct rt_reservation r;
    if (rt_reserve(s, 1, 8, &r) == RT_RESERVED) raise(SIGKILL);
    _exit(2);
  }
  int status;
  REQUIRE(waitpid(child, &status, 0) == child && WIFSIGNALED(status), "child killed");
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  struct rt_salvage sv;
  int rc = RT_SALVAGE_NOTHING;
  for (uint32_t ring = 0; ring < s->n_rings && rc == RT_SALVAGE_NOTHING; ring++) rc = rt_consumer_salvage(&c, ring, 0, &sv);
  CHECK(rc == RT_SALVAGE_WAIT && sv.pid == (uint32_t)getpid(), "held by the nested live thread (rc %d): %s", rc, c.err);
  __atomic_store_n(&w.claim->nested, 0, __ATOMIC_RELAXED);
  rc = RT_SALVAGE_NOTHING;
  for (uint32_t ring = 0; ring < s->n_rings && rc == RT_SALVAGE_NOTHING; ring++) rc = rt_consumer_salvage(&c, ring, 0, &sv);
  CHECK(rc == RT_SALVAGED && sv.pid == (uint32_t)child, "then salvaged (rc %d): %s", rc, c.err);
  rt_consumer_fini(&c);
  rt_writer_detach(&w);
  rt_session_close(s);
}

/* ---- damage ---- */

static void test_damaged_slot_refused(void) {
  struct rt_session *s = new_session(8);
  pid_t child = fork();
  REQUIRE(child >= 0, "fork");
  if (child == 0) {
    struct rt_reservation r;
    if (rt_reserve(s, 1, 8, &r) == RT_RESERVED) raise(SIGKILL);
    _exit(2);
  }
  int status;
  REQUIRE(waitpid(child, &status, 0) == child && WIFSIGNALED(status), "child killed");
  struct rt_writer_slot *sl = (struct rt_writer_slot *)slot_of(s, (uint32_t)child, (uint32_t)child);
  REQUIRE(sl != NULL, "the dead child's slot");
  uint64_t claim = sl->claim.open;
  sl->claim.open = RT_CLAIM_TAG(s->n_rings + 5) + 1; /* names no ring */
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  struct rt_salvage sv;
  uint32_t ring = (uint32_t)(claim >> RT_CLAIM_SHIFT) - 1;
  sl->claim.open = claim + (uint64_t)(s->n_rings + 5 - ring) * RT_CLAIM_TAG(0); /* same offset, ring out of range */
  sl->claim.nested = 1; /* so it counts as a holder of this ring */
  CHECK(rt_consumer_salvage(&c, ring, 0, &sv) == RT_SALVAGE_ERROR && strstr(c.err, "writer table slot"),
        "damaged slot refused: %s", c.err);
  sl->claim.open = claim;
  sl->claim.nested = 0;
  sl->state = (sl->state & ~3ull) | 3;
  CHECK(rt_consumer_salvage(&c, ring, 0, &sv) == RT_SALVAGE_ERROR && strstr(c.err, "writer table slot"),
        "bad slot state refused: %s", c.err);
  rt_consumer_fini(&c);
  rt_session_close(s);
}

int main(void) {
  pin_cpu(0);
  RUN(test_liveness);
  RUN(test_one_slot_per_thread);
  RUN(test_fork_takes_own_slot);
  RUN(test_full_table);
  RUN(test_nested_reservations);
  RUN(test_nested_live_writer_waited_for);
  RUN(test_damaged_slot_refused);
  return CHECK_EXIT();
}
