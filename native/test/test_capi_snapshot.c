/* rt_snapshot_request (ringtrace.h), as a C program meets it: a request is a
 * ringtrace:snapshot_request record (reason, calls folded into it) from the
 * calling thread, counted in the session header only once the record is
 * committed; at most one per 100 ms per process, the calls in between folded
 * into the next; recorded whatever the session's selection; nothing without
 * a session. The test plays the recorder. Each scenario runs in a child
 * process (the API attaches once per process, and the rate limit is the
 * process's). Linked with the test-hooks copy of the library, to look at the
 * session between the record's commit and the count. */
#include <pthread.h>
#include "capi_util.h"
#include "selection.h"
#include "test_hooks.h"
#include "trigger.h"

#define DESC_REQUEST                                                                                  \
  "{\"v\":1,\"provider\":\"ringtrace\",\"name\":\"snapshot_request\",\"kind\":\"event\",\"fields\":[" \
  "{\"name\":\"reason\",\"type\":\"string\"},{\"name\":\"folded\",\"type\":\"u64\"}]}"

/* The requests found in a session: reason and folded count, in ring order. */
#define MAX_REQUESTS 16
struct requests {
  uint32_t id;
  int n, bad;
  uint32_t tid[MAX_REQUESTS];
  uint64_t folded[MAX_REQUESTS];
  char reason[MAX_REQUESTS][RT_MAX_STRING_BYTES + 1];
};

static void keep_request(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev, const uint8_t *p) {
  (void)ch;
  struct requests *r = ctx;
  uint32_t len = ev->size - RT_EVENT_HEADER_SIZE, who[2];
  if (ev->id != r->id) return;
  const uint8_t *nul = len > 8 ? memchr(p + 8, 0, len - 8) : NULL;
  if (r->n == MAX_REQUESTS || !nul || (uint32_t)(nul + 1 - p) + 8 != len) {
    r->bad++;
    return;
  }
  memcpy(who, p, 8);
  if (who[0] != (uint32_t)getpid()) r->bad++;
  r->tid[r->n] = who[1];
  memcpy(r->reason[r->n], p + 8, (size_t)(nul + 1 - (p + 8)));
  memcpy(&r->folded[r->n], nul + 1, 8);
  r->n++;
}

/* Everything committed so far, by a consumer that lives for the session (a
 * new one would hand out the same prefix again). */
static struct rt_consumer consumer;
static void drain_requests(struct rt_session *s, struct requests *r) {
  memset(r, 0, sizeof *r);
  r->id = class_id(s, DESC_REQUEST);
  CHECK(drain_once(&consumer, 1, keep_request, r) >= 0, "drain");
  CHECK(r->bad == 0, "%d malformed or foreign requests", r->bad);
}

static struct rt_session *session_for_test(char *name, size_t len, const char *tag) {
  capi_session_name(name, len, tag);
  struct rt_session *s = capi_session(name, 65536);
  REQUIRE(rt_consumer_init(&consumer, s) == 0, "consumer");
  return s;
}

static void end_session(struct rt_session *s, const char *name) {
  rt_consumer_fini(&consumer);
  capi_remove(s, name);
}

static void no_session_no_request(void) {
  char name[64];
  capi_session_name(name, sizeof name, "none");
  CHECK(rt_snapshot_request("nobody listens") == 0, "no session: no request");
  /* The API looks for the session again within 100 ms. */
  struct rt_session *s = capi_session(name, 65536);
  int made = 0;
  for (int i = 0; i < 300 && !made; i++) {
    made = rt_snapshot_request("now someone does");
    if (!made) sleep_ms(10);
  }
  CHECK(made == 1, "a request once the session exists");
  CHECK(rt_trigger_count(s) == 1, "counted once: %llu", (unsigned long long)rt_trigger_count(s));
  capi_remove(s, name);
}

static void off_no_request(void) {
  setenv("RINGTRACE_SESSION", "off", 1);
  CHECK(rt_snapshot_request("off") == 0, "tracing off: no request");
}

static void request_recorded_then_counted(void) {
  char name[64];
  struct rt_session *s = session_for_test(name, sizeof name, "req");
  struct requests r;
  CHECK(rt_snapshot_request("disk full") == 1, "the first request is made");
  CHECK(rt_trigger_count(s) == 1, "counted once: %llu", (unsigned long long)rt_trigger_count(s));
  drain_requests(s, &r);
  CHECK(r.n == 1 && !strcmp(r.reason[0], "disk full") && r.folded[0] == 0 && r.tid[0] == own_tid(),
        "%d records, first '%s' folded %llu", r.n, r.reason[0], (unsigned long long)r.folded[0]);
  /* Within 100 ms: folded, not recorded, not counted. */
  for (int i = 0; i < 5; i++) CHECK(rt_snapshot_request("again") == 0, "call %d within the interval: folded", i);
  CHECK(rt_trigger_count(s) == 1, "still one: %llu", (unsigned long long)rt_trigger_count(s));
  drain_requests(s, &r);
  CHECK(r.n == 0, "folded calls are not recorded: %d", r.n);
  /* The next request carries them; NULL records "". */
  sleep_ms(110);
  CHECK(rt_snapshot_request(NULL) == 1, "a request after the interval");
  CHECK(rt_trigger_count(s) == 2, "two: %llu", (unsigned long long)rt_trigger_count(s));
  drain_requests(s, &r);
  CHECK(r.n == 1 && r.reason[0][0] == 0 && r.folded[0] == 5, "%d records, reason '%s' folded %llu", r.n,
        r.reason[0], (unsigned long long)r.folded[0]);
  /* A long reason is cut like any string. */
  static char longer[3000];
  memset(longer, 'x', sizeof longer - 1);
  sleep_ms(110);
  CHECK(rt_snapshot_request(longer) == 1, "a long reason");
  drain_requests(s, &r);
  size_t len = strlen(r.reason[0]);
  CHECK(r.n == 1 && len <= RT_MAX_STRING_BYTES && len > 1000 && !strcmp(r.reason[0] + len - 3, "\xE2\x80\xA6"),
        "cut to %zu bytes, ending in U+2026", len);
  end_session(s, name);
}

/* The session selects nothing: its own provider is still recorded. */
static void recorded_whatever_the_selection(void) {
  char name[64];
  struct rt_session *s = session_for_test(name, sizeof name, "sel");
  put_selection(s, RT_SELECTION_HEADER "\ndefault off\n");
  CHECK(rt_snapshot_request("selected anyway") == 1, "made");
  struct requests r;
  drain_requests(s, &r);
  CHECK(r.n == 1 && !strcmp(r.reason[0], "selected anyway"), "%d records", r.n);
  CHECK(rt_trigger_count(s) == 1, "counted");
  end_session(s, name);
}

/* Threads asking at once: one request per interval for the whole process,
 * the others folded into the next one. */
#define THREADS 4
static pthread_barrier_t start_line;
static int made_by_threads;
static void *asker(void *arg) {
  (void)arg;
  pthread_barrier_wait(&start_line);
  __atomic_fetch_add(&made_by_threads, rt_snapshot_request("thread"), __ATOMIC_RELAXED);
  return NULL;
}
static void threads_share_the_limit(void) {
  char name[64];
  struct rt_session *s = session_for_test(name, sizeof name, "threads");
  pthread_t t[THREADS];
  pthread_barrier_init(&start_line, NULL, THREADS);
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, asker, NULL);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  CHECK(made_by_threads == 1, "%d of %d threads made a request", made_by_threads, THREADS);
  sleep_ms(110);
  CHECK(rt_snapshot_request("after") == 1, "the next request");
  struct requests r;
  drain_requests(s, &r); /* ring by ring: the two may be in either order */
  int after = r.n == 2 && !strcmp(r.reason[1], "after");
  CHECK(r.n == 2 && !strcmp(r.reason[!after], "thread") && r.folded[!after] == 0 &&
            !strcmp(r.reason[after], "after") && r.folded[after] == THREADS - 1,
        "%d records; 'after' folded %llu", r.n, (unsigned long long)(r.n == 2 ? r.folded[after] : 0));
  CHECK(rt_trigger_count(s) == 2, "two: %llu", (unsigned long long)rt_trigger_count(s));
  end_session(s, name);
}

/* Between the record's commit and the count (the hook): the recorder finds
 * the record, and the count has not moved yet. Counted first, a recorder
 * woken by the count could look for the record before it is there. */
static struct rt_session *hook_session;
static int hook_runs;
static void look_between(enum rt_test_point point, uint32_t ring) {
  (void)ring;
  if (point != RT_TEST_SNAPSHOT_RECORDED) return;
  hook_runs++;
  struct requests r;
  drain_requests(hook_session, &r);
  CHECK(r.n == 1 && !strcmp(r.reason[0], "ordered"), "the record is committed before the count: %d found", r.n);
  CHECK(rt_trigger_count(hook_session) == 0, "not counted before its record: %llu",
        (unsigned long long)rt_trigger_count(hook_session));
}
static void counted_after_the_record(void) {
  char name[64];
  hook_session = session_for_test(name, sizeof name, "order");
  rt_test_hook = look_between;
  CHECK(rt_snapshot_request("ordered") == 1, "made");
  rt_test_hook = NULL;
  CHECK(hook_runs == 1, "the hook ran %d times", hook_runs);
  CHECK(rt_trigger_count(hook_session) == 1, "counted after: %llu", (unsigned long long)rt_trigger_count(hook_session));
  end_session(hook_session, name);
}

/* The rate limit alone, at chosen times (a fresh process: no request yet). */
static void rate_limit_at_chosen_times(void) {
  const uint64_t t = 5000000000ull, ms = 1000000ull;
  CHECK(rt_trigger_permit_at(t, 0) == 0, "the first call is permitted");
  CHECK(rt_trigger_permit_at(t + 50 * ms, 0) == -1, "50 ms later: folded");
  CHECK(rt_trigger_permit_at(t + 99 * ms, 0) == -1, "99 ms later: folded");
  CHECK(rt_trigger_permit_at(t + 100 * ms, 0) == 2, "100 ms later: permitted, carrying the 2 folded");
  CHECK(rt_trigger_permit_at(t + 150 * ms, 0) == -1, "within the new interval: folded");
  CHECK(rt_trigger_permit_at(t + 160 * ms, 1) == 1, "forced: permitted, carrying 1");
  CHECK(rt_trigger_permit_at(t + 90 * ms, 0) == -1, "a clock read older than the last request: folded");
  CHECK(rt_trigger_permit_at(t + 260 * ms, 0) == 1, "the interval runs from the forced request");
}

int main(void) {
  int want = expected_rseq(); /* which path this run tests (mode.h) */
  REQUIRE(thread_has_rseq() == want, "this run expects %s, but rseq is %s", rseq_mode_name(want),
          thread_has_rseq() ? "registered" : "not registered");
  RUN_NAMED("no session, then one: only the request once attached is made", in_child(no_session_no_request));
  RUN_NAMED("tracing off: no request", in_child(off_no_request));
  RUN_NAMED("a request is recorded, then counted; calls within 100 ms are folded into the next",
            in_child(request_recorded_then_counted));
  RUN_NAMED("recorded whatever the session's selection", in_child(recorded_whatever_the_selection));
  RUN_NAMED("threads share one limit per process", in_child(threads_share_the_limit));
  RUN_NAMED("the count moves only after the record is committed", in_child(counted_after_the_record));
  RUN_NAMED("the rate limit at chosen times", in_child(rate_limit_at_chosen_times));
  return CHECK_EXIT();
}
