/* Snapshots of overwrite-mode rings under load: writer threads flat out on
 * every CPU (some migrating between reserve and commit, so commits go remote;
 * timer signals abort rseq sections), one thread pinned to each CPU, and a
 * writer process that is SIGKILLed in the middle of a record, while another
 * thread takes snapshots of every ring back to back and, as the flight
 * recorder does, salvages what the dead writer left. Every snapshot must hold
 * per ring a contiguous run of packets (consecutive sub-buffers), every record
 * whole (checksums), no record twice, each thread's records in order within a
 * ring, timestamps not going back, and for a pinned writer a contiguous run of
 * its sequence numbers (less the events it saw dropped); each chunk must make
 * a packet (rt_packet_build). When writers have stopped:
 *   emitted == in the rings + overwritten + lost,   exactly.
 * Run on the rseq rings and on the atomic fallback (mode.h).
 * Env: RINGTRACE_SNAPSHOT_MS (writers' run time, default 1500). */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include "interrupts.h"
#include "overwrite_util.h"
#include "snapshot.h"

#define EVENT_ID 3
#define MIGRATING 4              /* writer threads moved between CPUs */
#define MAX_PINNED 8             /* one per CPU (the first 8 CPUs) */
#define CHILD (MIGRATING + MAX_PINNED) /* the writer process that dies */
#define SOURCES (CHILD + 1)
#define MAX_SEQ (1u << 25)       /* per source: the drop bitmaps' size */
#define CHILD_EVENTS 300000

struct payload {
  uint32_t source, check;
  uint64_t seq, mix;
};

/* Shared with the child process (MAP_SHARED): what each source emitted and
 * which of its events were dropped (set before its next event is reserved). */
struct shared {
  uint64_t emitted[SOURCES], dropped[SOURCES];
  uint8_t drop_bits[SOURCES][MAX_SEQ / 8];
};
static struct shared *sh;
static struct rt_session *sess;
static volatile int stop;
static int n_cpus_online, n_pinned;

/* One event of `src`; returns 1 if recorded. `migrate`: move to the other
 * CPU between reserve and commit (a remote commit). */
static int emit_one(uint32_t src, uint64_t seq, int *cpu) {
  struct rt_reservation r;
  sh->emitted[src]++;
  if (rt_reserve(sess, EVENT_ID, sizeof(struct payload), &r) != RT_RESERVED) {
    __atomic_fetch_or(&sh->drop_bits[src][seq / 8], (uint8_t)(1u << (seq % 8)), __ATOMIC_RELEASE);
    sh->dropped[src]++;
    return 0;
  }
  if (cpu && seq % 1000 == 999 && n_cpus_online > 1) next_cpu(cpu, n_cpus_online);
  struct payload pl = {src, check32(src, seq), seq, mix64(src, seq)};
  memcpy(rt_payload(&r), &pl, sizeof pl);
  rt_commit(&r);
  return 1;
}

static void *writer(void *arg) {
  uint32_t src = (uint32_t)(uintptr_t)arg;
  int migrating = src < MIGRATING, cpu = migrating ? (int)src % n_cpus_online : (int)(src - MIGRATING);
  pin_cpu(cpu);
  timer_t timer;
  int have_timer = interrupt_this_thread(50, &timer);
  for (uint64_t seq = 0; seq < MAX_SEQ && !__atomic_load_n(&stop, __ATOMIC_RELAXED); seq++)
    emit_one(src, seq, migrating ? &cpu : NULL);
  if (have_timer) timer_delete(timer);
  return NULL;
}

/* The writer process: CHILD_EVENTS events on CPU 0, then a record it is
 * killed in the middle of (its payload half written; events dropped while it
 * tries to reserve that one are counted as any others). */
static pid_t start_dying_writer(void) {
  pid_t pid = fork();
  REQUIRE(pid >= 0, "fork");
  if (pid) return pid;
  pin_cpu(0);
  uint64_t seq = 0;
  for (; seq < CHILD_EVENTS; seq++) emit_one(CHILD, seq, NULL);
  for (;; seq++) {
    struct rt_reservation r;
    sh->emitted[CHILD]++;
    if (rt_reserve(sess, EVENT_ID, sizeof(struct payload), &r) == RT_RESERVED) {
      memset(rt_payload(&r), 0xee, sizeof(struct payload) / 2);
      raise(SIGKILL);
    }
    __atomic_fetch_or(&sh->drop_bits[CHILD][seq / 8], (uint8_t)(1u << (seq % 8)), __ATOMIC_RELEASE);
    sh->dropped[CHILD]++;
  }
}

/* ---- checking one snapshot ---- */

struct check {
  uint64_t *keys; /* source << 40 | seq of every record, for the duplicate check */
  size_t n_keys, cap;
  uint64_t snapshots, chunks, bytes, torn, open_skipped, damaged, records;
  uint64_t bad_record, bad_order, bad_pinned, not_contiguous, bad_packet, duplicates, ts_back;
};

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* A pinned source's consecutive records a, b in one ring: every number in
 * between must have been dropped (its bit was set before b was reserved). */
static int gap_dropped(uint32_t src, uint64_t a, uint64_t b) {
  for (uint64_t q = a + 1; q < b; q++)
    if (!(__atomic_load_n(&sh->drop_bits[src][q / 8], __ATOMIC_ACQUIRE) & (1u << (q % 8)))) return 0;
  return 1;
}

static uint64_t check_ring(struct check *k, const struct rt_snapshot_ring *sr) {
  static const uint8_t known[1] = {1u << EVENT_ID};
  uint64_t last[SOURCES], last_ts = 0, n = 0;
  memset(last, 0xff, sizeof last);
  k->torn += sr->torn;
  k->open_skipped += sr->open_skipped;
  k->damaged += sr->damaged;
  for (uint32_t i = 0; i < sr->n_chunks; i++) {
    const struct rt_chunk *ch = &sr->chunks[i];
    if (ch->sub_off != sr->chunks[0].sub_off + (uint64_t)i * sess->sub_size || (i + 1 < sr->n_chunks && !ch->complete))
      k->not_contiguous++;
    k->chunks++;
    k->bytes += ch->end;
    uint32_t pos = ch->begin, in_chunk = 0;
    struct rt_event_header ev;
    const uint8_t *data;
    char err[256];
    int r;
    while ((r = rt_chunk_next_record(ch, &pos, &ev, &data, err, sizeof err)) == 1) {
      if (ev.id == RT_HOLE_ID) continue;
      struct payload pl;
      memcpy(&pl, data, sizeof pl);
      if (ev.id != EVENT_ID || ev.size != RT_EVENT_HEADER_SIZE + sizeof pl || pl.source >= SOURCES ||
          pl.check != check32(pl.source, pl.seq) || pl.mix != mix64(pl.source, pl.seq)) {
        k->bad_record++;
        continue;
      }
      in_chunk++;
      if (ev.timestamp < last_ts) k->ts_back++;
      last_ts = ev.timestamp;
      uint64_t prev = last[pl.source];
      if (prev != UINT64_MAX && pl.seq <= prev) k->bad_order++;
      int pinned = pl.source >= MIGRATING; /* pinned threads and the child never migrate */
      if (pinned && prev != UINT64_MAX && pl.seq > prev + 1 && !gap_dropped(pl.source, prev, pl.seq)) k->bad_pinned++;
      last[pl.source] = pl.seq;
      if (k->n_keys == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 1 << 16;
        k->keys = realloc(k->keys, k->cap * sizeof *k->keys);
        REQUIRE(k->keys, "memory");
      }
      k->keys[k->n_keys++] = (uint64_t)pl.source << 40 | pl.seq;
    }
    if (r < 0) {
      fprintf(stderr, "snapshot record error: %s\n", err);
      k->bad_record++;
    }
    struct rt_packet_info info;
    if (rt_packet_build(ch, known, 8, i, sr->lost, 0, NULL, NULL, &info, err, sizeof err) || info.records != in_chunk ||
        info.dropped)
      k->bad_packet++;
    n += in_chunk;
  }
  return n;
}

/* Snapshot every ring; returns the records they held. */
static uint64_t check_snapshot(struct check *k, uint64_t *overwritten, uint64_t *lost) {
  uint64_t n = 0;
  k->n_keys = 0;
  *overwritten = *lost = 0;
  for (uint32_t ring = 0; ring < sess->n_rings; ring++) {
    struct rt_snapshot_ring sr;
    char err[256];
    REQUIRE(rt_snapshot_ring_take(sess, ring, &sr, err, sizeof err) == 0, "%s", err);
    n += check_ring(k, &sr);
    *overwritten += sr.overwritten_records;
    *lost += sr.lost;
    rt_snapshot_ring_free(&sr);
  }
  if (k->n_keys) qsort(k->keys, k->n_keys, sizeof *k->keys, cmp_u64);
  for (size_t i = 1; i < k->n_keys; i++) k->duplicates += k->keys[i] == k->keys[i - 1];
  k->snapshots++;
  k->records += n;
  return n;
}

/* The recorder's dead-writer watch: salvage what only dead writers hold. */
static uint64_t salvaged;
static void salvage_rings(struct rt_consumer *c) {
  for (uint32_t ring = 0; ring < sess->n_rings; ring++) {
    uint64_t off, committed;
    struct rt_salvage sv;
    if (rt_consumer_blocked(c, ring, &off, &committed) && rt_consumer_salvage(c, ring, 0, &sv) == RT_SALVAGED)
      salvaged++;
  }
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void test_snapshots_under_load(void) {
  const char *ms_env = getenv("RINGTRACE_SNAPSHOT_MS");
  double run_ms = ms_env && *ms_env ? atof(ms_env) : 1500;
  sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  REQUIRE(sh != MAP_FAILED, "shared memory");
  /* 1 MiB sub-buffers: a copy takes long enough to be preempted in the middle
   * now and then while writers overwrite it, which the re-read must catch
   * (with the re-read disabled, 15 runs out of 15 failed). */
  sess = overwrite_session("snap", 1 << 20, 4);
  struct rt_consumer c;
  rt_consumer_init(&c, sess);
  n_pinned = n_cpus_online < MAX_PINNED ? n_cpus_online : MAX_PINNED;
  pthread_t th[MIGRATING + MAX_PINNED];
  int n_threads = 0;
  stop = 0;
  for (uint32_t src = 0; src < MIGRATING; src++) pthread_create(&th[n_threads++], NULL, writer, (void *)(uintptr_t)src);
  for (int p = 0; p < n_pinned; p++)
    pthread_create(&th[n_threads++], NULL, writer, (void *)(uintptr_t)(MIGRATING + (uint32_t)p));
  struct check k = {0};
  uint64_t overwritten, lost;
  double t0 = now_ms(), last_salvage = t0;
  pid_t child = 0;
  while (now_ms() - t0 < run_ms) {
    if (!child && now_ms() - t0 > run_ms / 4) child = start_dying_writer();
    check_snapshot(&k, &overwritten, &lost);
    if (now_ms() - last_salvage > 20) {
      salvage_rings(&c);
      last_salvage = now_ms();
    }
  }
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  for (int t = 0; t < n_threads; t++) pthread_join(th[t], NULL);
  int status;
  REQUIRE(child && waitpid(child, &status, 0) == child, "the dying writer");
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "writer process killed mid-record (status %d)", status);
  for (int round = 0; round < 100 && !salvaged; round++) salvage_rings(&c);
  CHECK(salvaged == 1, "the dead writer's record salvaged once (%llu)", (unsigned long long)salvaged);

  /* Writers stopped: a snapshot holds every ring whole. */
  struct check fin = {0};
  uint64_t held = check_snapshot(&fin, &overwritten, &lost), emitted = 0, dropped = 0, walked = 0;
  for (int src = 0; src < SOURCES; src++) emitted += sh->emitted[src], dropped += sh->dropped[src];
  for (uint32_t ring = 0; ring < sess->n_rings; ring++) {
    uint64_t bytes;
    walked += ring_held(sess, ring, &bytes, NULL, NULL);
  }
  printf("# %s: %.0f ms, %llu snapshots (%llu records, %llu chunks, %.1f MB; torn %llu, open skipped %llu), "
         "emitted %llu, in rings %llu, overwritten %llu, lost %llu (dropped %llu + 1 dead record)\n",
         rseq_mode_name(sess->use_rseq), now_ms() - t0, (unsigned long long)k.snapshots,
         (unsigned long long)k.records, (unsigned long long)k.chunks, (double)k.bytes / 1e6,
         (unsigned long long)k.torn, (unsigned long long)k.open_skipped, (unsigned long long)emitted,
         (unsigned long long)held, (unsigned long long)overwritten, (unsigned long long)lost,
         (unsigned long long)dropped);
  struct check *all[2] = {&k, &fin};
  for (int i = 0; i < 2; i++) {
    struct check *x = all[i];
    const char *when = i ? "final snapshot" : "snapshots under load";
    CHECK(x->bad_record == 0, "%s: %llu damaged records", when, (unsigned long long)x->bad_record);
    CHECK(x->not_contiguous == 0, "%s: %llu chunks out of sequence", when, (unsigned long long)x->not_contiguous);
    CHECK(x->duplicates == 0, "%s: %llu records twice", when, (unsigned long long)x->duplicates);
    CHECK(x->bad_order == 0, "%s: %llu records of a thread out of order in a ring", when,
          (unsigned long long)x->bad_order);
    CHECK(x->bad_pinned == 0, "%s: %llu gaps in a pinned writer's run", when, (unsigned long long)x->bad_pinned);
    CHECK(x->ts_back == 0, "%s: %llu timestamps going back", when, (unsigned long long)x->ts_back);
    CHECK(x->bad_packet == 0, "%s: %llu chunks not made into packets", when, (unsigned long long)x->bad_packet);
  }
  CHECK(k.snapshots >= 5 && k.chunks >= 20, "snapshots were taken under load (%llu, %llu chunks)",
        (unsigned long long)k.snapshots, (unsigned long long)k.chunks);
  CHECK(fin.torn == 0 && fin.open_skipped == 0 && fin.damaged == 0, "writers stopped: nothing torn or open");
  CHECK(held == walked, "the final snapshot holds what the rings hold (%llu, walked %llu)", (unsigned long long)held,
        (unsigned long long)walked);
  CHECK(emitted == held + overwritten + lost, "emitted %llu == in rings %llu + overwritten %llu + lost %llu",
        (unsigned long long)emitted, (unsigned long long)held, (unsigned long long)overwritten,
        (unsigned long long)lost);
  CHECK(lost == dropped + 1, "lost %llu == dropped %llu + the dead record", (unsigned long long)lost,
        (unsigned long long)dropped);
  CHECK(overwritten > held, "the rings wrapped (%llu overwritten)", (unsigned long long)overwritten);
  free(k.keys);
  free(fin.keys);
  rt_consumer_fini(&c);
  rt_session_close(sess);
  munmap(sh, sizeof *sh);
}

int main(void) {
  n_cpus_online = n_online_cpus();
  install_interrupt_handler();
  RUN(test_snapshots_under_load);
  return CHECK_EXIT();
}
