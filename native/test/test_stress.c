/* Stress test of the rings: producer threads on all CPUs, migrations forced
 * between reserve and commit (remote commits), timer signals every few tens of
 * microseconds (rseq aborts), and a concurrent consumer. Every event carries
 * (thread, sequence, checks); the consumer proves each is delivered exactly
 * once and intact, rings stay in timestamp order, and
 *   emitted == delivered + lost   exactly (per thread and in total).
 *
 * Usage: test_stress [--events N] [--threads T] [--sub-size B] [--n-sub N]
 *                    [--migrate-every K] [--signal-us U] [--pause-us P]
 *                    [--expect-lost zero|some|any]
 * With no options it runs two phases: adequate buffers (expect no loss;
 * RINGTRACE_STRESS_EVENTS events, default 20M, in RINGTRACE_STRESS_N_SUB
 * sub-buffers of RINGTRACE_STRESS_SUB_SIZE bytes, default 16 x 1 MiB) and tiny
 * buffers (expect loss).
 * Where no loss is expected, a producer waits while it has more undelivered
 * events than keep its share of a ring half empty: whether the consumer thread
 * gets the CPU in time (sanitizer builds, a loaded machine) must not decide the
 * outcome, so any loss there is a false "ring full". */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include "check.h"
#include "mode.h"
#include "interrupts.h"
#include "util.h"

#define EVENT_ID 3
#define MAX_THREADS 64

struct config {
  uint64_t events; /* total, split across threads */
  int threads;
  uint64_t sub_size;
  uint32_t n_sub;
  int migrate_every; /* 0: never */
  int signal_us;     /* 0: no timer signals */
  int pause_us;      /* producers sleep this long every 4096 events (bursty load) */
  const char *expect_lost;
  int require_aborts; /* long runs under signals must show kernel aborts */
};

struct payload {
  uint32_t thread;
  uint32_t check;
  uint64_t seq;
  uint64_t mix;
};


struct producer {
  pthread_t th;
  int index;
  const struct config *cfg;
  struct rt_session *s;
  uint64_t emitted, discarded, local_commits, remote_commits;
  int had_rseq; /* glibc registered rseq for this thread */
  const uint64_t *delivered; /* the consumer's count of this thread's events */
  uint64_t max_ahead;        /* 0: never wait for the consumer */
  uint64_t waits;            /* times it waited for the consumer */
};

struct verifier {
  const struct config *cfg;
  uint64_t per_thread;
  uint8_t *seen[MAX_THREADS]; /* bitmaps */
  uint64_t delivered[MAX_THREADS];
  /* Per ring, sized from the session (2 rings per possible CPU). */
  uint64_t *last_seq; /* [ring * MAX_THREADS + thread]: next expected minimum */
  uint64_t *last_ts;  /* [ring] */
  uint64_t duplicates, corrupt, out_of_order, ts_backwards;
  uint64_t wrong_path; /* records in a ring of the other path (rseq vs atomic) */
  const struct rt_session *s;
};

static volatile int producers_done;
static int n_cpus_online;


static void *produce(void *arg) {
  struct producer *p = arg;
  const struct config *cfg = p->cfg;
  int cpu = p->index % n_cpus_online;
  pin_cpu(cpu);
  p->had_rseq = thread_has_rseq();
  timer_t timer;
  int have_timer = cfg->signal_us ? interrupt_this_thread((long)cfg->signal_us, &timer) : 0;
  uint64_t n = cfg->events / (uint64_t)cfg->threads;
  int migrate_due = 0;
  for (uint64_t seq = 0; seq < n; seq++) {
    struct rt_reservation r;
    while (p->max_ahead &&
           p->emitted - p->discarded - __atomic_load_n(p->delivered, __ATOMIC_RELAXED) >= p->max_ahead) {
      struct timespec ts = {0, 50 * 1000};
      nanosleep(&ts, NULL);
      p->waits++;
    }
    /* Due every migrate_every events, done at the next reservation that succeeds: with
     * tiny rings most are discarded, and a due migration must not be spent on those. */
    migrate_due |= cfg->migrate_every && seq % (uint64_t)cfg->migrate_every == 0;
    int rc = rt_reserve(p->s, EVENT_ID, sizeof(struct payload), &r);
    p->emitted++;
    if (rc != RT_RESERVED) {
      p->discarded++;
      continue;
    }
    /* Migrating here, between reserve and commit, forces the remote commit. */
    if (migrate_due) {
      next_cpu(&cpu, n_cpus_online);
      migrate_due = 0;
    }
    if (cfg->pause_us && seq % 4096 == 4095) {
      struct timespec ts = {0, cfg->pause_us * 1000L};
      nanosleep(&ts, NULL);
    }
    struct payload pl = {(uint32_t)p->index, check32((uint32_t)p->index, seq), seq,
                         mix64((uint32_t)p->index, seq)};
    memcpy(rt_payload(&r), &pl, sizeof pl);
    if (rt_commit(&r))
      p->remote_commits++;
    else
      p->local_commits++;
  }
  if (have_timer) timer_delete(timer);
  return NULL;
}

static void verify(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev,
                   const uint8_t *data) {
  struct verifier *v = ctx;
  struct payload pl;
  if (ev->id != EVENT_ID || ev->size != RT_EVENT_HEADER_SIZE + sizeof pl) {
    v->corrupt++;
    return;
  }
  memcpy(&pl, data, sizeof pl);
  if (ring_is_rseq(v->s, ch->ring) != expected_rseq()) v->wrong_path++;
  if (pl.thread >= (uint32_t)v->cfg->threads || pl.seq >= v->per_thread ||
      pl.check != check32(pl.thread, pl.seq) || pl.mix != mix64(pl.thread, pl.seq)) {
    v->corrupt++;
    return;
  }
  uint8_t *bm = v->seen[pl.thread];
  if (bm[pl.seq / 8] & (1u << (pl.seq % 8))) {
    v->duplicates++;
    return;
  }
  bm[pl.seq / 8] |= (uint8_t)(1u << (pl.seq % 8));
  /* Read by the producer that waits for the consumer; only this thread writes it. */
  __atomic_store_n(&v->delivered[pl.thread], v->delivered[pl.thread] + 1, __ATOMIC_RELAXED);
  /* One thread's records in one ring appear in the order it reserved them. */
  uint64_t *last = &v->last_seq[(size_t)ch->ring * MAX_THREADS + pl.thread];
  if (*last && pl.seq + 1 <= *last) v->out_of_order++;
  *last = pl.seq + 1;
  if (ev->timestamp < v->last_ts[ch->ring]) v->ts_backwards++;
  v->last_ts[ch->ring] = ev->timestamp;
}

struct consumer_arg {
  struct rt_consumer *c;
  struct verifier *v;
  int failed;
};

static void *consume(void *arg) {
  struct consumer_arg *a = arg;
  int idle = 0;
  for (;;) {
    int done = __atomic_load_n(&producers_done, __ATOMIC_ACQUIRE);
    /* Complete sub-buffers; prefixes too once nothing is complete, so the
     * events of producers waiting for us are delivered. */
    long n = drain_once(a->c, done || idle, verify, a->v);
    idle = n == 0;
    if (n < 0) {
      a->failed = 1;
      return NULL;
    }
    if (done && n == 0) return NULL; /* producers finished and everything drained */
    if (n == 0) {
      struct timespec ts = {0, 200 * 1000};
      nanosleep(&ts, NULL);
    }
  }
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void run_phase(const char *title, const struct config *cfg) {
  char name[64], err[256];
  test_session_name(name, sizeof name, "stress");
  struct rt_session *s;
  struct rt_session_options o = {.sub_size = cfg->sub_size, .n_sub = cfg->n_sub};
  REQUIRE(rt_session_create(name, &o, &s, err, sizeof err) == 0, "%s", err);
  rt_session_unlink(name, err, sizeof err);
  require_expected_mode(s);
  REQUIRE(cfg->threads <= MAX_THREADS, "test limits");

  struct verifier *v = calloc(1, sizeof *v);
  v->cfg = cfg;
  v->s = s;
  v->last_seq = calloc((size_t)s->n_rings * MAX_THREADS, sizeof *v->last_seq);
  v->last_ts = calloc(s->n_rings, sizeof *v->last_ts);
  REQUIRE(v->last_seq && v->last_ts, "allocate per-ring state for %u rings", s->n_rings);
  v->per_thread = cfg->events / (uint64_t)cfg->threads;
  for (int t = 0; t < cfg->threads; t++) v->seen[t] = calloc(v->per_thread / 8 + 1, 1);
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  struct consumer_arg ca = {&c, v, 0};
  producers_done = 0;

  double t0 = now_s();
  pthread_t cons;
  pthread_create(&cons, NULL, consume, &ca);
  struct producer prod[MAX_THREADS];
  /* Undelivered events of all producers fill at most the ring less two
   * sub-buffers (one read as a prefix but not released, one of slack). */
  uint64_t stride = rt_record_stride(RT_EVENT_HEADER_SIZE + sizeof(struct payload));
  uint64_t max_ahead = 0;
  if (!strcmp(cfg->expect_lost, "zero") && cfg->n_sub > 2)
    max_ahead = (s->ring_size - 2 * s->sub_size) / stride / (uint64_t)cfg->threads;
  for (int t = 0; t < cfg->threads; t++) {
    prod[t] = (struct producer){.index = t, .cfg = cfg, .s = s, .delivered = &v->delivered[t],
                                .max_ahead = max_ahead};
    pthread_create(&prod[t].th, NULL, produce, &prod[t]);
  }
  for (int t = 0; t < cfg->threads; t++) pthread_join(prod[t].th, NULL);
  __atomic_store_n(&producers_done, 1, __ATOMIC_RELEASE);
  pthread_join(cons, NULL);
  double elapsed = now_s() - t0;

  uint64_t emitted = 0, discarded = 0, delivered = 0, local = 0, remote = 0, waits = 0;
  for (int t = 0; t < cfg->threads; t++) {
    waits += prod[t].waits;
    emitted += prod[t].emitted;
    discarded += prod[t].discarded;
    local += prod[t].local_commits;
    remote += prod[t].remote_commits;
    delivered += v->delivered[t];
    CHECK(prod[t].emitted == v->delivered[t] + prod[t].discarded,
          "thread %d: emitted %llu != delivered %llu + discarded %llu", t,
          (unsigned long long)prod[t].emitted, (unsigned long long)v->delivered[t],
          (unsigned long long)prod[t].discarded);
  }
  uint64_t ring_lost = 0, aborts = 0, mismatches = 0, ring_remote = 0;
  for (uint32_t r = 0; r < s->n_rings; r++) {
    struct rt_ring_stats st;
    rt_ring_stats_read(s, r, &st);
    ring_lost += st.lost;
    aborts += st.rseq_aborts;
    mismatches += st.cpu_mismatches;
    ring_remote += st.remote_commits;
    CHECK(st.consumed_off <= st.write_off && st.write_off - st.consumed_off < s->sub_size,
          "ring %u drained to its last sub-buffer", r);
  }
  printf("# %s: rseq=%s clock=%s threads=%d sub=%llux%u pause=%dus events=%llu in %.2fs\n",
         title, s->use_rseq ? "yes" : "no (atomic fallback)",
         s->clock_kind == RT_CLOCK_CYCLES ? "cycles" : "monotonic", cfg->threads,
         (unsigned long long)cfg->sub_size, cfg->n_sub, cfg->pause_us,
         (unsigned long long)emitted, elapsed);
  printf("#   delivered=%llu lost=%llu (rings count %llu) commits local=%llu remote=%llu "
         "(ring remote incl. padding %llu) rseq_aborts=%llu cpu_mismatches=%llu "
         "waits_for_consumer=%llu\n",
         (unsigned long long)delivered, (unsigned long long)discarded,
         (unsigned long long)ring_lost, (unsigned long long)local, (unsigned long long)remote,
         (unsigned long long)ring_remote, (unsigned long long)aborts,
         (unsigned long long)mismatches, (unsigned long long)waits);
  CHECK(!ca.failed, "consumer saw no corruption");
  CHECK(emitted == delivered + discarded, "emitted == delivered + lost");
  CHECK(ring_lost == discarded, "rings' lost counters (%llu) == producers' discards (%llu)",
        (unsigned long long)ring_lost, (unsigned long long)discarded);
  CHECK(v->duplicates == 0, "%llu duplicates", (unsigned long long)v->duplicates);
  CHECK(v->corrupt == 0, "%llu corrupt records", (unsigned long long)v->corrupt);
  CHECK(v->out_of_order == 0, "%llu out of order", (unsigned long long)v->out_of_order);
  for (int t = 0; t < cfg->threads; t++)
    CHECK(prod[t].had_rseq == expected_rseq(), "producer %d: rseq %s, this run expects %s", t,
          prod[t].had_rseq ? "registered" : "not registered", rseq_mode_name(expected_rseq()));
  CHECK(v->wrong_path == 0, "%llu records written by the other path than %s",
        (unsigned long long)v->wrong_path, rseq_mode_name(expected_rseq()));
  CHECK(v->ts_backwards == 0, "%llu timestamps went backwards", (unsigned long long)v->ts_backwards);
  if (!strcmp(cfg->expect_lost, "zero")) CHECK(discarded == 0, "no loss expected");
  if (!strcmp(cfg->expect_lost, "some")) CHECK(discarded > 0, "tiny buffers must lose");
  if (s->use_rseq && cfg->migrate_every && n_cpus_online > 1)
    CHECK(remote > 0, "remote commits must occur, or this does not test the design");
  if (s->use_rseq && cfg->signal_us && cfg->require_aborts) CHECK(aborts > 0, "rseq aborts must occur under signals");
  for (int t = 0; t < cfg->threads; t++) free(v->seen[t]);
  free(v->last_seq);
  free(v->last_ts);
  free(v);
  rt_consumer_fini(&c);
  rt_session_close(s);
}

static uint64_t env_u64(const char *name, uint64_t def) {
  const char *v = getenv(name);
  return v && *v ? strtoull(v, NULL, 0) : def;
}

int main(int argc, char **argv) {
  n_cpus_online = n_online_cpus();
  install_interrupt_handler();

  struct config cfg = {env_u64("RINGTRACE_STRESS_EVENTS", 20000000), 4,
                       env_u64("RINGTRACE_STRESS_SUB_SIZE", 1u << 20),
                       (uint32_t)env_u64("RINGTRACE_STRESS_N_SUB", 16), 2000, 50, 100, "zero", 1};
  int custom = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *val = argv[i + 1];
    custom = 1;
    if (!strcmp(k, "--events")) cfg.events = strtoull(val, NULL, 0);
    else if (!strcmp(k, "--threads")) cfg.threads = atoi(val);
    else if (!strcmp(k, "--sub-size")) cfg.sub_size = strtoull(val, NULL, 0);
    else if (!strcmp(k, "--n-sub")) cfg.n_sub = (uint32_t)atoi(val);
    else if (!strcmp(k, "--migrate-every")) cfg.migrate_every = atoi(val);
    else if (!strcmp(k, "--signal-us")) cfg.signal_us = atoi(val);
    else if (!strcmp(k, "--pause-us")) cfg.pause_us = atoi(val);
    else if (!strcmp(k, "--expect-lost")) cfg.expect_lost = val;
    else {
      fprintf(stderr, "unknown option %s\n", k);
      return 2;
    }
  }
  if (cfg.threads < 1 || cfg.threads > MAX_THREADS) {
    fprintf(stderr, "--threads must be 1..%d\n", MAX_THREADS);
    return 2;
  }
  if (custom) {
    RUN_NAMED("stress (custom)", run_phase("custom", &cfg));
  } else {
    RUN_NAMED("stress: adequate buffers lose nothing", run_phase("adequate", &cfg));
    struct config tiny = cfg;
    tiny.events = cfg.events / 10;
    tiny.sub_size = 4096;
    tiny.n_sub = 2;
    tiny.expect_lost = "some";
    tiny.require_aborts = 0; /* ~0.1 s: too short to expect a signal inside a section */
    RUN_NAMED("stress: tiny buffers lose, exactly counted", run_phase("tiny", &tiny));
  }
  return CHECK_EXIT();
}
