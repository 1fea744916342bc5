/* Deterministic tests of the ring: layout of packets and records, padding,
 * exact-fit closing, discard accounting, prefixes, fallback and remote commits. */
#include <string.h>
#include "check.h"
#include "mode.h"
#include "util.h"

/* Per-ring state is sized from the session (2 rings per possible CPU: a
 * 192-CPU server has 384 rings). */
struct seen {
  long count;
  uint32_t n_rings;
  uint64_t *last_ts; /* per ring */
  long *per_ring;    /* records found in each ring */
  uint64_t sum_values;
  int bad;
};

static struct seen seen_for(const struct rt_session *s) {
  struct seen sn = {.n_rings = s->n_rings};
  sn.last_ts = calloc(s->n_rings, sizeof *sn.last_ts);
  sn.per_ring = calloc(s->n_rings, sizeof *sn.per_ring);
  REQUIRE(sn.last_ts && sn.per_ring, "allocate per-ring state for %u rings", s->n_rings);
  return sn;
}
static void seen_free(struct seen *sn) {
  free(sn->last_ts);
  free(sn->per_ring);
}

static void collect(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev,
                    const uint8_t *payload) {
  struct seen *s = ctx;
  uint64_t v;
  if (ev->size >= RT_EVENT_HEADER_SIZE + 8) {
    memcpy(&v, payload, 8);
    s->sum_values += v;
  }
  REQUIRE(ch->ring < s->n_rings, "ring %u of %u", ch->ring, s->n_rings);
  if (ev->timestamp < s->last_ts[ch->ring]) s->bad++;
  s->last_ts[ch->ring] = ev->timestamp;
  s->per_ring[ch->ring]++;
  s->count++;
}

/* The ring a thread pinned to CPU 0 writes: the rseq ring, or the atomic one. */
static uint32_t ring_of_cpu0(const struct rt_session *s) { return s->use_rseq ? 0 : s->n_cpus; }

static struct rt_session *new_session(uint64_t sub_size, uint32_t n_sub) {
  char name[64], err[256];
  struct rt_session *s;
  test_session_name(name, sizeof name, "ring");
  struct rt_session_options o = {.sub_size = sub_size, .n_sub = n_sub};
  REQUIRE(rt_session_create(name, &o, &s, err, sizeof err) == 0, "%s", err);
  rt_session_unlink(name, err, sizeof err); /* mapping stays valid; nothing left behind */
  require_expected_mode(s);
  return s;
}

/* Fill exactly: 4 KiB sub-buffers of 88-byte header + 4008 bytes of records. */
static void test_padding_and_packets(void) {
  pin_cpu(0);
  struct rt_session *s = new_session(4096, 4);
  uint8_t buf[200] = {0};
  /* 40-byte records (16 header + 24 payload): 4008 / 40 = 100 fit, 8 bytes pad. */
  for (uint64_t i = 0; i < 150; i++) {
    memcpy(buf, &i, 8);
    CHECK(rt_emit(s, 7, buf, 24) == RT_RESERVED, "emit %llu", (unsigned long long)i);
  }
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  struct rt_chunk ch;
  CHECK(rt_consumer_next(&c, ring_of_cpu0(s), &ch, 0) == 1, "first sub-buffer complete");
  const struct rt_packet_header *ph = (const void *)ch.sub;
  CHECK(ph->magic == RT_PACKET_MAGIC, "magic");
  CHECK(memcmp(ph->uuid, s->uuid, 16) == 0, "uuid");
  CHECK(ph->content_size == (88 + 100 * 40) * 8, "content %llu", (unsigned long long)ph->content_size);
  CHECK(ph->packet_size == 4096 * 8, "packet size");
  CHECK(ph->packet_seq_num == 0 && ph->cpu_id == 0 && ph->ring_kind == (ring_of_cpu0(s) != 0), "seq/cpu/kind");
  CHECK(ph->timestamp_begin <= ph->timestamp_end, "ts order");
  CHECK(ch.begin == 88 && ch.end == 88 + 4000, "chunk [%u,%u)", ch.begin, ch.end);
  rt_consumer_done(&c, &ch);
  CHECK(rt_consumer_next(&c, ring_of_cpu0(s), &ch, 0) == 0, "second sub-buffer still open");
  struct seen sn = seen_for(s);
  CHECK(drain_once(&c, 1, collect, &sn) == 50, "prefix holds the other 50");
  CHECK(sn.bad == 0, "timestamps ordered");
  CHECK(sn.sum_values == (100 + 149) * 50 / 2, "values 100..149");
  rt_consumer_fini(&c);
  seen_free(&sn);
  rt_session_close(s);
}

/* A record that ends exactly at the boundary closes its sub-buffer itself. */
static void test_exact_fit(void) {
  pin_cpu(0);
  struct rt_session *s = new_session(4096, 2);
  uint8_t buf[4096] = {0};
  uint32_t payload = 4096 - 88 - 16; /* one record fills the sub-buffer */
  CHECK(rt_emit(s, 1, buf, payload) == RT_RESERVED, "exact fit emit");
  CHECK(rt_emit(s, 1, buf, payload + 1) == RT_DISCARDED_SIZE, "oversized refused");
  struct rt_ring_stats st;
  rt_ring_stats_read(s, ring_of_cpu0(s), &st);
  CHECK(st.write_off == 4096, "write offset %llu", (unsigned long long)st.write_off);
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  struct rt_chunk ch;
  CHECK(rt_consumer_next(&c, ring_of_cpu0(s), &ch, 0) == 1 && ch.end == 4096, "closed by the record");
  rt_consumer_done(&c, &ch);
  uint64_t lost = 0;
  for (uint32_t r = 0; r < s->n_rings; r++) {
    rt_ring_stats_read(s, r, &st);
    lost += st.lost;
  }
  CHECK(lost == 1, "the oversized record is counted lost (%llu)", (unsigned long long)lost);
  rt_consumer_fini(&c);
  rt_session_close(s);
}

/* Discard mode: once every sub-buffer is full the producer drops and counts. */
static void test_full_ring_counts_lost(void) {
  pin_cpu(0);
  struct rt_session *s = new_session(4096, 2);
  uint8_t buf[64] = {0};
  long ok = 0, dropped = 0;
  for (int i = 0; i < 1000; i++) {
    int rc = rt_emit(s, 1, buf, 24);
    if (rc == RT_RESERVED) ok++;
    else if (rc == RT_DISCARDED_FULL) dropped++;
  }
  CHECK(ok == 200, "two sub-buffers of 100 records, got %ld", ok);
  CHECK(dropped == 800, "the rest dropped, got %ld", dropped);
  struct rt_ring_stats st;
  rt_ring_stats_read(s, ring_of_cpu0(s), &st);
  CHECK(st.lost == 800, "lost counter %llu", (unsigned long long)st.lost);
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  struct seen sn = seen_for(s);
  CHECK(drain_once(&c, 0, collect, &sn) == 100, "first sub-buffer complete, second still open");
  CHECK(rt_emit(s, 1, buf, 24) == RT_RESERVED, "space again after release");
  CHECK(drain_once(&c, 1, collect, &sn) == 101, "the rest, by prefix");
  rt_consumer_fini(&c);
  seen_free(&sn);
  rt_session_close(s);
}

/* Prefixes are handed out once; the completed sub-buffer yields only the rest. */
static void test_prefix_then_complete(void) {
  pin_cpu(0);
  struct rt_session *s = new_session(4096, 4);
  uint8_t buf[64] = {0};
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  struct seen sn = seen_for(s);
  for (int i = 0; i < 10; i++) rt_emit(s, 1, buf, 24);
  CHECK(drain_once(&c, 1, collect, &sn) == 10, "prefix of 10");
  CHECK(drain_once(&c, 1, collect, &sn) == 0, "nothing new");
  for (int i = 0; i < 95; i++) rt_emit(s, 1, buf, 24); /* crosses into sub-buffer 2 */
  CHECK(drain_once(&c, 0, collect, &sn) == 90, "rest of the first sub-buffer only");
  CHECK(drain_once(&c, 1, collect, &sn) == 5, "then the new prefix");
  CHECK(sn.count == 105 && sn.bad == 0, "all 105 once, ordered");
  /* An uncommitted reservation hides the prefix (and everything after it). */
  struct rt_reservation r;
  CHECK(rt_reserve(s, 1, 24, &r) == RT_RESERVED, "reserve");
  rt_emit(s, 1, buf, 24);
  CHECK(drain_once(&c, 1, collect, &sn) == 0, "in-flight record blocks the prefix");
  memset(rt_payload(&r), 0, 24);
  rt_commit(&r);
  CHECK(drain_once(&c, 1, collect, &sn) == 2, "visible after commit");
  rt_consumer_fini(&c);
  seen_free(&sn);
  rt_session_close(s);
}

/* A consumer that takes over (the previous one died) resumes after what was
 * handed out: a prefix already read is not repeated, and a sub-buffer read
 * whole but not yet released when its consumer died is released, not re-read. */
static void test_takeover_resumes_after_mark(void) {
  pin_cpu(0);
  struct rt_session *s = new_session(4096, 4);
  uint32_t ring = ring_of_cpu0(s);
  uint8_t buf[64] = {0};
  struct seen sn = seen_for(s);
  struct rt_consumer a, b;
  rt_consumer_init(&a, s);
  for (int i = 0; i < 10; i++) rt_emit(s, 1, buf, 24);
  CHECK(drain_once(&a, 1, collect, &sn) == 10, "first consumer reads a prefix of 10");
  rt_consumer_fini(&a); /* ...and dies */
  rt_consumer_init(&b, s);
  for (int i = 0; i < 5; i++) rt_emit(s, 1, buf, 24);
  CHECK(drain_once(&b, 1, collect, &sn) == 5, "the next one starts after the prefix");
  rt_consumer_fini(&b);

  /* Fill the first sub-buffer and open the second; read it whole, then die
   * between marking it written and releasing it (as release_sub would). */
  for (int i = 0; i < 100; i++) rt_emit(s, 1, buf, 24);
  rt_consumer_init(&a, s);
  struct rt_chunk ch;
  CHECK(rt_consumer_next(&a, ring, &ch, 0) == 1 && ch.complete, "a complete sub-buffer");
  __atomic_store_n(&s->rings[ring].consumer_mark, ch.sub_off + s->sub_size, __ATOMIC_RELAXED);
  rt_consumer_fini(&a);
  rt_consumer_init(&b, s);
  long before = sn.count;
  CHECK(drain_once(&b, 1, collect, &sn) >= 0, "drain");
  uint64_t consumed = __atomic_load_n(&s->rings[ring].consumed_off, __ATOMIC_RELAXED);
  CHECK(consumed == ch.sub_off + s->sub_size, "released without being read again");
  /* 100 records of 40 bytes fill a 4 KiB sub-buffer: the last 15 opened the second. */
  CHECK(sn.count - before == 15, "only the second sub-buffer's prefix is read (%ld records)", sn.count - before);
  rt_consumer_fini(&b);
  seen_free(&sn);
  rt_session_close(s);
}

/* Reserve on CPU 0, migrate, commit: the commit must go to commit_remote. */
static void test_remote_commit(void) {
  if (n_online_cpus() < 2) {
    printf("# skip remote commit: one CPU\n");
    return;
  }
  pin_cpu(0);
  struct rt_session *s = new_session(4096, 4);
  if (!s->use_rseq) {
    printf("# skip remote commit: rseq is not registered in this process\n");
    rt_session_close(s);
    return;
  }
  struct rt_reservation r;
  CHECK(rt_reserve(s, 1, 8, &r) == RT_RESERVED && r.cpu == 0, "reserved on CPU 0");
  pin_cpu(1);
  uint64_t v = 42;
  memcpy(rt_payload(&r), &v, 8);
  CHECK(rt_commit(&r) == 1, "remote commit after migration");
  CHECK(r.sub->commit_remote == 88 + 24 && r.sub->commit_local == 0, "bytes in commit_remote");
  struct rt_ring_stats st;
  rt_ring_stats_read(s, ring_of_cpu0(s), &st);
  CHECK(st.remote_commits == 1, "remote commit counted");
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  struct seen sn = seen_for(s);
  CHECK(drain_once(&c, 1, collect, &sn) == 1 && sn.sum_values == 42, "delivered intact");
  rt_consumer_fini(&c);
  seen_free(&sn);
  rt_session_close(s);
  pin_cpu(0);
}

/* Without rseq every producer uses the atomic rings (n_cpus + cpu). */
static void test_fallback_rings(void) {
  pin_cpu(0);
  struct rt_session *s = new_session(4096, 4);
  rt_session_set_rseq(s, 0);
  uint8_t buf[64] = {0};
  for (int i = 0; i < 300; i++) CHECK(rt_emit(s, 1, buf, 24) == RT_RESERVED, "emit");
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  struct seen sn = seen_for(s);
  CHECK(drain_once(&c, 1, collect, &sn) == 300, "all delivered");
  CHECK(sn.per_ring[s->n_cpus] == 300, "all in the atomic ring of CPU 0 (%ld)", sn.per_ring[s->n_cpus]);
  struct rt_ring_stats st;
  rt_ring_stats_read(s, s->n_cpus, &st);
  CHECK(st.remote_commits >= 300, "atomic commits");
  rt_consumer_fini(&c);
  seen_free(&sn);
  rt_session_close(s);
}

int main(void) {
  RUN(test_padding_and_packets);
  RUN(test_exact_fit);
  RUN(test_full_ring_counts_lost);
  RUN(test_prefix_then_complete);
  RUN(test_takeover_resumes_after_mark);
  RUN(test_remote_commit);
  RUN(test_fallback_rings);
  return CHECK_EXIT();
}
