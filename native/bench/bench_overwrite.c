/* Overwrite mode (the flight recorder) in bench_native: emit cost in discard
 * and overwrite mode side by side with the ring wrapping, snapshot latency
 * and size for 64 MiB per CPU, what a snapshot delivers while a writer runs
 * flat out, and the atomic instructions a reader-owned spare sub-buffer
 * (the alternative design, docs/design.md) would add to the writer. Same
 * output format as bench_native.c. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../test/util.h"
#include "bench_overwrite.h"
#include "bench_util.h"
#include "snapshot.h"

static struct rt_session *mode_session(uint32_t mode, uint64_t sub_size, uint32_t n_sub) {
  char name[64], err[256];
  struct rt_session *s;
  static int count;
  snprintf(name, sizeof name, "bench-ow-%d-%d", (int)getpid(), count++);
  struct rt_session_options o = {.sub_size = sub_size, .n_sub = n_sub, .mode = mode};
  if (rt_session_create(name, &o, &s, err, sizeof err)) {
    fprintf(stderr, "bench_native: %s\n", err);
    exit(1);
  }
  rt_session_unlink(name, err, sizeof err);
  return s;
}

static uint32_t ring_of(const struct rt_session *s, int cpu) {
  return s->use_rseq ? (uint32_t)cpu : s->n_cpus + (uint32_t)cpu;
}

static void emit_events(const struct rt_session *s, uint64_t base, uint64_t n) {
  for (uint64_t i = 0; i < n; i++) {
    uint64_t v[3] = {base + i, i * 3, 42};
    rt_emit(s, 1, v, sizeof v);
  }
}

static uint64_t drain(struct rt_consumer *c, uint32_t ring) {
  uint64_t bytes = 0;
  struct rt_chunk ch;
  int rc;
  while ((rc = rt_consumer_next(c, ring, &ch, 1)) == 1) {
    bytes += ch.end - ch.begin;
    rt_consumer_done(c, &ch);
    if (!ch.complete) break;
  }
  if (rc < 0) {
    fprintf(stderr, "bench_native: %s\n", c->err);
    exit(1);
  }
  return bytes;
}

static void require(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "bench_native: %s; the measurement is invalid\n", what);
    exit(1);
  }
}

/* ---- emit: discard vs overwrite, alternating chunks on one thread ---- */

/* Discard mode drains between chunks (untimed), as emit_3u64_1thread does;
 * overwrite mode never reads, and its ring wraps every few chunks, so a
 * sub-buffer is opened (lap checked, the old lap walked and counted) about
 * every 26 000 events (1 MiB sub-buffers) or every 100 (4 KiB).
 * Phased (interleave 0): a phase of chunks in one mode, then one in the
 * other, three times each (drift on a shared host hits both alike); each
 * ring stays as warm as when it is used alone. Interleaved: the two modes
 * alternate chunk by chunk, so each ring's old lap has been pushed out of the
 * caches by the other's traffic when it is overwritten: the walk then reads
 * it from memory, while discard mode's stores to cold lines are absorbed by
 * the store buffer. */
static void bench_emit_modes(const char *name, int rseq, uint64_t sub_size, int n_chunks, int interleave) {
  pin_cpu(0);
  uint32_t n_sub = 8 * (uint32_t)((1u << 20) / sub_size); /* 8 MiB rings */
  struct rt_session *d = mode_session(RT_MODE_DISCARD, sub_size, n_sub);
  struct rt_session *o = mode_session(RT_MODE_OVERWRITE, sub_size, n_sub);
  rt_session_set_rseq(d, rseq);
  rt_session_set_rseq(o, rseq);
  struct rt_consumer c;
  rt_consumer_init(&c, d);
  uint32_t ring = ring_of(d, 0);
  emit_events(o, 0, o->ring_size / 40 + 1); /* a lap first: every chunk overwrites */
  int reps = interleave ? 1 : 3, per = interleave ? n_chunks : n_chunks / 3 + 1, n = 0;
  double *td = calloc((size_t)(reps * per), sizeof *td), *to = calloc((size_t)(reps * per), sizeof *to);
  uint64_t base = 0;
  for (int r = 0; r < reps; r++) {
    for (int phase = 0; phase < (interleave ? 1 : 2); phase++) {
      for (int k = -1; k < per; k++) {
        for (int half = 0; half < 2; half++) {
          int discard = interleave ? (half == 0) == (k % 2 == 0) : phase == 0;
          if (!interleave && half) break;
          struct rt_session *s = discard ? d : o;
          double t0 = now_ns();
          emit_events(s, base, BENCH_CHUNK);
          double t = now_ns() - t0;
          base += BENCH_CHUNK;
          if (k >= 0) (discard ? td : to)[n + k] = t;
          if (discard) drain(&c, ring);
        }
      }
    }
    n += per;
  }
  struct rt_ring_stats sd, so;
  rt_ring_stats_read(d, ring, &sd);
  rt_ring_stats_read(o, ring_of(o, 0), &so);
  require(sd.lost == 0 && so.lost == 0, "events were lost");
  require(o->rings[ring_of(o, 0)].overwritten_records > 0, "the overwrite ring did not wrap");
  double nd = median(td, n) / BENCH_CHUNK, no = median(to, n) / BENCH_CHUNK;
  char extra[160];
  snprintf(extra, sizeof extra, "discard_ns=%.2f overwrite_ns=%.2f ratio=%.3f sub_size=%llu overwritten=%llu", nd, no,
           no / nd, (unsigned long long)sub_size, (unsigned long long)o->rings[ring_of(o, 0)].overwritten_records);
  bench_report(name, no, extra);
  free(td);
  free(to);
  rt_consumer_fini(&c);
  rt_session_close(d);
  rt_session_close(o);
}

/* ---- snapshot latency and size: 64 MiB per CPU, writers stopped ---- */

struct filler {
  pthread_t th;
  const struct rt_session *s;
  int cpu;
};
static void *fill_ring(void *arg) {
  struct filler *f = arg;
  pin_cpu(f->cpu);
  emit_events(f->s, 0, f->s->ring_size / 40 + f->s->ring_size / 400); /* a lap and a tenth */
  return NULL;
}

static double take_all(const struct rt_session *s, uint64_t *bytes, uint64_t *torn) {
  double t0 = now_ns();
  *bytes = *torn = 0;
  for (uint32_t ring = 0; ring < s->n_rings; ring++) {
    struct rt_snapshot_ring sr;
    char err[256];
    require(rt_snapshot_ring_take(s, ring, &sr, err, sizeof err) == 0, err);
    for (uint32_t i = 0; i < sr.n_chunks; i++) *bytes += sr.chunks[i].end;
    *torn += sr.torn;
    rt_snapshot_ring_free(&sr);
  }
  return now_ns() - t0;
}

static void bench_snapshot_latency(int n_rounds) {
  struct rt_session *s = mode_session(RT_MODE_OVERWRITE, 8u << 20, 8); /* 64 MiB per ring */
  int cpus = n_online_cpus() < 8 ? n_online_cpus() : 8;
  struct filler f[8];
  for (int c = 0; c < cpus; c++) {
    f[c] = (struct filler){.s = s, .cpu = c};
    pthread_create(&f[c].th, NULL, fill_ring, &f[c]);
  }
  for (int c = 0; c < cpus; c++) pthread_join(f[c].th, NULL);
  pin_cpu(0);
  double t[64];
  uint64_t bytes = 0, torn = 0;
  if (n_rounds > 64) n_rounds = 64;
  for (int k = -1; k < n_rounds; k++) {
    double ns = take_all(s, &bytes, &torn);
    if (k >= 0) t[k] = ns;
  }
  require(torn == 0, "a snapshot was torn with writers stopped");
  double ms = median(t, n_rounds) / 1e6;
  char extra[160];
  snprintf(extra, sizeof extra, "ms=%.1f bytes=%llu rings_written=%d ring_size=%llu GB_per_s=%.2f", ms,
           (unsigned long long)bytes, cpus, (unsigned long long)s->ring_size, (double)bytes / (ms * 1e6));
  printf("ringtrace native snapshot_64MiB_per_cpu %s\n", extra);
  fflush(stdout);
  rt_session_close(s);
}

/* ---- what a snapshot delivers while a writer runs flat out ---- */

static volatile int writer_stop;
static void *flat_out(void *arg) {
  struct filler *f = arg;
  pin_cpu(f->cpu);
  for (uint64_t base = 0; !writer_stop; base += 4096) emit_events(f->s, base, 4096);
  return NULL;
}

/* Writer on CPU 1, snapshots of its ring on CPU 0 (10 ms apart). Delivered:
 * bytes of the snapshot / ring size. Torn: copies dropped because the writer
 * entered their next lap while they were copied; a reader-owned spare
 * sub-buffer (the alternative design) would have kept those, so delivered +
 * torn is its bound with the same copy speed. */
static void bench_snapshot_under_writer(uint64_t sub_size, uint32_t n_sub, int n_rounds) {
  if (n_online_cpus() < 2) return;
  struct rt_session *s = mode_session(RT_MODE_OVERWRITE, sub_size, n_sub);
  struct filler f = {.s = s, .cpu = 1};
  writer_stop = 0;
  pthread_create(&f.th, NULL, flat_out, &f);
  pin_cpu(0);
  uint32_t ring = ring_of(s, 1);
  struct timespec gap = {0, 10 * 1000 * 1000};
  nanosleep(&gap, NULL);
  while (s->rings[ring].write_off < 2 * s->ring_size) nanosleep(&gap, NULL); /* wrapped */
  double frac[64], torn_frac[64], ms[64];
  uint64_t torn_total = 0, gone_total = 0;
  if (n_rounds > 64) n_rounds = 64;
  for (int k = 0; k < n_rounds; k++) {
    struct rt_snapshot_ring sr;
    char err[256];
    uint64_t w0 = s->rings[ring].write_off;
    double t0 = now_ns();
    require(rt_snapshot_ring_take(s, ring, &sr, err, sizeof err) == 0, err);
    ms[k] = (now_ns() - t0) / 1e6;
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < sr.n_chunks; i++) bytes += sr.chunks[i].end;
    frac[k] = (double)bytes / (double)s->ring_size;
    torn_frac[k] = (double)(bytes + sr.torn * sub_size) / (double)s->ring_size;
    torn_total += sr.torn;
    uint64_t w1 = s->rings[ring].write_off;
    gone_total += (w1 - w0) / sub_size;
    rt_snapshot_ring_free(&sr);
    nanosleep(&gap, NULL);
  }
  writer_stop = 1;
  pthread_join(f.th, NULL);
  double lo = frac[0];
  for (int k = 1; k < n_rounds; k++) lo = frac[k] < lo ? frac[k] : lo;
  char name[64], extra[200];
  snprintf(name, sizeof name, "snapshot_under_writer_%llux%u", (unsigned long long)(sub_size >> 20), n_sub);
  snprintf(extra, sizeof extra,
           "delivered_median=%.3f delivered_min=%.3f with_torn_kept=%.3f torn_per_snapshot=%.2f "
           "ms_median=%.1f writer_sub_buffers_per_snapshot=%.1f",
           median(frac, n_rounds), lo, median(torn_frac, n_rounds), (double)torn_total / n_rounds,
           median(ms, n_rounds), (double)gone_total / n_rounds);
  printf("ringtrace native %s %s\n", name, extra);
  fflush(stdout);
  rt_session_close(s);
}

/* ---- the alternative's writer-side atomics, priced ---- */

static uint64_t shared_word __attribute__((aligned(64)));
static volatile int contender_stop, contender_running;
static void *contend(void *arg) {
  (void)arg;
  pin_cpu(1);
  contender_running = 1;
  while (!contender_stop) {
    uint64_t v = __atomic_load_n(&shared_word, __ATOMIC_RELAXED);
    __atomic_compare_exchange_n(&shared_word, &v, v + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
  }
  return NULL;
}

static double time_cmpxchg(int n_rounds) {
  double t[64];
  if (n_rounds > 64) n_rounds = 64;
  for (int k = -1; k < n_rounds; k++) {
    double t0 = now_ns();
    for (int i = 0; i < BENCH_CHUNK; i++) {
      uint64_t v = __atomic_load_n(&shared_word, __ATOMIC_RELAXED);
      __atomic_compare_exchange_n(&shared_word, &v, v + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
    }
    if (k >= 0) t[k] = now_ns() - t0;
  }
  return median(t, n_rounds) / BENCH_CHUNK;
}

/* A reader that swaps its spare sub-buffer into the ring makes each writer
 * exchange the sub-buffer's id word (a cmpxchg) when it starts writing a
 * sub-buffer, and a full fence when it ends one; the reader's cmpxchg on the
 * same word makes that line bounce. Per event that is the cost divided by the
 * events a sub-buffer holds (40-byte events). */
static void bench_swap_atomics(int n_rounds) {
  pin_cpu(0);
  double alone = time_cmpxchg(n_rounds), contended = alone;
  if (n_online_cpus() >= 2) {
    pthread_t th;
    contender_stop = contender_running = 0;
    pthread_create(&th, NULL, contend, NULL);
    while (!contender_running) sched_yield();
    contended = time_cmpxchg(n_rounds);
    contender_stop = 1;
    pthread_join(th, NULL);
  }
  char extra[200];
  snprintf(extra, sizeof extra,
           "cmpxchg_ns=%.2f cmpxchg_contended_ns=%.2f per_event_1MiB_sub=%.5f per_event_4KiB_sub=%.3f", alone,
           contended, contended / ((1 << 20) / 40.0), contended / (4096 / 40.0));
  printf("ringtrace native swap_model_atomics %s\n", extra);
  fflush(stdout);
}

void bench_overwrite(int argc, char **argv, int n_chunks, int have_rseq) {
  if (have_rseq && wanted(argc, argv, "emit_overwrite_vs_discard"))
    bench_emit_modes("emit_overwrite_vs_discard", 1, 1u << 20, n_chunks, 0);
  if (have_rseq && wanted(argc, argv, "emit_overwrite_vs_discard_4k"))
    bench_emit_modes("emit_overwrite_vs_discard_4k", 1, 4096, n_chunks, 0);
  if (have_rseq && wanted(argc, argv, "emit_overwrite_vs_discard_interleaved"))
    bench_emit_modes("emit_overwrite_vs_discard_interleaved", 1, 1u << 20, n_chunks, 1);
  if (wanted(argc, argv, "emit_overwrite_vs_discard_fallback"))
    bench_emit_modes("emit_overwrite_vs_discard_fallback", 0, 1u << 20, n_chunks, 0);
  if (wanted(argc, argv, "snapshot_64MiB_per_cpu")) bench_snapshot_latency(n_chunks < 9 ? 5 : 11);
  if (wanted(argc, argv, "snapshot_under_writer")) {
    bench_snapshot_under_writer(8u << 20, 8, n_chunks < 9 ? 9 : 21);
    bench_snapshot_under_writer(1u << 20, 64, n_chunks < 9 ? 9 : 21);
  }
  if (wanted(argc, argv, "swap_model_atomics")) bench_swap_atomics(n_chunks);
}
