/* Native microbenchmarks of the ring. Each case prints one machine-readable line
 *   ringtrace native <case> ns_per_event=<x> [more=...]
 * Method: events are timed in chunks that fit the ring; the consumer drains
 * between chunks, untimed, so nothing is dropped; the median chunk is reported
 * (shared machine: medians resist other tenants). Every emit case checks that
 * nothing was lost and fails otherwise.
 *
 * Overwrite mode (the flight recorder): bench_overwrite.c.
 *
 * Usage: bench_native [--quick] [case...]   (no case: all) */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../test/util.h"
#include "bench_overwrite.h"
#include "bench_util.h"

#define CHUNK BENCH_CHUNK
static int n_chunks = 41;
static volatile uint64_t sink;


void bench_report(const char *name, double ns, const char *extra) {
  printf("ringtrace native %s ns_per_event=%.2f%s%s\n", name, ns, extra ? " " : "", extra ? extra : "");
  fflush(stdout);
}

static struct rt_session *bench_session(uint32_t clock_kind) {
  char name[64], err[256];
  struct rt_session *s;
  snprintf(name, sizeof name, "bench-%d-%u", (int)getpid(), clock_kind);
  struct rt_session_options o = {.sub_size = 1u << 20, .n_sub = 8, .clock_kind = clock_kind};
  if (rt_session_create(name, &o, &s, err, sizeof err)) {
    fprintf(stderr, "bench_native: %s\n", err);
    exit(1);
  }
  rt_session_unlink(name, err, sizeof err);
  return s;
}

static void ignore_record(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev,
                          const uint8_t *payload) {
  (void)ch, (void)ev, (void)payload;
  ++*(long *)ctx;
}

/* Drain only `ring` (each benchmark thread owns one ring and its read position). */
static long drain_ring(struct rt_consumer *c, uint32_t ring) {
  long n = 0;
  struct rt_chunk ch;
  int rc;
  while ((rc = rt_consumer_next(c, ring, &ch, 1)) == 1) {
    uint32_t pos = ch.begin;
    struct rt_event_header ev;
    const uint8_t *p;
    char err[256];
    while (rt_chunk_next_record(&ch, &pos, &ev, &p, err, sizeof err) == 1) ignore_record(&n, &ch, &ev, p);
    rt_consumer_done(c, &ch);
    if (!ch.complete) break;
  }
  if (rc < 0) {
    fprintf(stderr, "bench_native: %s\n", c->err);
    exit(1);
  }
  return n;
}

static uint64_t total_lost(const struct rt_session *s) {
  uint64_t lost = 0;
  struct rt_ring_stats st;
  for (uint32_t r = 0; r < s->n_rings; r++) {
    rt_ring_stats_read(s, r, &st);
    lost += st.lost;
  }
  return lost;
}

static void require_no_loss(const char *name, const struct rt_session *s) {
  uint64_t lost = total_lost(s);
  if (lost) {
    fprintf(stderr, "bench_native: %s lost %llu events; the measurement is invalid\n", name,
            (unsigned long long)lost);
    exit(1);
  }
}

/* ---- emit: one thread per CPU, each timing its own chunks ---- */

struct emitter {
  pthread_t th;
  int cpu;
  struct rt_session *s;
  pthread_barrier_t *barrier;
  double *chunk_ns;  /* per chunk: this thread's time */
  double *wall_ns;   /* per chunk, thread 0 only: start barrier to end barrier */
  long delivered;
};

static void emit_chunk(const struct rt_session *s, uint64_t base) {
  for (uint64_t i = 0; i < CHUNK; i++) {
    uint64_t v[3] = {base + i, i * 3, 42};
    rt_emit(s, 1, v, sizeof v);
  }
}

static void *emitter_main(void *arg) {
  struct emitter *e = arg;
  pin_cpu(e->cpu);
  struct rt_consumer c;
  rt_consumer_init(&c, e->s);
  /* With rseq this CPU's ring; with the fallback, its atomic ring. */
  uint32_t ring = e->s->use_rseq ? (uint32_t)e->cpu : e->s->n_cpus + (uint32_t)e->cpu;
  for (int k = -1; k < n_chunks; k++) { /* chunk -1 warms up caches and pages */
    if (e->barrier) pthread_barrier_wait(e->barrier);
    double t0 = now_ns();
    emit_chunk(e->s, (uint64_t)(k + 1) * CHUNK);
    double t1 = now_ns();
    if (e->barrier) pthread_barrier_wait(e->barrier);
    if (k >= 0) {
      e->chunk_ns[k] = t1 - t0;
      if (e->wall_ns) e->wall_ns[k] = now_ns() - t0;
    }
    e->delivered += drain_ring(&c, ring);
  }
  rt_consumer_fini(&c);
  return NULL;
}

static void bench_emit(const char *name, int threads, int rseq, uint32_t clock_kind) {
  struct rt_session *s = bench_session(clock_kind);
  rt_session_set_rseq(s, rseq);
  if (threads > n_online_cpus()) threads = n_online_cpus();
  pthread_barrier_t barrier;
  if (threads > 1) pthread_barrier_init(&barrier, NULL, (unsigned)threads);
  struct emitter e[8];
  double wall[256];
  for (int t = 0; t < threads; t++) {
    e[t] = (struct emitter){.cpu = t, .s = s, .barrier = threads > 1 ? &barrier : NULL,
                            .chunk_ns = calloc((size_t)n_chunks, sizeof(double)),
                            .wall_ns = t == 0 && threads > 1 ? wall : NULL};
    pthread_create(&e[t].th, NULL, emitter_main, &e[t]);
  }
  double per_thread = 0;
  long delivered = 0;
  for (int t = 0; t < threads; t++) {
    pthread_join(e[t].th, NULL);
    per_thread += median(e[t].chunk_ns, n_chunks) / CHUNK / threads;
    delivered += e[t].delivered;
    free(e[t].chunk_ns);
  }
  require_no_loss(name, s);
  long expected = (long)(n_chunks + 1) * CHUNK * threads;
  if (delivered != expected) {
    fprintf(stderr, "bench_native: %s delivered %ld of %ld events\n", name, delivered, expected);
    exit(1);
  }
  char extra[96] = "";
  if (threads > 1) {
    double per_event_wall = median(wall, n_chunks) / ((double)CHUNK * threads);
    snprintf(extra, sizeof extra, "aggregate_events_per_s=%.0f threads=%d", 1e9 / per_event_wall,
             threads);
    pthread_barrier_destroy(&barrier);
  }
  bench_report(name, per_thread, extra[0] ? extra : NULL);
  rt_session_close(s);
}

/* ---- pieces: clock and commit alone ---- */

typedef uint64_t (*op_fn)(uint64_t i);
static uint32_t clock_kind_of_session;

static uint64_t op_nothing(uint64_t i) { return i; }
static uint64_t op_clock_session(uint64_t i) { return rt_clock_read(clock_kind_of_session) + i; }
static uint64_t op_clock_monotonic(uint64_t i) { return rt_monotonic_ns() + i; }
static uint64_t op_clock_ordered(uint64_t i) { return rt_clock_read_ordered(clock_kind_of_session) + i; }

static struct rt_ring_ctl commit_ring;
static struct rt_sub_ctl commit_sub;
static uint64_t op_commit_local(uint64_t i) {
  /* Pinned, so the rseq add succeeds: the local path. */
  int32_t cpu = (int32_t)__atomic_load_n(&rt_rseq_area()->cpu_id, __ATOMIC_RELAXED);
  return (uint64_t)rt_commit_bytes(&commit_ring, &commit_sub, cpu, 40) + i;
}
static uint64_t op_commit_remote(uint64_t i) {
  return (uint64_t)rt_commit_bytes(&commit_ring, &commit_sub, -1, 40) + i;
}

static void bench_op(const char *name, op_fn op) {
  pin_cpu(0);
  double t[256];
  uint64_t acc = 0;
  for (int k = -1; k < n_chunks; k++) {
    double t0 = now_ns();
    for (uint64_t i = 0; i < CHUNK; i++) acc += op(i);
    if (k >= 0) t[k] = now_ns() - t0;
  }
  sink = acc;
  bench_report(name, median(t, n_chunks) / CHUNK, NULL);
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quick")) n_chunks = 9;
    else if (!strcmp(argv[i], "--help")) {
      printf("usage: bench_native [--quick] [case...]\n");
      return 0;
    } else if (argv[i][0] == '-') {
      fprintf(stderr, "bench_native: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  struct rt_session *probe = bench_session(0);
  clock_kind_of_session = probe->clock_kind;
  int have_rseq = probe->use_rseq;
  rt_session_close(probe);
  printf("# clock=%s rseq=%s cpus=%d chunk=%d chunks=%d\n",
         clock_kind_of_session == RT_CLOCK_CYCLES ? "cycles" : "monotonic",
         have_rseq ? "yes" : "no (atomic fallback)", n_online_cpus(), CHUNK, n_chunks);

  /* The pieces are timed through a function pointer; this is that overhead. */
  if (wanted(argc, argv, "call_overhead")) bench_op("call_overhead", op_nothing);
  if (wanted(argc, argv, "clock_read")) bench_op("clock_read", op_clock_session);
  if (wanted(argc, argv, "clock_read_ordered")) bench_op("clock_read_ordered", op_clock_ordered);
  if (wanted(argc, argv, "clock_gettime_monotonic"))
    bench_op("clock_gettime_monotonic", op_clock_monotonic);
  if (have_rseq && wanted(argc, argv, "commit_local")) bench_op("commit_local", op_commit_local);
  if (wanted(argc, argv, "commit_remote")) bench_op("commit_remote", op_commit_remote);
  if (wanted(argc, argv, "emit_3u64_1thread")) bench_emit("emit_3u64_1thread", 1, 1, 0);
  if (wanted(argc, argv, "emit_3u64_2threads")) bench_emit("emit_3u64_2threads", 2, 1, 0);
  if (wanted(argc, argv, "emit_3u64_fallback")) bench_emit("emit_3u64_fallback", 1, 0, 0);
  if (wanted(argc, argv, "emit_3u64_monotonic"))
    bench_emit("emit_3u64_monotonic", 1, 1, RT_CLOCK_MONOTONIC);
  bench_overwrite(argc, argv, n_chunks, have_rseq);
  return 0;
}
