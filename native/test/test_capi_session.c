/* The public C API's session handling, as a program meets it: the session
 * appears after the program started, is removed, is replaced by a new one of
 * the same name; RINGTRACE_SESSION is off, not a session name, or names an
 * object that is not a session. The program never fails and prints at most
 * one line; what is recorded is exactly what was emitted while attached. */
#include <pthread.h>
#include "capi_util.h"

RT_EVENT(capi_test, seq, RT_FIELD(u32, worker), RT_FIELD(u64, n))
#define DESC_SEQ                                                                          \
  "{\"v\":1,\"provider\":\"capi_test\",\"name\":\"seq\",\"kind\":\"event\",\"fields\":[" \
  "{\"name\":\"worker\",\"type\":\"u32\"},{\"name\":\"n\",\"type\":\"u64\"}]}"

/* Sequence numbers seen in one session. A thread that migrated has records
 * in several rings, drained ring by ring: order is checked within a ring,
 * completeness over all of them (first..next-1, each once). */
#define MAX_SEQ 8192
struct run {
  uint32_t id;
  uint64_t first, next, last_in_ring[64];
  long count, bad;
  uint8_t seen[MAX_SEQ];
};
static void count_run(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev, const uint8_t *p) {
  struct run *r = ctx;
  uint32_t ctxw[2];
  uint64_t n;
  memcpy(ctxw, p, 8);
  memcpy(&n, p + 12, 8);
  uint64_t *last = &r->last_in_ring[ch->ring % 64];
  if (ev->id != r->id || ctxw[0] != (uint32_t)getpid() || ctxw[1] != own_tid() || n >= MAX_SEQ || r->seen[n] ||
      (*last && n < *last)) {
    r->bad++;
    return;
  }
  r->seen[n] = 1;
  *last = n;
  if (!r->count || n < r->first) r->first = n;
  if (n + 1 > r->next) r->next = n + 1;
  r->count++;
}

static struct run drain_run(struct rt_session *s) {
  struct rt_consumer c;
  static struct run r;
  memset(&r, 0, sizeof r);
  r.id = class_id(s, DESC_SEQ);
  REQUIRE(rt_consumer_init(&c, s) == 0, "consumer");
  CHECK(drain_once(&c, 1, count_run, &r) >= 0, "drain");
  rt_consumer_fini(&c);
  CHECK(r.bad == 0, "%ld records with a wrong id, context, or a sequence number repeated or out of order", r.bad);
  CHECK(r.count == 0 || (uint64_t)r.count == r.next - r.first, "%ld records, not all of %llu..%llu", r.count,
        (unsigned long long)r.first, (unsigned long long)r.next - 1);
  return r;
}

/* Mappings of the session's /dev/shm object in this process, removed ones
 * (" (deleted)") apart. */
static void count_maps(const char *name, int *live, int *deleted) {
  char path[128], line[512];
  snprintf(path, sizeof path, "/dev/shm/ringtrace-%u-%s", (unsigned)geteuid(), name);
  *live = *deleted = 0;
  FILE *f = fopen("/proc/self/maps", "r");
  REQUIRE(f != NULL, "maps");
  while (fgets(line, sizeof line, f)) {
    char *at = strstr(line, path);
    if (!at || (at[strlen(path)] != '\n' && at[strlen(path)] != ' ')) continue;
    if (strstr(at, "(deleted)")) ++*deleted;
    else ++*live;
  }
  fclose(f);
}

static void late_session_is_found(void) {
  char name[64], path[256], log[4096], line[64];
  capi_session_name(name, sizeof name, "late");
  for (uint64_t n = 0; n < 10; n++) rt_trace(capi_test, seq, 0, n); /* no session yet: nothing happens */
  CHECK(!rt_enabled(capi_test, seq), "no session: not enabled");
  struct rt_session *s = capi_session(name, 65536);
  WAIT_ENABLED(capi_test, seq, 1);
  for (uint64_t n = 10; n < 1010; n++) rt_trace(capi_test, seq, 0, n);
  struct run r = drain_run(s);
  CHECK(r.count == 1000 && r.first == 10, "%ld records from %llu; want 1000 from 10", r.count,
        (unsigned long long)r.first);
  REQUIRE(rt_registry_procs_path(s, path, sizeof path) == 0, "procs path");
  read_text(path, log, sizeof log);
  snprintf(line, sizeof line, "%d %d test_capi_session\n", (int)getpid(), (int)getpid());
  CHECK(strstr(log, line) != NULL, "the process log has '%s':\n%s", line, log);
  capi_remove(s, name);
}

/* A thread emitting in a tight loop reads the clock only every 64th event
 * while detached: it must still notice a session that appears. */
static void fast_emitter_finds_late_session(void) {
  char name[64];
  capi_session_name(name, sizeof name, "fast");
  for (int i = 0; i < 1000000; i++) rt_trace(capi_test, seq, 0, 0);
  struct rt_session *s = capi_session(name, 1u << 20);
  /* Number 0 until attached: only the event during which it attached is recorded. */
  for (long i = 0; i < 3000000000L && !rt_enabled(capi_test, seq); i++) rt_trace(capi_test, seq, 0, 0);
  REQUIRE(rt_enabled(capi_test, seq), "never attached while emitting");
  for (uint64_t n = 1; n <= 1000; n++) rt_trace(capi_test, seq, 0, n);
  struct run r = drain_run(s);
  CHECK(r.next == 1001 && r.count == 1001 - (long)r.first && r.first <= 1, "%ld records %llu..%llu", r.count,
        (unsigned long long)r.first, (unsigned long long)r.next - 1);
  capi_remove(s, name);
}

/* The session exists when the program starts and several threads emit at
 * once: whichever attaches, the others wait for it; none loses its first
 * events (as under `trace-consume record -- program`). */
#define RACERS 4
static pthread_barrier_t start_line;
static void *racer(void *arg) {
  pthread_barrier_wait(&start_line);
  for (uint64_t n = 0; n < 100; n++) rt_trace(capi_test, seq, (uint32_t)(uintptr_t)arg, n);
  return NULL;
}
static long racer_records;
static void count_any(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev, const uint8_t *p) {
  (void)ctx, (void)ch, (void)p;
  racer_records += ev->id >= RT_FIRST_CLASS_ID;
}

static void threads_at_startup_lose_nothing(void) {
  char name[64];
  capi_session_name(name, sizeof name, "startup");
  struct rt_session *s = capi_session(name, 65536);
  pthread_t th[RACERS];
  pthread_barrier_init(&start_line, NULL, RACERS);
  for (uintptr_t i = 0; i < RACERS; i++) REQUIRE(pthread_create(&th[i], NULL, racer, (void *)i) == 0, "thread");
  for (int i = 0; i < RACERS; i++) pthread_join(th[i], NULL);
  struct rt_consumer c;
  REQUIRE(rt_consumer_init(&c, s) == 0, "consumer");
  CHECK(drain_once(&c, 1, count_any, NULL) >= 0, "drain");
  CHECK(racer_records == RACERS * 100, "%ld of %d events recorded", racer_records, RACERS * 100);
  rt_consumer_fini(&c);
  capi_remove(s, name);
}

/* Emit until the API notices the session is gone (it checks every 100 ms):
 * everything emitted until then is in the session, nothing after. */
static uint64_t emit_until_detached(uint64_t n) {
  for (int i = 0; i < 3000 && rt_enabled(capi_test, seq); i++, n++) {
    rt_trace(capi_test, seq, 0, n);
    sleep_ms(1);
  }
  REQUIRE(!rt_enabled(capi_test, seq), "still attached 3 s after the session was removed");
  return n;
}

static void removed_session_is_left(void) {
  char name[64];
  capi_session_name(name, sizeof name, "removed");
  struct rt_session *s = capi_session(name, 65536);
  WAIT_ENABLED(capi_test, seq, 1);
  int live, deleted;
  count_maps(name, &live, &deleted);
  CHECK(live == 3 && deleted == 0, "attached: the test's and the API's two (rings, selection generation) (%d live, %d removed)",
        live, deleted);
  for (uint64_t n = 0; n < 100; n++) rt_trace(capi_test, seq, 0, n);
  capi_remove(s, name);
  uint64_t emitted = emit_until_detached(100);
  for (uint64_t n = emitted; n < emitted + 100; n++) rt_trace(capi_test, seq, 0, n); /* detached: dropped */
  struct run r = drain_run(s);
  forget_registry(s);
  CHECK(r.count == (long)emitted && r.first == 0, "%ld records; %llu emitted while attached", r.count,
        (unsigned long long)emitted);
  count_maps(name, &live, &deleted);
  CHECK(live == 0 && deleted == 1, "the API let its mapping go (%d live, %d removed; the test's own is 1)", live,
        deleted);
}

static void replaced_session_is_followed(void) {
  char name[64];
  capi_session_name(name, sizeof name, "replaced");
  struct rt_session *a = capi_session(name, 65536);
  WAIT_ENABLED(capi_test, seq, 1);
  for (uint64_t n = 0; n < 100; n++) rt_trace(capi_test, seq, 0, n);
  capi_remove(a, name);
  struct rt_session *b = capi_session(name, 65536);
  /* The same name, a new object: emit until events arrive in it. */
  uint64_t n = 100;
  struct run in_b = {0};
  for (int i = 0; i < 3000 && in_b.count == 0; i++) {
    rt_trace(capi_test, seq, 0, n++);
    sleep_ms(1);
    in_b = drain_run(b);
  }
  REQUIRE(in_b.count == 1, "events reach the new session (%ld)", in_b.count);
  for (uint64_t end = n + 100; n < end; n++) rt_trace(capi_test, seq, 0, n);
  struct run in_a = drain_run(a), rest = drain_run(b);
  forget_registry(a);
  CHECK(in_a.first == 0 && in_a.next == in_b.first, "old session: 0..%llu, then the new one from %llu",
        (unsigned long long)in_a.next, (unsigned long long)in_b.first);
  CHECK(rest.first == in_b.next && rest.next == n, "new session: all the rest, in order (%llu..%llu of %llu)",
        (unsigned long long)rest.first, (unsigned long long)rest.next, (unsigned long long)n);
  int live, deleted;
  count_maps(name, &live, &deleted);
  CHECK(live == 3 && deleted == 1, "the API maps the new session only (%d live, %d removed)", live, deleted);
  capi_remove(b, name);
}

/* Emit for ~300 ms (three recheck periods) and return what was printed. */
static void emit_a_while(const char *err_path, char *printed, size_t len) {
  for (int i = 0; i < 300; i++) {
    rt_trace(capi_test, seq, 0, (uint64_t)i);
    sleep_ms(1);
  }
  fflush(stderr);
  read_text(err_path, printed, len);
}

static char err_path[128];

static void off_is_silent(void) {
  const char *values[2] = {"off", ""};
  for (int v = 0; v < 2; v++) {
    pid_t pid = fork();
    REQUIRE(pid >= 0, "fork");
    if (pid == 0) {
      char printed[1024];
      setenv("RINGTRACE_SESSION", values[v], 1);
      capture_stderr(err_path);
      emit_a_while(err_path, printed, sizeof printed);
      CHECK(!rt_enabled(capi_test, seq), "RINGTRACE_SESSION='%s': never enabled", values[v]);
      CHECK(printed[0] == 0, "RINGTRACE_SESSION='%s': silent, printed '%s'", values[v], printed);
      _exit(check_failures ? 1 : 0);
    }
    int status;
    REQUIRE(waitpid(pid, &status, 0) == pid, "wait");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "RINGTRACE_SESSION='%s': status %d", values[v], status);
  }
}

static void bad_name_says_so_once(void) {
  char printed[1024];
  setenv("RINGTRACE_SESSION", "../etc", 1);
  capture_stderr(err_path);
  emit_a_while(err_path, printed, sizeof printed);
  CHECK(count_lines(printed, "ringtrace:") == 1 && strstr(printed, "RINGTRACE_SESSION") &&
            strstr(printed, "untraced"),
        "one line naming the variable: '%s'", printed);
}

/* An object at the session's path that is not a session: refused with one
 * message, not retried every period; once replaced by a real session the
 * program attaches. */
static void unusable_session_then_a_real_one(void) {
  char name[64], path[160], printed[1024];
  capi_session_name(name, sizeof name, "unusable");
  snprintf(path, sizeof path, "/dev/shm/ringtrace-%u-%s", (unsigned)geteuid(), name);
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
  REQUIRE(fd >= 0 && ftruncate(fd, 65536) == 0, "garbage object");
  close(fd);
  capture_stderr(err_path);
  emit_a_while(err_path, printed, sizeof printed);
  CHECK(!rt_enabled(capi_test, seq), "not attached to garbage");
  CHECK(count_lines(printed, "ringtrace:") == 1 && strstr(printed, "cannot trace into session"),
        "one line: '%s'", printed);
  unlink(path);
  struct rt_session *s = capi_session(name, 65536);
  WAIT_ENABLED(capi_test, seq, 1);
  for (uint64_t n = 0; n < 10; n++) rt_trace(capi_test, seq, 0, n);
  struct run r = drain_run(s);
  CHECK(r.count == 10, "recorded after the replacement: %ld", r.count);
  read_text(err_path, printed, sizeof printed);
  CHECK(count_lines(printed, "ringtrace:") == 1, "still one line: '%s'", printed);
  capi_remove(s, name);
}

/* A class that bypassed RT_EVENT's compile-time checks (hand-made, or from a
 * newer header) is refused when registered: once, and not per event. */
static void invalid_class_is_refused(void) {
  char name[64], printed[1024];
  static struct rt_class reserved = {RT_API_VERSION, RT__LEVEL_info, "capi_test", "bad", " pid_:u32", RT__STATE_UNSET, 0, NULL, NULL};
  static struct rt_class future = {RT_API_VERSION + 1, RT__LEVEL_info, "capi_test", "future", "", RT__STATE_UNSET, 0, NULL, NULL};
  capi_session_name(name, sizeof name, "badclass");
  struct rt_session *s = capi_session(name, 65536);
  capture_stderr(err_path);
  WAIT_ENABLED(capi_test, seq, 1);
  struct rt_slot slot;
  for (int i = 0; i < 100; i++) {
    CHECK(rt__reserve(&reserved, 4, &slot) == NULL, "reserved field name refused");
    CHECK(rt__reserve(&future, 0, &slot) == NULL, "unknown API version refused");
  }
  rt_trace(capi_test, seq, 0, 0);
  CHECK(drain_run(s).count == 1, "valid classes are still recorded");
  fflush(stderr);
  read_text(err_path, printed, sizeof printed);
  CHECK(count_lines(printed, "ringtrace:") == 1 && strstr(printed, "field name 'pid' is reserved"),
        "one line naming the problem: '%s'", printed);
  capi_remove(s, name);
}

int main(void) {
  snprintf(err_path, sizeof err_path, "/tmp/rt-capi-stderr-%d", (int)getpid());
  RUN_NAMED("a session created after the program started is attached", in_child(late_session_is_found));
  RUN_NAMED("a thread emitting fast finds a session that appears", in_child(fast_emitter_finds_late_session));
  RUN_NAMED("threads emitting at startup into an existing session lose nothing",
            in_child(threads_at_startup_lose_nothing));
  RUN_NAMED("a removed session is left, its memory released", in_child(removed_session_is_left));
  RUN_NAMED("a replaced session is followed, nothing lost or doubled", in_child(replaced_session_is_followed));
  RUN_NAMED("RINGTRACE_SESSION=off or empty: untraced, silent", in_child(off_is_silent));
  RUN_NAMED("a bad RINGTRACE_SESSION: untraced, one line", in_child(bad_name_says_so_once));
  RUN_NAMED("an object that is not a session: refused once, then a real one attached",
            in_child(unusable_session_then_a_real_one));
  RUN_NAMED("a class with a reserved field or another API version is refused once",
            in_child(invalid_class_is_refused));
  unlink(err_path);
  return CHECK_EXIT();
}
