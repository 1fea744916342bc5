/* Dead writers in overwrite mode. A writer killed between reserve and commit
 * leaves its sub-buffer's lap incomplete; one lap later every writer of the
 * ring drops. The flight recorder (the consumer-lock holder, which never
 * consumes) finds that sub-buffer with rt_consumer_blocked and repairs it with
 * rt_consumer_salvage once every holder is known dead; a live holder is waited
 * for. Accounting stays exact: emitted == held in the ring + overwritten + lost.
 * Run on the rseq rings and on the atomic fallback (mode.h). */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "overwrite_util.h"
#include "snapshot.h"

#define PAYLOAD 24 /* 40-byte records: 100 fill a 4 KiB sub-buffer */
#define PER_SUB 100

static uint32_t cpu0_ring(const struct rt_session *s) { return s->use_rseq ? 0 : s->n_cpus; }

static uint64_t seq, dropped;
static void emit(const struct rt_session *s, uint64_t n) {
  for (uint64_t i = 0; i < n; i++) {
    uint64_t v[3] = {seq++, 0, 0};
    if (rt_emit(s, 1, v, sizeof v) != RT_RESERVED) dropped++;
  }
}

/* Everything emitted (the parent's records and the dead writer's) is held in
 * the ring, overwritten, or lost. */
static void check_accounting(const char *what, const struct rt_session *s, uint64_t dead_records) {
  uint32_t ring = cpu0_ring(s);
  struct ring_counters c = ring_counters(s, ring);
  uint64_t bytes, held = ring_held(s, ring, &bytes, NULL, NULL);
  CHECK(held + c.overwritten_records + c.lost == seq + dead_records,
        "%s: emitted %llu == held %llu + overwritten %llu + lost %llu", what,
        (unsigned long long)(seq + dead_records), (unsigned long long)held,
        (unsigned long long)c.overwritten_records, (unsigned long long)c.lost);
}

enum death { MID_PAYLOAD, OPENER_BEFORE_HEADER };

/* A child (same CPU, same ring) reserves one record and is killed before
 * committing it: mid-payload, or (as the opener of the next sub-buffer) before
 * its packet header is written, whose bytes are put back as they were. */
static void dead_writer(const struct rt_session *s, enum death when) {
  pid_t pid = fork();
  REQUIRE(pid >= 0, "fork");
  if (pid == 0) {
    uint32_t ring = cpu0_ring(s);
    uint64_t w = s->rings[ring].write_off, next = (w + s->sub_mask) & ~s->sub_mask;
    uint8_t *ph = rt_ring_data(s, ring) + (next & s->ring_mask), before[RT_PACKET_HEADER_SIZE];
    memcpy(before, ph, sizeof before);
    struct rt_reservation r;
    if (rt_reserve(s, 1, PAYLOAD, &r) != RT_RESERVED) _exit(2);
    if (when == OPENER_BEFORE_HEADER) {
      if (r.record != ph + RT_PACKET_HEADER_SIZE) _exit(4);
      memcpy(ph, before, sizeof before);
    } else {
      memset(rt_payload(&r), 0xff, PAYLOAD / 2);
    }
    raise(SIGKILL);
    _exit(3);
  }
  int status;
  REQUIRE(waitpid(pid, &status, 0) == pid, "wait");
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child killed (status %d)", status);
}

/* Killed mid-record in a later lap: one lap on, writers drop; the recorder
 * finds the sub-buffer, salvages it (a hole, one lost event) and the ring
 * moves on. */
static void test_dead_writer_salvaged(void) {
  pin_cpu(0);
  struct rt_session *s = overwrite_session("ows-mid", 4096, 4);
  uint32_t ring = cpu0_ring(s);
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  seq = dropped = 0;
  emit(s, 5 * PER_SUB + 20);
  uint64_t dead_sub = s->rings[ring].write_off & ~s->sub_mask;
  dead_writer(s, MID_PAYLOAD);
  emit(s, 5 * PER_SUB);
  CHECK(dropped > 0, "one lap later writers drop (%llu)", (unsigned long long)dropped);
  uint64_t off, committed;
  CHECK(rt_consumer_blocked(&c, ring, &off, &committed) == 1 && off == dead_sub,
        "the recorder finds the sub-buffer at %llu (found %llu)", (unsigned long long)dead_sub,
        (unsigned long long)off);
  struct rt_salvage sv;
  CHECK(rt_consumer_salvage(&c, ring, 0, &sv) == RT_SALVAGED && sv.sub_off == dead_sub && sv.hole_bytes == 40 &&
            sv.dead_writers == 1,
        "salvaged (hole %u at %u): %s", sv.hole_bytes, sv.hole_at, c.err);
  CHECK(rt_consumer_blocked(&c, ring, &off, &committed) == 0, "not blocked any more");
  uint64_t before = dropped;
  emit(s, 3 * PER_SUB);
  CHECK(dropped == before, "writers move on (%llu dropped)", (unsigned long long)(dropped - before));
  CHECK(ring_counters(s, ring).lost == dropped + 1, "lost: the drops and the dead record");
  check_accounting("after the salvage", s, 1);
  /* The hole is walked past, not counted, when it is overwritten. */
  emit(s, 5 * PER_SUB);
  check_accounting("hole overwritten", s, 1);
  rt_consumer_fini(&c);
  rt_session_close(s);
}

/* The recorder can repair the sub-buffer before writers reach it again: it
 * looks past complete sub-buffers to the oldest that misses commits, and only
 * writers that may owe that sub-buffer bytes are holders; this thread's own
 * record, open further on, is not one of them. */
static void test_salvaged_before_writers_stop(void) {
  pin_cpu(0);
  struct rt_session *s = overwrite_session("ows-early", 4096, 4);
  uint32_t ring = cpu0_ring(s);
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  seq = dropped = 0;
  emit(s, 4 * PER_SUB + 10);
  uint64_t dead_sub = s->rings[ring].write_off & ~s->sub_mask;
  dead_writer(s, MID_PAYLOAD);
  emit(s, 2 * PER_SUB);
  struct rt_reservation open;
  REQUIRE(rt_reserve(s, 1, PAYLOAD, &open) == RT_RESERVED, "reserve");
  uint64_t v[3] = {seq++, 0, 0};
  memcpy(rt_payload(&open), v, sizeof v);
  uint64_t off, committed;
  CHECK(dropped == 0, "nothing dropped yet");
  CHECK(rt_consumer_blocked(&c, ring, &off, &committed) == 1 && off == dead_sub, "found (%llu)",
        (unsigned long long)off);
  struct rt_salvage sv;
  CHECK(rt_consumer_salvage(&c, ring, 0, &sv) == RT_SALVAGED && sv.sub_off == dead_sub,
        "salvaged while this thread holds a record two sub-buffers on: %s", c.err);
  rt_commit(&open);
  emit(s, 6 * PER_SUB);
  CHECK(dropped == 0, "nothing dropped (%llu)", (unsigned long long)dropped);
  check_accounting("salvaged early", s, 1);
  rt_consumer_fini(&c);
  rt_session_close(s);
}

/* A writer killed after reserving the next sub-buffer and before writing its
 * packet header: no salvage can repair it; held only by a dead writer and
 * closed, it is abandoned. Its records are counted lost, except those the
 * writer that overwrites it will count (none: its header was never written). */
static void test_dead_opener_abandoned(void) {
  pin_cpu(0);
  struct rt_session *s = overwrite_session("ows-opener", 4096, 4);
  uint32_t ring = cpu0_ring(s);
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  seq = dropped = 0;
  emit(s, 5 * PER_SUB);
  dead_writer(s, OPENER_BEFORE_HEADER);
  emit(s, 5 * PER_SUB);
  CHECK(dropped > 0, "writers drop one lap later (%llu)", (unsigned long long)dropped);
  struct rt_salvage sv;
  int rc = rt_consumer_salvage(&c, ring, 0, &sv);
  CHECK(rc == RT_SALVAGE_ABANDONED && sv.released && sv.lost_exact && sv.records_lost == PER_SUB,
        "abandoned, %d records lost (rc %d, %llu, exact %d): %s", PER_SUB, rc, (unsigned long long)sv.records_lost,
        sv.lost_exact, c.err);
  uint64_t before = dropped;
  emit(s, 6 * PER_SUB);
  CHECK(dropped == before, "writers move on");
  check_accounting("abandoned, then overwritten", s, 1);
  rt_consumer_fini(&c);
  rt_session_close(s);
}

/* A live writer in the middle of a record (asleep) is waited for: nothing
 * changes; once it commits, writers move on without any salvage. */
static void test_live_holder_waited_for(void) {
  pin_cpu(0);
  struct rt_session *s = overwrite_session("ows-live", 4096, 4);
  uint32_t ring = cpu0_ring(s);
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  seq = dropped = 0;
  emit(s, 4 * PER_SUB + 20);
  int ready[2], go[2];
  REQUIRE(pipe(ready) == 0 && pipe(go) == 0, "pipe");
  uint64_t child_seq = seq++;
  pid_t live = fork();
  REQUIRE(live >= 0, "fork");
  if (live == 0) {
    struct rt_reservation r;
    if (rt_reserve(s, 1, PAYLOAD, &r) != RT_RESERVED) _exit(2);
    char byte = 1;
    if (write(ready[1], &byte, 1) != 1 || read(go[0], &byte, 1) != 1) _exit(3); /* asleep mid-record */
    uint64_t v[3] = {child_seq, 0, 0};
    memcpy(rt_payload(&r), v, sizeof v);
    rt_commit(&r);
    _exit(0);
  }
  char byte;
  REQUIRE(read(ready[0], &byte, 1) == 1, "live writer ready");
  emit(s, 5 * PER_SUB);
  uint64_t off, before, after, lost_before = ring_counters(s, ring).lost;
  CHECK(dropped > 0, "writers drop");
  CHECK(rt_consumer_blocked(&c, ring, &off, &before) == 1, "blocked by the live writer");
  struct rt_salvage sv;
  int rc = rt_consumer_salvage(&c, ring, 0, &sv);
  CHECK(rc == RT_SALVAGE_WAIT && sv.pid == (uint32_t)live && strstr(c.err, "alive"),
        "waits for pid %d (rc %d): %s", (int)live, rc, c.err);
  CHECK(rt_consumer_blocked(&c, ring, &off, &after) == 1 && after == before &&
            ring_counters(s, ring).lost == lost_before, "nothing changed");
  REQUIRE(write(go[1], &byte, 1) == 1, "wake the live writer");
  int status;
  REQUIRE(waitpid(live, &status, 0) == live && WIFEXITED(status) && WEXITSTATUS(status) == 0, "live writer done");
  uint64_t d = dropped;
  emit(s, 3 * PER_SUB);
  CHECK(dropped == d, "writers move on");
  CHECK(ring_counters(s, ring).lost == dropped, "only the drops are lost");
  check_accounting("live holder", s, 0);
  for (int i = 0; i < 2; i++) close(ready[i]), close(go[i]);
  rt_consumer_fini(&c);
  rt_session_close(s);
}

/* A snapshot of ring 0 that must hold exactly the sub-buffers from `first`
 * to `last` (offsets), with `records` records numbered consecutively from
 * `first_seq` but for `skip_seq` (the dead writer's), and `open_skipped`. */
static void expect_snapshot(const char *what, const struct rt_session *s, uint64_t first, uint64_t last,
                            uint64_t records, uint64_t first_seq, uint64_t open_skipped) {
  struct rt_snapshot_ring sr;
  char err[256];
  REQUIRE(rt_snapshot_ring_take(s, cpu0_ring(s), &sr, err, sizeof err) == 0, "%s", err);
  CHECK(sr.open_skipped == open_skipped && sr.torn == 0 && sr.damaged == 0, "%s: open skipped %llu, torn %llu", what,
        (unsigned long long)sr.open_skipped, (unsigned long long)sr.torn);
  CHECK(sr.n_chunks == (last - first) / s->sub_size + 1 && sr.n_chunks && sr.chunks[0].sub_off == first &&
            sr.chunks[sr.n_chunks - 1].sub_off == last,
        "%s: sub-buffers %llu..%llu (got %u from %llu)", what, (unsigned long long)first, (unsigned long long)last,
        sr.n_chunks, (unsigned long long)(sr.n_chunks ? sr.chunks[0].sub_off : 0));
  uint64_t n = 0, next = first_seq, broken = 0;
  for (uint32_t i = 0; i < sr.n_chunks; i++) {
    uint32_t pos = sr.chunks[i].begin;
    struct rt_event_header ev;
    const uint8_t *payload;
    while (rt_chunk_next_record(&sr.chunks[i], &pos, &ev, &payload, err, sizeof err) == 1) {
      if (ev.id == RT_HOLE_ID) continue;
      uint64_t v;
      memcpy(&v, payload, 8);
      broken += v != next;
      next = v + 1;
      n++;
    }
  }
  CHECK(n == records && broken == 0, "%s: %llu records (want %llu), %llu out of sequence", what,
        (unsigned long long)n, (unsigned long long)records, (unsigned long long)broken);
  rt_snapshot_ring_free(&sr);
}

/* Snapshots while a dead writer's record is open: the run starts after its
 * sub-buffer (older ones are left out, so it stays contiguous); once the
 * recorder salvaged it, the snapshot holds every sub-buffer again, the dead
 * record left out. */
static void test_snapshot_around_dead_writer(void) {
  pin_cpu(0);
  struct rt_session *s = overwrite_session("ows-snap", 4096, 4);
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  seq = dropped = 0;
  emit(s, 4 * PER_SUB + 20);
  uint64_t dead_sub = s->rings[cpu0_ring(s)].write_off & ~s->sub_mask;
  dead_writer(s, MID_PAYLOAD);
  emit(s, 79 + 71); /* fills the dead writer's sub-buffer, 71 in the next */
  uint64_t next_sub = dead_sub + s->sub_size;
  expect_snapshot("dead record open", s, next_sub, next_sub, 71, 4 * PER_SUB + 20 + 79, 1);
  struct rt_salvage sv;
  CHECK(rt_consumer_salvage(&c, cpu0_ring(s), 0, &sv) == RT_SALVAGED, "salvaged: %s", c.err);
  expect_snapshot("salvaged", s, dead_sub - 2 * s->sub_size, next_sub, 2 * PER_SUB + 99 + 71, 2 * PER_SUB, 0);
  check_accounting("snapshots around a dead writer", s, 1);
  rt_consumer_fini(&c);
  rt_session_close(s);
}

/* The recorder never consumes: reading an overwrite-mode ring as a consumer
 * is refused (a sub-buffer could be overwritten while read). */
static void test_consumer_refused(void) {
  pin_cpu(0);
  struct rt_session *s = overwrite_session("ows-refuse", 4096, 4);
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  seq = dropped = 0;
  emit(s, 10);
  struct rt_chunk ch;
  CHECK(rt_consumer_next(&c, cpu0_ring(s), &ch, 1) == -1 && strstr(c.err, "overwrite mode"), "refused: %s", c.err);
  rt_consumer_fini(&c);
  rt_session_close(s);
}

int main(void) {
  RUN(test_dead_writer_salvaged);
  RUN(test_salvaged_before_writers_stop);
  RUN(test_dead_opener_abandoned);
  RUN(test_live_holder_waited_for);
  RUN(test_snapshot_around_dead_writer);
  RUN(test_consumer_refused);
  return CHECK_EXIT();
}
