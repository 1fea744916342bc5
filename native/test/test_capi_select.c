/* The C API follows its session's selection (docs/selection.md): the test
 * plays the consumer, putting selection files in place (write, rename, bump)
 * while the program runs, and counts what reaches the rings, per class,
 * exactly: only selected classes, from the event after a change on; a bad
 * file keeps the previous selection with one warning; levels; filters do not
 * apply to C events; a program whose events are all off still follows the
 * session's removal and replacement. Each scenario runs in a child process. */
#include <pthread.h>
#include "capi_util.h"
#include "selection.h"

#define FIELDS RT_FIELD(u32, n)
RT_EVENT(sel_http, request, FIELDS)
RT_EVENT(sel_http, health, FIELDS)
RT_EVENT_LEVEL(sel_db, step, trace, FIELDS)
RT_EVENT_LEVEL(sel_db, row, debug, FIELDS)
RT_EVENT_LEVEL(sel_db, query, warn, FIELDS)
RT_EVENT_LEVEL(sel_db, fail, error, FIELDS)

enum { REQUEST, HEALTH, STEP, ROW, QUERY, FAIL, N_CLASSES };
static const char *const NAMES[N_CLASSES][2] = {{"sel_http", "request"}, {"sel_http", "health"},
                                                {"sel_db", "step"},       {"sel_db", "row"},
                                                {"sel_db", "query"},      {"sel_db", "fail"}};

static void emit_each(uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    rt_trace(sel_http, request, i);
    rt_trace(sel_http, health, i);
    rt_trace(sel_db, step, i);
    rt_trace(sel_db, row, i);
    rt_trace(sel_db, query, i);
    rt_trace(sel_db, fail, i);
  }
}

/* rt_enabled of every class, as a bit set (bit = enum above). */
static unsigned enabled_set(void) {
  return (unsigned)!!rt_enabled(sel_http, request) << REQUEST | (unsigned)!!rt_enabled(sel_http, health) << HEALTH |
         (unsigned)!!rt_enabled(sel_db, step) << STEP | (unsigned)!!rt_enabled(sel_db, row) << ROW |
         (unsigned)!!rt_enabled(sel_db, query) << QUERY | (unsigned)!!rt_enabled(sel_db, fail) << FAIL;
}
#define BIT(c) (1u << (c))
#define ALL (BIT(N_CLASSES) - 1)

struct counts {
  uint32_t id[N_CLASSES];
  long n[N_CLASSES], other;
};

static void count_one(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev, const uint8_t *p) {
  struct counts *c = ctx;
  (void)ch, (void)p;
  for (int k = 0; k < N_CLASSES; k++)
    if (ev->id == c->id[k]) {
      c->n[k]++;
      return;
    }
  c->other++;
}

/* What reached the session since the last drain, per class. */
static struct counts drain_counts(struct rt_session *s) {
  struct counts c;
  memset(&c, 0, sizeof c);
  for (int k = 0; k < N_CLASSES; k++) {
    char desc[256];
    snprintf(desc, sizeof desc,
             "{\"v\":1,\"provider\":\"%s\",\"name\":\"%s\",\"kind\":\"event\",\"fields\":[{\"name\":\"n\",\"type\":"
             "\"u32\"}]}",
             NAMES[k][0], NAMES[k][1]);
    c.id[k] = class_id(s, desc);
  }
  struct rt_consumer con;
  REQUIRE(rt_consumer_init(&con, s) == 0, "consumer");
  CHECK(drain_once(&con, 1, count_one, &c) >= 0, "drain");
  rt_consumer_fini(&con);
  CHECK(c.other == 0, "%ld records of no class of this test", c.other);
  CHECK(lost_in(s) == 0, "%llu lost", (unsigned long long)lost_in(s));
  return c;
}

/* Exactly `n` records of each class in `set`, none of the others. */
static void expect_counts(struct rt_session *s, unsigned set, long n, const char *when) {
  struct counts c = drain_counts(s);
  for (int k = 0; k < N_CLASSES; k++) {
    long want = set & BIT(k) ? n : 0;
    CHECK(c.n[k] == want, "%s: %s:%s: %ld records, want %ld", when, NAMES[k][0], NAMES[k][1], c.n[k], want);
  }
}

static struct rt_session *session_for_test(char *name, size_t len, const char *tag) {
  capi_session_name(name, len, tag);
  return capi_session(name, 1u << 16);
}

/* Emit an event of a selected class until the API has attached. */
static void attach_now(void) {
  for (int i = 0; i < 300 && !(enabled_set() & BIT(FAIL)); i++) sleep_ms(10);
  REQUIRE(enabled_set() & BIT(FAIL), "never attached (sel_db:fail must be selected here)");
}

#define H RT_SELECTION_HEADER "\n"

static void selection_in_place_at_attach(void) {
  char name[64], path[256], registry[8192];
  struct rt_session *s = session_for_test(name, sizeof name, "atstart");
  put_selection(s, H "default off\nenable sel_http:*\ndisable sel_http:health\nenable sel_db:fail\n");
  attach_now();
  CHECK(enabled_set() == (BIT(REQUEST) | BIT(FAIL)), "rt_enabled: %#x", enabled_set());
  emit_each(100);
  /* Classes left out are not even registered by this program (before the
   * test's own count registers them all). */
  REQUIRE(rt_registry_path(s, path, sizeof path) == 0, "registry path");
  read_text(path, registry, sizeof registry);
  CHECK(strstr(registry, "\"request\"") && !strstr(registry, "\"health\"") && !strstr(registry, "\"row\""),
        "only selected classes registered:\n%s", registry);
  expect_counts(s, BIT(REQUEST) | BIT(FAIL), 100, "selected at attach");
  capi_remove(s, name);
}

/* The program writes the selection itself between events: each change holds
 * from the very next event (the generation is read by every rt_trace). */
static void changes_hold_from_the_next_event(void) {
  char name[64];
  struct rt_session *s = session_for_test(name, sizeof name, "change");
  attach_now(); /* no selection file: everything */
  CHECK(enabled_set() == ALL, "no selection file: every class (%#x)", enabled_set());
  emit_each(10);
  expect_counts(s, ALL, 10, "no selection file");
  static const struct {
    const char *text;
    unsigned want;
  } steps[] = {
      {H "default off\nenable sel_db\n", BIT(STEP) | BIT(ROW) | BIT(QUERY) | BIT(FAIL)},
      {H "default on\ndisable sel_db:row\ndisable sel_http:h*\n", ALL & ~BIT(ROW) & ~BIT(HEALTH)},
      {H "default off\n", 0},
      {H "default off\nenable sel_http:?ealth\nenable *:fail\n", BIT(HEALTH) | BIT(FAIL)},
      {H "default on\ndisable *\nenable sel_db:*\ndisable sel_db:query\nenable sel_db:query\n",
       BIT(STEP) | BIT(ROW) | BIT(QUERY) | BIT(FAIL)},
      {H, ALL},
  };
  for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
    put_selection(s, steps[i].text);
    CHECK(enabled_set() == steps[i].want, "step %zu: rt_enabled %#x, want %#x", i, enabled_set(), steps[i].want);
    emit_each(10);
    char when[32];
    snprintf(when, sizeof when, "step %zu", i);
    expect_counts(s, steps[i].want, 10, when);
  }
  capi_remove(s, name);
}

static void levels(void) {
  char name[64];
  struct rt_session *s = session_for_test(name, sizeof name, "levels");
  static const struct {
    const char *text;
    unsigned want;
  } steps[] = {
      {H "level warn\n", BIT(QUERY) | BIT(FAIL)},
      {H "level info\n", BIT(REQUEST) | BIT(HEALTH) | BIT(QUERY) | BIT(FAIL)}, /* RT_EVENT's classes are info */
      {H "level error\n", BIT(FAIL)},
      {H "level trace\n", ALL},
      {H "level debug\ndefault off\nenable sel_db\n", BIT(ROW) | BIT(QUERY) | BIT(FAIL)},
      {H "level error\nlevel debug\nenable sel_db:step\n", ALL & ~BIT(STEP)}, /* the level applies first */
  };
  for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
    put_selection(s, steps[i].text);
    if (i == 0) attach_now();
    CHECK(enabled_set() == steps[i].want, "step %zu: rt_enabled %#x, want %#x", i, enabled_set(), steps[i].want);
    emit_each(7);
    char when[32];
    snprintf(when, sizeof when, "level step %zu", i);
    expect_counts(s, steps[i].want, 7, when);
  }
  capi_remove(s, name);
}

/* A filter rule is for JavaScript events: C classes it matches are recorded
 * whole, and nothing is counted as filtered. */
static void filters_do_not_apply(void) {
  char name[64];
  struct rt_session *s = session_for_test(name, sizeof name, "filter");
  put_selection(s, H "default off\nenable sel_http:request\nenable sel_db:fail\nfilter sel_http:request n > 5\n"
                     "filter sel_db n == 0\n");
  attach_now();
  emit_each(10);
  expect_counts(s, BIT(REQUEST) | BIT(FAIL), 10, "filter rules");
  capi_remove(s, name);
}

static char err_path[128];

/* A malformed file, or one that is not a private file, is refused whole:
 * the previous selection stays (until the next generation), one line is
 * printed for the whole process. */
static void bad_file_keeps_the_previous_selection(void) {
  char name[64], printed[2048], path[256];
  struct rt_session *s = session_for_test(name, sizeof name, "badfile");
  capture_stderr(err_path);
  put_selection(s, H "default off\nenable sel_http:request\nenable sel_db:fail\n");
  attach_now();
  const unsigned good = BIT(REQUEST) | BIT(FAIL);
  emit_each(5);
  expect_counts(s, good, 5, "good selection");
  put_selection(s, H "default on\nenable sel_db:\n");
  CHECK(enabled_set() == good, "a malformed file changes nothing (%#x)", enabled_set());
  emit_each(5);
  expect_counts(s, good, 5, "after a malformed file");
  put_selection_mode(s, H "default on\n", 0644);
  emit_each(5);
  expect_counts(s, good, 5, "after a file others can write");
  put_selection(s, "ringtrace-selection 9\n");
  emit_each(5);
  expect_counts(s, good, 5, "after a file of another format");
  fflush(stderr);
  read_text(err_path, printed, sizeof printed);
  REQUIRE(rt_selection_path(s, path, sizeof path) == 0, "path");
  CHECK(count_lines(printed, "ringtrace:") == 1 && strstr(printed, "previous one stays") && strstr(printed, path) &&
            strstr(printed, "line 3: 'sel_db:' is not an event pattern"),
        "one line naming the file and the line: '%s'", printed);
  put_selection(s, H "default off\nenable sel_http\n");
  CHECK(enabled_set() == (BIT(REQUEST) | BIT(HEALTH)), "the next good file is followed (%#x)", enabled_set());
  emit_each(5);
  expect_counts(s, BIT(REQUEST) | BIT(HEALTH), 5, "good again");
  capi_remove(s, name);
}

/* Threads emit while the test switches sel_db on and off 200 times: the
 * class every selection keeps loses no event to the switches, the others
 * never exceed what was emitted; once the switching stops, exact. The
 * emitters spend a budget the test renews after each drain, so that a slow
 * drain (a loaded host, sanitizers) cannot let the rings fill: at most two
 * budgets, 2 * BUDGET * ~30 bytes, wait in a ring of 8 MiB. */
#define EMITTERS 3
#define BUDGET 50000L
static int stop_emitting;
static long budget = BUDGET, emitted[EMITTERS];
static void *emitter(void *arg) {
  long i = (long)(intptr_t)arg, n = 0;
  while (!__atomic_load_n(&stop_emitting, __ATOMIC_RELAXED)) {
    if (__atomic_sub_fetch(&budget, 2, __ATOMIC_RELAXED) < 0) { /* relaxed: a count, nothing published by it */
      __atomic_add_fetch(&budget, 2, __ATOMIC_RELAXED);
      sched_yield();
      continue;
    }
    rt_trace(sel_http, request, (uint32_t)n);
    rt_trace(sel_db, row, (uint32_t)n);
    n++;
    if (n % 64 == 0) sched_yield();
  }
  emitted[i] = n;
  return NULL;
}

static void threads_follow_changes_while_emitting(void) {
  char name[64];
  capi_session_name(name, sizeof name, "threads");
  struct rt_session *s = capi_session(name, 1u << 20); /* big enough for the whole run: nothing lost */
  put_selection(s, H "default on\n");
  attach_now();
  pthread_t th[EMITTERS];
  for (long i = 0; i < EMITTERS; i++)
    REQUIRE(pthread_create(&th[i], NULL, emitter, (void *)(intptr_t)i) == 0, "thread");
  struct counts total;
  memset(&total, 0, sizeof total);
  for (int flip = 0; flip < 200; flip++) {
    put_selection(s, flip % 2 ? H "default on\n" : H "default on\ndisable sel_db\n");
    sleep_ms(1);
    struct counts c = drain_counts(s);
    total.n[REQUEST] += c.n[REQUEST];
    total.n[ROW] += c.n[ROW];
    __atomic_store_n(&budget, BUDGET, __ATOMIC_RELAXED);
  }
  __atomic_store_n(&stop_emitting, 1, __ATOMIC_RELAXED);
  long sum = 0;
  for (int i = 0; i < EMITTERS; i++) pthread_join(th[i], NULL), sum += emitted[i];
  struct counts c = drain_counts(s);
  total.n[REQUEST] += c.n[REQUEST];
  total.n[ROW] += c.n[ROW];
  CHECK(total.n[REQUEST] == sum, "sel_http:request, always selected: %ld of %ld recorded", total.n[REQUEST], sum);
  CHECK(total.n[ROW] > 0 && total.n[ROW] < sum, "sel_db:row, switched: %ld of %ld", total.n[ROW], sum);
  put_selection(s, H "default on\ndisable sel_db\n");
  emit_each(9);
  expect_counts(s, ALL & ~(BIT(STEP) | BIT(ROW) | BIT(QUERY) | BIT(FAIL)), 9, "after the switching");
  capi_remove(s, name);
}

/* A selection written by another process reaches a running program: the
 * program emits when told to (a pipe), after each change. */
static void another_process_changes_it(void) {
  char name[64];
  struct rt_session *s = session_for_test(name, sizeof name, "otherproc");
  put_selection(s, H "default off\nenable sel_db:fail\n");
  int go[2], done[2];
  REQUIRE(pipe(go) == 0 && pipe(done) == 0, "pipes");
  pid_t pid = fork();
  REQUIRE(pid >= 0, "fork");
  if (pid == 0) { /* the traced program */
    close(go[1]);
    close(done[0]);
    char c;
    unsigned seen = 0;
    while (read(go[0], &c, 1) == 1) {
      if (c == 'a') attach_now();
      emit_each(20);
      seen = enabled_set();
      if (write(done[1], &seen, sizeof seen) != sizeof seen) _exit(2);
    }
    _exit(0);
  }
  close(go[0]);
  close(done[1]);
  static const struct {
    const char *text;
    unsigned want;
  } steps[] = {
      {NULL, BIT(FAIL)},
      {H "default off\nenable sel_http:health\n", BIT(HEALTH)},
      {H "default on\nlevel warn\n", BIT(QUERY) | BIT(FAIL)},
      {H "default on\n", ALL},
  };
  for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
    if (steps[i].text) put_selection(s, steps[i].text);
    unsigned seen = 0;
    REQUIRE(write(go[1], i == 0 ? "a" : "e", 1) == 1 && read(done[0], &seen, sizeof seen) == sizeof seen, "pipe");
    CHECK(seen == steps[i].want, "step %zu: the program's rt_enabled %#x, want %#x", i, seen, steps[i].want);
    char when[32];
    snprintf(when, sizeof when, "other process, step %zu", i);
    expect_counts(s, steps[i].want, 20, when);
  }
  close(go[1]);
  close(done[0]);
  int status;
  REQUIRE(waitpid(pid, &status, 0) == pid, "wait");
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "program status %d", status);
  capi_remove(s, name);
}

/* Every event of the program is off, so none reaches the ring's periodic
 * session check: the removal's new generation still makes it look, let the
 * removed session go and attach to its replacement. */
static void all_off_program_follows_replacement(void) {
  char name[64];
  capi_session_name(name, sizeof name, "alloff");
  struct rt_session *a = capi_session(name, 1u << 16);
  put_selection(a, H "default off\nenable sel_db:fail\n");
  attach_now();
  put_selection(a, H "default off\n");
  CHECK(enabled_set() == 0, "all off (%#x)", enabled_set());
  emit_each(10);
  expect_counts(a, 0, 0, "all off");
  capi_remove(a, name);
  /* The new session's generations restart: its second is the number the
   * classes' states hold from the old one, which must not pass for it. */
  struct rt_session *b = capi_session(name, 1u << 16);
  put_selection(b, H "default off\n");
  put_selection(b, H "default on\n");
  CHECK(enabled_set() == ALL, "the replacement session's selection (%#x)", enabled_set());
  emit_each(10);
  expect_counts(b, ALL, 10, "replacement session");
  expect_counts(a, 0, 0, "removed session");
  forget_registry(a);
  capi_remove(b, name);
}

int main(void) {
  snprintf(err_path, sizeof err_path, "/tmp/rt-capi-select-stderr-%d", (int)getpid());
  RUN_NAMED("a selection in place at attach: only selected classes are recorded, or registered",
            in_child(selection_in_place_at_attach));
  RUN_NAMED("each change holds from the next event", in_child(changes_hold_from_the_next_event));
  RUN_NAMED("levels: RT_EVENT_LEVEL and the level rule", in_child(levels));
  RUN_NAMED("filter rules: C events are recorded unfiltered", in_child(filters_do_not_apply));
  RUN_NAMED("a bad file keeps the previous selection, one warning", in_child(bad_file_keeps_the_previous_selection));
  RUN_NAMED("threads emitting through 200 changes: nothing of a selected class lost",
            in_child(threads_follow_changes_while_emitting));
  RUN_NAMED("a running program follows changes written by another process", in_child(another_process_changes_it));
  RUN_NAMED("a program whose events are all off follows the session's replacement",
            in_child(all_off_program_follows_replacement));
  unlink(err_path);
  return CHECK_EXIT();
}
