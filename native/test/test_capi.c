/* The public C API (ringtrace.h) end to end, as a C program uses it: every
 * field type round-trips exactly, strings are cut like the JavaScript API
 * cuts them, class descriptions are byte-identical to the JavaScript API's,
 * and records carry the right pid and tid from any thread and after fork().
 * Session handling (late start, removal, replacement, off, bad names) is in
 * test_capi_session.c. */
#include <math.h>
#include <pthread.h>
#include "capi_util.h"

RT_EVENT(capi_test, all, RT_FIELD(i8, a), RT_FIELD(i16, b), RT_FIELD(i32, c), RT_FIELD(i64, d),
         RT_FIELD(u8, e), RT_FIELD(u16, f), RT_FIELD(u32, g), RT_FIELD(u64, h), RT_FIELD(f32, i),
         RT_FIELD(f64, j), RT_FIELD(bool, k), RT_FIELD(string, l), RT_FIELD(bytes, m))
RT_EVENT(capi_test, seq, RT_FIELD(u32, worker), RT_FIELD(u64, n))
RT_EVENT(capi_test, empty)

/* What src/schema.ts describe() writes for these classes (JSON.stringify). */
#define DESC_ALL                                                                                  \
  "{\"v\":1,\"provider\":\"capi_test\",\"name\":\"all\",\"kind\":\"event\",\"fields\":["         \
  "{\"name\":\"a\",\"type\":\"i8\"},{\"name\":\"b\",\"type\":\"i16\"},{\"name\":\"c\",\"type\":\"i32\"}," \
  "{\"name\":\"d\",\"type\":\"i64\"},{\"name\":\"e\",\"type\":\"u8\"},{\"name\":\"f\",\"type\":\"u16\"}," \
  "{\"name\":\"g\",\"type\":\"u32\"},{\"name\":\"h\",\"type\":\"u64\"},{\"name\":\"i\",\"type\":\"f32\"}," \
  "{\"name\":\"j\",\"type\":\"f64\"},{\"name\":\"k\",\"type\":\"bool\"},{\"name\":\"l\",\"type\":\"string\"}," \
  "{\"name\":\"m\",\"type\":\"bytes\"}]}"
#define DESC_SEQ                                                                          \
  "{\"v\":1,\"provider\":\"capi_test\",\"name\":\"seq\",\"kind\":\"event\",\"fields\":[" \
  "{\"name\":\"worker\",\"type\":\"u32\"},{\"name\":\"n\",\"type\":\"u64\"}]}"
#define DESC_EMPTY "{\"v\":1,\"provider\":\"capi_test\",\"name\":\"empty\",\"kind\":\"event\",\"fields\":[]}"

/* Records kept whole, in arrival order. */
#define MAX_KEPT 64
struct kept {
  int n;
  struct {
    uint32_t id, size;
    uint8_t payload[2048];
  } r[MAX_KEPT];
};

static void keep(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev, const uint8_t *payload) {
  (void)ch;
  struct kept *k = ctx;
  if (k->n == MAX_KEPT) return;
  uint32_t len = ev->size - RT_EVENT_HEADER_SIZE;
  k->r[k->n].id = ev->id;
  k->r[k->n].size = len;
  memcpy(k->r[k->n].payload, payload, len < 2048 ? len : 2048);
  k->n++;
}

/* A reader over one payload, checking it never runs past the end. */
struct reader {
  const uint8_t *p;
  uint32_t off, size;
  int overrun;
};
static void take(struct reader *rd, void *out, uint32_t n) {
  if (rd->off + n > rd->size) {
    rd->overrun = 1;
    memset(out, 0, n);
    return;
  }
  memcpy(out, rd->p + rd->off, n);
  rd->off += n;
}
static const char *take_string(struct reader *rd) {
  const char *s = (const char *)rd->p + rd->off;
  size_t n = strnlen(s, rd->size - rd->off);
  if (rd->off + n >= rd->size) {
    rd->overrun = 1;
    return "";
  }
  rd->off += (uint32_t)n + 1;
  return s;
}

static void attach_to(const char *tag, char *name, struct rt_session **s, uint64_t sub_size) {
  capi_session_name(name, 64, tag);
  *s = capi_session(name, sub_size);
  WAIT_ENABLED(capi_test, seq, 1);
}

static void values_round_trip(void) {
  char name[64];
  struct rt_session *s;
  attach_to("values", name, &s, 65536);
  const uint8_t blob[3] = {1, 2, 0xff};
  rt_trace(capi_test, all, INT8_MIN, INT16_MIN, INT32_MIN, INT64_MIN, UINT8_MAX, UINT16_MAX, UINT32_MAX,
           UINT64_MAX, 0.1 /* a double: f32 rounds it */, -0.0, true, "héllo ✓", blob, sizeof blob);
  rt_trace(capi_test, all, 0, 0, 0, 0, 0, 0, 0, 0, NAN, INFINITY, false, NULL, NULL, 5);
  rt_trace(capi_test, empty);
  struct rt_consumer c;
  REQUIRE(rt_consumer_init(&c, s) == 0, "consumer");
  static struct kept k;
  CHECK(drain_once(&c, 1, keep, &k) == 3, "3 records, got %d", k.n);
  uint32_t all_id = class_id(s, DESC_ALL), empty_id = class_id(s, DESC_EMPTY);
  CHECK(k.r[0].id == all_id && k.r[1].id == all_id, "the C class has the JavaScript description's id %u (got %u)",
        all_id, k.r[0].id);
  CHECK(k.r[2].id == empty_id && k.r[2].size == 8, "empty event: id %u, pid and tid only (%u bytes)", k.r[2].id,
        k.r[2].size);
  for (int i = 0; i < 2; i++) {
    struct reader rd = {k.r[i].payload, 0, k.r[i].size, 0};
    uint32_t pid, tid, g, blob_len;
    int8_t a;
    int16_t b;
    int32_t cc;
    int64_t d;
    uint8_t e, kk, m[8] = {0};
    uint16_t f;
    uint64_t h;
    float fi;
    double j;
    take(&rd, &pid, 4), take(&rd, &tid, 4), take(&rd, &a, 1), take(&rd, &b, 2), take(&rd, &cc, 4);
    take(&rd, &d, 8), take(&rd, &e, 1), take(&rd, &f, 2), take(&rd, &g, 4), take(&rd, &h, 8);
    take(&rd, &fi, 4), take(&rd, &j, 8), take(&rd, &kk, 1);
    const char *l = take_string(&rd);
    take(&rd, &blob_len, 4);
    if (blob_len <= sizeof m) take(&rd, m, blob_len);
    CHECK(!rd.overrun && rd.off == rd.size, "record %d: fields fill the payload exactly (%u of %u)", i, rd.off,
          rd.size);
    CHECK(pid == (uint32_t)getpid() && tid == own_tid(), "context pid %u tid %u", pid, tid);
    if (i == 0) {
      CHECK(a == INT8_MIN && b == INT16_MIN && cc == INT32_MIN && d == INT64_MIN, "signed minima");
      CHECK(e == UINT8_MAX && f == UINT16_MAX && g == UINT32_MAX && h == UINT64_MAX, "unsigned maxima");
      CHECK(fi == 0.1f && j == 0.0 && signbit(j), "f32 rounded from a double; -0 kept");
      CHECK(kk == 1 && strcmp(l, "héllo ✓") == 0, "bool true, UTF-8 string '%s'", l);
      CHECK(blob_len == 3 && memcmp(m, blob, 3) == 0, "bytes");
    } else {
      CHECK(isnan(fi) && isinf(j) && j > 0, "NaN and Infinity kept");
      CHECK(kk == 0 && l[0] == 0 && blob_len == 0, "false; a NULL string is \"\", NULL bytes are empty");
    }
  }
  rt_consumer_fini(&c);
  capi_remove(s, name);
}

/* Longer than RT_MAX_STRING_BYTES: cut on a character boundary, ending in
 * U+2026, as src/serializer.ts writeStringSlow does. */
static void long_strings_are_cut_like_javascript(void) {
  char name[64];
  struct rt_session *s;
  attach_to("strings", name, &s, 65536);
  static char exact[1025], ascii[2001], accents[2001];
  memset(exact, 'x', 1024);
  memset(ascii, 'a', 2000);
  for (int i = 0; i < 1000; i++) memcpy(accents + 2 * i, "\xc3\xa9", 2); /* é */
  const char *in[3] = {exact, ascii, accents};
  for (int i = 0; i < 3; i++) rt_trace(capi_test, all, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, false, in[i], NULL, 0);
  struct rt_consumer c;
  REQUIRE(rt_consumer_init(&c, s) == 0, "consumer");
  static struct kept k;
  CHECK(drain_once(&c, 1, keep, &k) == 3, "3 records");
  /* Expected: 1024 bytes kept whole; 1021 'a' + …; 510 é (1020 bytes, byte 1021 would split one) + …. */
  size_t want_len[3] = {1024, 1024, 1023};
  for (int i = 0; i < 3; i++) {
    struct reader rd = {k.r[i].payload, 8 + 1 + 2 + 4 + 8 + 1 + 2 + 4 + 8 + 4 + 8 + 1, k.r[i].size, 0};
    const char *l = take_string(&rd);
    size_t n = strlen(l);
    CHECK(n == want_len[i], "string %d: %zu bytes, want %zu", i, n, want_len[i]);
    if (i == 0) CHECK(memcmp(l, exact, 1024) == 0, "exactly the limit: unchanged");
    if (i > 0) {
      CHECK(n >= 3 && memcmp(l + n - 3, "\xe2\x80\xa6", 3) == 0, "string %d ends with U+2026", i);
      CHECK(memcmp(l, in[i], n - 3) == 0, "string %d: a prefix of the input", i);
    }
  }
  rt_consumer_fini(&c);
  capi_remove(s, name);
}

/* Several threads at once, the main thread draining meanwhile: every record
 * carries its thread's tid, each thread's sequence arrives in order, and
 * emitted == delivered + lost. */
#define WORKERS 4
#define PER_WORKER 50000
struct tally {
  const struct rt_session *s;
  uint32_t seq_id;
  uint64_t *next; /* [worker][ring], sized from the session: a thread that migrated has records in several rings */
  long delivered, bad, wrong_path;
  uint8_t seen[WORKERS][PER_WORKER];
};
static uint32_t worker_tids[WORKERS];

static void *worker(void *arg) {
  uint32_t w = (uint32_t)(uintptr_t)arg;
  worker_tids[w] = own_tid();
  for (uint64_t n = 0; n < PER_WORKER; n++) rt_trace(capi_test, seq, w, n);
  return NULL;
}

static void count_seq(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev, const uint8_t *p) {
  struct tally *t = ctx;
  uint32_t ctxw[3];
  uint64_t n;
  if (ev->id != t->seq_id || ev->size != RT_EVENT_HEADER_SIZE + 20) {
    t->bad++;
    return;
  }
  memcpy(ctxw, p, 12);
  memcpy(&n, p + 12, 8);
  uint32_t w = ctxw[2];
  if (ctxw[0] != (uint32_t)getpid() || w >= WORKERS || ctxw[1] != worker_tids[w] || n >= PER_WORKER ||
      t->seen[w][n] || n < t->next[w * t->s->n_rings + ch->ring]) {
    t->bad++;
    return;
  }
  if (ring_is_rseq(t->s, ch->ring) != expected_rseq()) t->wrong_path++;
  t->seen[w][n] = 1;
  t->next[w * t->s->n_rings + ch->ring] = n + 1;
  t->delivered++;
}

static void threads_record_their_own_tid(void) {
  char name[64];
  struct rt_session *s;
  attach_to("threads", name, &s, 1u << 20); /* 8 MiB rings: little or nothing lost */
  struct rt_consumer c;
  REQUIRE(rt_consumer_init(&c, s) == 0, "consumer");
  static struct tally t;
  t.s = s;
  t.seq_id = class_id(s, DESC_SEQ);
  t.next = calloc((size_t)WORKERS * s->n_rings, sizeof *t.next);
  REQUIRE(t.next, "out of memory");
  pthread_t th[WORKERS];
  for (uintptr_t w = 0; w < WORKERS; w++) REQUIRE(pthread_create(&th[w], NULL, worker, (void *)w) == 0, "thread");
  for (int w = 0; w < WORKERS; w++) {
    while (pthread_tryjoin_np(th[w], NULL) != 0) {
      CHECK(drain_once(&c, 0, count_seq, &t) >= 0, "drain");
      sleep_ms(1);
    }
  }
  CHECK(drain_once(&c, 1, count_seq, &t) >= 0, "final drain");
  uint64_t lost = lost_in(s);
  CHECK(t.bad == 0, "%ld records with a wrong id, size, pid, tid, or repeated or out of order in their ring", t.bad);
  CHECK(t.wrong_path == 0, "%ld records written by the other path than %s", t.wrong_path,
        rseq_mode_name(expected_rseq()));
  free(t.next);
  CHECK((uint64_t)t.delivered + lost == (uint64_t)WORKERS * PER_WORKER, "delivered %ld + lost %llu != %d",
        t.delivered, (unsigned long long)lost, WORKERS * PER_WORKER);
  printf("# %d threads x %d events: delivered %ld, lost %llu\n", WORKERS, PER_WORKER, t.delivered,
         (unsigned long long)lost);
  rt_consumer_fini(&c);
  capi_remove(s, name);
}

/* A child after fork() records under its own pid and tid, and joins the
 * session's process log; the parent keeps its own. */
struct by_pid {
  uint32_t seq_id, pids[2];
  long count[2], bad;
};
static void count_by_pid(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev, const uint8_t *p) {
  (void)ch;
  struct by_pid *b = ctx;
  uint32_t pid, tid;
  memcpy(&pid, p, 4);
  memcpy(&tid, p + 4, 4);
  int who = pid == b->pids[0] ? 0 : pid == b->pids[1] ? 1 : -1;
  if (ev->id != b->seq_id || who < 0 || tid != pid) { /* single-threaded processes: tid == pid */
    b->bad++;
    return;
  }
  b->count[who]++;
}

static void fork_child_records_its_own_pid(void) {
  char name[64], path[256], log[4096], line[64];
  struct rt_session *s;
  attach_to("fork", name, &s, 65536);
  for (uint64_t n = 0; n < 100; n++) rt_trace(capi_test, seq, 0, n);
  fflush(NULL);
  pid_t child = fork();
  REQUIRE(child >= 0, "fork");
  if (child == 0) {
    for (uint64_t n = 0; n < 500; n++) rt_trace(capi_test, seq, 1, n);
    _exit(0);
  }
  for (uint64_t n = 100; n < 200; n++) rt_trace(capi_test, seq, 0, n);
  int status;
  REQUIRE(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child");
  struct rt_consumer c;
  REQUIRE(rt_consumer_init(&c, s) == 0, "consumer");
  struct by_pid b = {class_id(s, DESC_SEQ), {(uint32_t)getpid(), (uint32_t)child}, {0, 0}, 0};
  CHECK(drain_once(&c, 1, count_by_pid, &b) == 700, "700 records");
  CHECK(b.bad == 0 && b.count[0] == 200 && b.count[1] == 500, "parent %ld (200), child %ld (500), bad %ld",
        b.count[0], b.count[1], b.bad);
  REQUIRE(rt_registry_procs_path(s, path, sizeof path) == 0, "procs path");
  read_text(path, log, sizeof log);
  snprintf(line, sizeof line, "%d %d test_capi\n", (int)child, (int)child);
  CHECK(strstr(log, line) != NULL, "the child is in the process log:\n%s", log);
  snprintf(line, sizeof line, "%d %d test_capi\n", (int)getpid(), (int)getpid());
  CHECK(strstr(log, line) != NULL, "the parent is in the process log:\n%s", log);
  rt_consumer_fini(&c);
  capi_remove(s, name);
}

int main(void) {
  int want = expected_rseq(); /* which path this run tests (mode.h): every record must be on it */
  REQUIRE(thread_has_rseq() == want, "this run expects %s, but rseq is %s", rseq_mode_name(want),
          thread_has_rseq() ? "registered" : "not registered");
  RUN_NAMED("every field type round-trips; descriptions match the JavaScript API's", in_child(values_round_trip));
  RUN_NAMED("long strings are cut on a character boundary, marked with U+2026",
            in_child(long_strings_are_cut_like_javascript));
  RUN_NAMED("threads: own tid, in order, emitted == delivered + lost", in_child(threads_record_their_own_tid));
  RUN_NAMED("fork: the child records under its own pid and joins the process log",
            in_child(fork_child_records_its_own_pid));
  return CHECK_EXIT();
}
