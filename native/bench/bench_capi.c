/* Cost per event of the public C API (rt_trace, ringtrace.h) against the
 * core's own rt_emit writing the same record bytes, plus rt_trace with no
 * session and with tracing off. Each case prints
 *   ringtrace capi <case> ns_per_event=<x>
 * Method as bench_native.c: pinned to CPU 0, timed chunks of CHUNK events,
 * drained untimed in between, median chunk; nothing may be lost. Wall time
 * on a shared host is noisy: docs/c-api.md compares instruction counts from
 *   valgrind --tool=callgrind build/bench_capi --quick <mode>
 * (the loops are the noinline functions run_*; inclusive cost / events).
 *
 * Usage: bench_capi [--quick] attached|unselected|detached|off|snapshot|snapshot-detached
 *   attached: core_fixed capi_fixed core_request capi_request
 *   unselected: bench:request in a session whose selection leaves it out
 *   detached: RINGTRACE_SESSION names no session; off: RINGTRACE_SESSION=off
 *   snapshot: rt_snapshot_request folded into the next request (an error
 *   loop's calls after its first request); snapshot-detached: with no session */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include "ringtrace.h"
#include "../test/util.h"
#include "bench_util.h"

#define CHUNK 65536
static int n_chunks = 41;

RT_EVENT(bench, fixed, RT_FIELD(u64, a), RT_FIELD(u64, b), RT_FIELD(u32, c), RT_FIELD(u16, d))
RT_EVENT(bench, request, RT_FIELD(string, method), RT_FIELD(string, path), RT_FIELD(u16, status),
         RT_FIELD(u64, bytes))
#define DESC_FIXED                                                                                         \
  "{\"v\":1,\"provider\":\"bench\",\"name\":\"fixed\",\"kind\":\"event\",\"fields\":[{\"name\":\"a\",\"type\":" \
  "\"u64\"},{\"name\":\"b\",\"type\":\"u64\"},{\"name\":\"c\",\"type\":\"u32\"},{\"name\":\"d\",\"type\":\"u16\"}]}"
#define DESC_REQUEST                                                                                          \
  "{\"v\":1,\"provider\":\"bench\",\"name\":\"request\",\"kind\":\"event\",\"fields\":[{\"name\":\"method\","   \
  "\"type\":\"string\"},{\"name\":\"path\",\"type\":\"string\"},{\"name\":\"status\",\"type\":\"u16\"},{\"name\"" \
  ":\"bytes\",\"type\":\"u64\"}]}"

static const char *volatile method = "GET", *volatile path = "/items/42";

/* What a C user wrote by hand before ringtrace.h: context, then packed fields. */
struct __attribute__((packed)) fixed_payload {
  uint32_t pid, tid;
  uint64_t a, b;
  uint32_t c;
  uint16_t d;
};

__attribute__((noinline)) static void run_core_fixed(const struct rt_session *s, uint32_t id, uint64_t base) {
  struct fixed_payload p = {(uint32_t)getpid(), (uint32_t)syscall(SYS_gettid), 0, 0, 0, 0};
  for (uint64_t i = base; i < base + CHUNK; i++) {
    p.a = i, p.b = i * 3, p.c = (uint32_t)i, p.d = (uint16_t)i;
    rt_emit(s, id, &p, sizeof p);
  }
}

__attribute__((noinline)) static void run_capi_fixed(uint64_t base) {
  for (uint64_t i = base; i < base + CHUNK; i++) rt_trace(bench, fixed, i, i * 3, (uint32_t)i, (uint16_t)i);
}

__attribute__((noinline)) static void run_core_request(const struct rt_session *s, uint32_t id, uint64_t base) {
  uint8_t buf[256];
  uint32_t ctx[2] = {(uint32_t)getpid(), (uint32_t)syscall(SYS_gettid)};
  memcpy(buf, ctx, 8);
  for (uint64_t i = base; i < base + CHUNK; i++) {
    const char *m = method, *p = path;
    size_t ml = strlen(m) + 1, pl = strlen(p) + 1, o = 8;
    uint16_t status = 200;
    memcpy(buf + o, m, ml), o += ml;
    memcpy(buf + o, p, pl), o += pl;
    memcpy(buf + o, &status, 2), o += 2;
    memcpy(buf + o, &i, 8), o += 8;
    rt_emit(s, id, buf, (uint32_t)o);
  }
}

__attribute__((noinline)) static void run_capi_request(uint64_t base) {
  for (uint64_t i = base; i < base + CHUNK; i++) rt_trace(bench, request, method, path, 200, i);
}

static void ignore(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev, const uint8_t *p) {
  (void)ctx, (void)ch, (void)ev, (void)p;
}

static uint64_t lost_total(const struct rt_session *s) {
  uint64_t lost = 0;
  struct rt_ring_stats st;
  for (uint32_t r = 0; r < s->n_rings; r++) rt_ring_stats_read(s, r, &st), lost += st.lost;
  return lost;
}

static void report(const char *name, double ns) {
  printf("ringtrace capi %s ns_per_event=%.2f\n", name, ns);
  fflush(stdout);
}

enum which { CORE_FIXED, CAPI_FIXED, CORE_REQUEST, CAPI_REQUEST };
static const char *const NAMES[] = {"core_fixed", "capi_fixed", "core_request", "capi_request"};

static void bench_attached(void) {
  char name[64], err[256];
  struct rt_session *s;
  snprintf(name, sizeof name, "bench-capi-%d", (int)getpid());
  setenv("RINGTRACE_SESSION", name, 1);
  struct rt_session_options o = {.sub_size = 1u << 20, .n_sub = 8};
  if (rt_session_create(name, &o, &s, err, sizeof err)) {
    fprintf(stderr, "bench_capi: %s\n", err);
    exit(1);
  }
  for (int i = 0; i < 300 && !rt_enabled(bench, fixed); i++) usleep(10000);
  if (!rt_enabled(bench, fixed)) {
    fprintf(stderr, "bench_capi: the C API did not attach\n");
    exit(1);
  }
  uint32_t fixed_id, request_id;
  if (rt_registry_register(s, DESC_FIXED, &fixed_id, err, sizeof err) ||
      rt_registry_register(s, DESC_REQUEST, &request_id, err, sizeof err)) {
    fprintf(stderr, "bench_capi: %s\n", err);
    exit(1);
  }
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  double *t[4];
  long delivered = 0;
  for (int w = 0; w < 4; w++) t[w] = calloc((size_t)n_chunks, sizeof(double));
  /* Interleaved A/B: every round runs each case once, so drift hits all alike. */
  for (int k = -1; k < n_chunks; k++) {
    for (int w = 0; w < 4; w++) {
      uint64_t base = (uint64_t)(k + 1) * CHUNK;
      double t0 = now_ns();
      switch (w) {
        case CORE_FIXED: run_core_fixed(s, fixed_id, base); break;
        case CAPI_FIXED: run_capi_fixed(base); break;
        case CORE_REQUEST: run_core_request(s, request_id, base); break;
        default: run_capi_request(base); break;
      }
      double dt = now_ns() - t0;
      if (k >= 0) t[w][k] = dt;
      long n = drain_once(&c, 1, ignore, NULL);
      if (n < 0) exit(1);
      delivered += n;
    }
  }
  uint64_t lost = lost_total(s);
  if (lost || delivered != (long)(n_chunks + 1) * 4 * CHUNK) {
    fprintf(stderr, "bench_capi: delivered %ld, lost %llu: the measurement is invalid\n", delivered,
            (unsigned long long)lost);
    exit(1);
  }
  for (int w = 0; w < 4; w++) report(NAMES[w], median(t[w], n_chunks) / CHUNK), free(t[w]);
  rt_consumer_fini(&c);
  rt_registry_unlink(s, err, sizeof err);
  rt_session_unlink(name, err, sizeof err);
  rt_session_close(s);
}

/* Put a selection file in place as the consumer does: write, rename, bump. */
static void put_selection(const struct rt_session *s, const char *text) {
  char file[256], tmp[300];
  if (rt_selection_path(s, file, sizeof file)) exit(1);
  const char *base = strrchr(file, '/') + 1; /* a dot name beside it: `list` does not take it for a session */
  snprintf(tmp, sizeof tmp, "%.*s.%s.tmp", (int)(base - file), file, base);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) || rename(tmp, file)) {
    fprintf(stderr, "bench_capi: cannot write %s\n", file);
    exit(1);
  }
  rt_selection_bump(s);
}

static void time_untraced(const char *case_name) {
  double *t = calloc((size_t)n_chunks, sizeof(double));
  for (int k = -1; k < n_chunks; k++) {
    double t0 = now_ns();
    run_capi_request((uint64_t)(k + 1) * CHUNK); /* what every event costs in a program nobody traces */
    if (k >= 0) t[k] = now_ns() - t0;
  }
  report(case_name, median(t, n_chunks) / CHUNK);
  free(t);
}

static void bench_untraced(const char *case_name, const char *session) {
  setenv("RINGTRACE_SESSION", session, 1);
  time_untraced(case_name);
}

/* Attached, bench:fixed selected, bench:request not: what an event the
 * selection leaves out costs. Nothing of it may reach the rings. */
static void bench_unselected(void) {
  char name[64], err[256];
  struct rt_session *s;
  snprintf(name, sizeof name, "bench-capi-sel-%d", (int)getpid());
  setenv("RINGTRACE_SESSION", name, 1);
  struct rt_session_options o = {.sub_size = 1u << 16, .n_sub = 4};
  if (rt_session_create(name, &o, &s, err, sizeof err)) {
    fprintf(stderr, "bench_capi: %s\n", err);
    exit(1);
  }
  put_selection(s, "ringtrace-selection 1\ndefault off\nenable bench:fixed\n");
  for (int i = 0; i < 300 && !rt_enabled(bench, fixed); i++) usleep(10000);
  if (!rt_enabled(bench, fixed) || rt_enabled(bench, request)) {
    fprintf(stderr, "bench_capi: the C API did not attach, or did not follow the selection\n");
    exit(1);
  }
  time_untraced("capi_unselected");
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  long n = drain_once(&c, 1, ignore, NULL);
  if (n != 0 || lost_total(s) != 0) {
    fprintf(stderr, "bench_capi: %ld records, %llu lost from an unselected class\n", n,
            (unsigned long long)lost_total(s));
    exit(1);
  }
  rt_consumer_fini(&c);
  rt_registry_unlink(s, err, sizeof err);
  rt_session_unlink(name, err, sizeof err);
  rt_session_close(s);
}

__attribute__((noinline)) static void run_snapshot_requests(void) {
  for (int i = 0; i < CHUNK; i++) rt_snapshot_request(path);
}

static double time_snapshot_requests(void) {
  double *t = calloc((size_t)n_chunks, sizeof(double));
  for (int k = -1; k < n_chunks; k++) {
    double t0 = now_ns();
    run_snapshot_requests();
    if (k >= 0) t[k] = now_ns() - t0;
  }
  double ns = median(t, n_chunks) / CHUNK;
  free(t);
  return ns;
}

/* What rt_snapshot_request costs an error loop: after its first request,
 * every call within 100 ms is folded (a request per 100 ms is made meanwhile,
 * a chunk's worth of calls takes ~2 ms: the median chunk has none). */
static void bench_snapshot(void) {
  char name[64], err[256];
  struct rt_session *s;
  snprintf(name, sizeof name, "bench-capi-snap-%d", (int)getpid());
  setenv("RINGTRACE_SESSION", name, 1);
  struct rt_session_options o = {.sub_size = 1u << 16, .n_sub = 4};
  if (rt_session_create(name, &o, &s, err, sizeof err)) {
    fprintf(stderr, "bench_capi: %s\n", err);
    exit(1);
  }
  if (rt_snapshot_request("first") != 1) {
    fprintf(stderr, "bench_capi: the first request was not made\n");
    exit(1);
  }
  report("capi_snapshot_folded", time_snapshot_requests());
  rt_registry_unlink(s, err, sizeof err);
  rt_session_unlink(name, err, sizeof err);
  rt_session_close(s);
}

int main(int argc, char **argv) {
  const char *mode = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quick")) n_chunks = 5;
    else if (argv[i][0] != '-' && !mode) mode = argv[i];
    else {
      fprintf(stderr, "usage: bench_capi [--quick] attached|unselected|detached|off|snapshot|snapshot-detached\n");
      return 2;
    }
  }
  pin_cpu(0);
  if (!mode || !strcmp(mode, "attached")) bench_attached();
  else if (!strcmp(mode, "unselected")) bench_unselected();
  else if (!strcmp(mode, "detached")) bench_untraced("capi_no_session", "bench-capi-nonexistent");
  else if (!strcmp(mode, "off")) bench_untraced("capi_off", "off");
  else if (!strcmp(mode, "snapshot")) bench_snapshot();
  else if (!strcmp(mode, "snapshot-detached")) {
    setenv("RINGTRACE_SESSION", "bench-capi-nonexistent", 1);
    report("capi_snapshot_no_session", time_snapshot_requests());
  }
  else {
    fprintf(stderr, "bench_capi: unknown mode %s\n", mode);
    return 2;
  }
  return 0;
}
