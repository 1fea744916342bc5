/* Overwrite mode, the writer's side: a full ring moves on into its oldest
 * sub-buffer instead of dropping, counting exactly what it overwrites
 * (emitted == held in the ring + overwritten + lost); a sub-buffer whose
 * previous lap is not completely committed is never overwritten: the event
 * is dropped and counted, and writing resumes once that lap is committed.
 * Run on the rseq rings and on the atomic fallback (mode.h). */
#include <string.h>
#include "overwrite_util.h"

#define PER_SUB 100 /* 40-byte records in a 4 KiB sub-buffer */

static uint32_t cpu0_ring(const struct rt_session *s) { return s->use_rseq ? 0 : s->n_cpus; }

struct run {
  uint64_t next;   /* the first value expected next */
  uint64_t broken; /* values repeated or going backwards */
  uint64_t gaps;   /* values skipped (events dropped) */
};
static void in_sequence(void *ctx, uint32_t ring, const struct rt_event_header *ev, const uint8_t *payload) {
  (void)ring, (void)ev;
  struct run *r = ctx;
  uint64_t v;
  memcpy(&v, payload, 8);
  if (r->next != UINT64_MAX && v < r->next) r->broken++;
  if (r->next != UINT64_MAX && v > r->next) r->gaps++;
  r->next = v + 1;
}

/* Records of varying sizes (so sub-buffers end in padding of many lengths),
 * numbered: many laps later the ring holds the newest ones, in order, and the
 * rest are counted overwritten, records and bytes, exactly. */
static void test_wraps_counting_exactly(void) {
  pin_cpu(0);
  struct rt_session *s = overwrite_session("ow-wrap", 4096, 4);
  uint32_t ring = cpu0_ring(s);
  uint8_t buf[512] = {0};
  uint64_t emitted = 0, emitted_bytes = 0;
  for (uint64_t i = 0; i < 20000; i++) {
    uint32_t len = 8 + (uint32_t)((i * 37) % 300);
    memcpy(buf, &i, 8);
    CHECK(rt_emit(s, 1, buf, len) == RT_RESERVED, "emit %llu", (unsigned long long)i);
    emitted++;
    emitted_bytes += rt_record_stride(RT_EVENT_HEADER_SIZE + len);
  }
  struct ring_counters c = ring_counters(s, ring);
  struct run run = {.next = UINT64_MAX};
  uint64_t held_bytes, held = ring_held(s, ring, &held_bytes, in_sequence, &run);
  CHECK(c.lost == 0, "nothing lost (%llu)", (unsigned long long)c.lost);
  CHECK(held > 0 && run.broken == 0 && run.gaps == 0 && run.next == emitted, "the ring holds the newest records in order (%llu, "
        "next %llu, %llu broken)", (unsigned long long)held, (unsigned long long)run.next,
        (unsigned long long)run.broken);
  CHECK(held + c.overwritten_records == emitted, "emitted %llu == held %llu + overwritten %llu",
        (unsigned long long)emitted, (unsigned long long)held, (unsigned long long)c.overwritten_records);
  CHECK(held_bytes + c.overwritten_bytes == emitted_bytes, "bytes: emitted %llu == held %llu + overwritten %llu",
        (unsigned long long)emitted_bytes, (unsigned long long)held_bytes, (unsigned long long)c.overwritten_bytes);
  CHECK(s->rings[ring].write_off > 10 * s->ring_size, "the ring wrapped many times");
  rt_session_close(s);
}

/* Runs of records of one size (the walk checks eight headers at a time
 * within a run), sizes that share a stride or just miss it (40 and 41 bytes:
 * strides 40 and 48), runs of every length from 1 to 23. */
static void test_runs_counted_exactly(void) {
  pin_cpu(0);
  struct rt_session *s = overwrite_session("ow-runs", 4096, 4);
  uint32_t ring = cpu0_ring(s);
  static const uint32_t payloads[] = {24, 25, 17, 32, 33, 8, 100, 23};
  uint8_t buf[128] = {0};
  uint64_t emitted = 0, emitted_bytes = 0;
  for (uint64_t i = 0, run = 0; emitted < 30000; run++) {
    uint32_t len = payloads[run % 8], n = 1 + (uint32_t)(run % 23);
    for (uint32_t k = 0; k < n; k++, i++) {
      memcpy(buf, &i, 8);
      CHECK(rt_emit(s, 1, buf, len) == RT_RESERVED, "emit");
      emitted++;
      emitted_bytes += rt_record_stride(RT_EVENT_HEADER_SIZE + len);
    }
  }
  struct ring_counters c = ring_counters(s, ring);
  struct run run = {.next = UINT64_MAX};
  uint64_t held_bytes, held = ring_held(s, ring, &held_bytes, in_sequence, &run);
  CHECK(c.lost == 0 && run.broken == 0 && run.gaps == 0 && run.next == emitted, "the newest records, in order");
  CHECK(held + c.overwritten_records == emitted && held_bytes + c.overwritten_bytes == emitted_bytes,
        "emitted %llu (%llu bytes) == held %llu (%llu) + overwritten %llu (%llu)", (unsigned long long)emitted,
        (unsigned long long)emitted_bytes, (unsigned long long)held, (unsigned long long)held_bytes,
        (unsigned long long)c.overwritten_records, (unsigned long long)c.overwritten_bytes);
  rt_session_close(s);
}

/* Fixed-size records: n records written, all kept or overwritten. */
static void emit_numbered(const struct rt_session *s, uint64_t *seq, uint64_t n, uint64_t *dropped) {
  for (uint64_t i = 0; i < n; i++) {
    uint64_t v[3] = {*seq, 0, 0};
    ++*seq;
    if (rt_emit(s, 1, v, sizeof v) != RT_RESERVED) ++*dropped;
  }
}

/* A record reserved and not committed (a writer still inside, or dead) keeps
 * its sub-buffer's lap incomplete: one lap later every event that would open
 * that sub-buffer again is dropped and counted, and its bytes are left as they
 * are; once the record is committed, writers move on. */
static void test_lap_in_progress_is_never_overwritten(void) {
  pin_cpu(0);
  struct rt_session *s = overwrite_session("ow-held", 4096, 4);
  uint32_t ring = cpu0_ring(s);
  uint64_t seq = 0, dropped = 0;
  emit_numbered(s, &seq, 6 * PER_SUB + 30, &dropped); /* a later lap: the ring wrapped once */
  struct rt_reservation held;
  REQUIRE(rt_reserve(s, 1, 24, &held) == RT_RESERVED, "reserve");
  uint64_t held_seq = seq++, marker[3] = {held_seq, 0xfeed, 0xfeed};
  memcpy(rt_payload(&held), marker, sizeof marker);
  uint64_t held_at = s->rings[ring].write_off - 40;
  /* Four sub-buffers later writers need that sub-buffer again. */
  emit_numbered(s, &seq, 4 * PER_SUB + 200, &dropped);
  struct ring_counters c = ring_counters(s, ring);
  CHECK(dropped > 0 && c.lost == dropped, "events that would open the held sub-buffer are dropped (%llu, lost %llu)",
        (unsigned long long)dropped, (unsigned long long)c.lost);
  uint64_t w = s->rings[ring].write_off;
  CHECK(w <= (held_at & ~s->sub_mask) + s->ring_size, "no writer entered the held sub-buffer's next lap "
        "(write offset %llu, held at %llu)", (unsigned long long)w, (unsigned long long)held_at);
  CHECK(!memcmp(rt_payload(&held), marker, sizeof marker), "the held record's bytes are untouched");
  rt_commit(&held);
  uint64_t dropped_before = dropped;
  emit_numbered(s, &seq, 3 * PER_SUB, &dropped);
  CHECK(dropped == dropped_before, "writing resumes once committed (%llu more dropped)",
        (unsigned long long)(dropped - dropped_before));
  c = ring_counters(s, ring);
  struct run run = {.next = UINT64_MAX};
  uint64_t bytes, held_n = ring_held(s, ring, &bytes, in_sequence, &run);
  CHECK(run.broken == 0 && run.gaps == 1 && run.next == seq, "the newest records, in order, one gap where events "
        "were dropped (%llu broken, %llu gaps)", (unsigned long long)run.broken, (unsigned long long)run.gaps);
  CHECK(held_n + c.overwritten_records + c.lost == seq, "emitted %llu == held %llu + overwritten %llu + lost %llu",
        (unsigned long long)seq, (unsigned long long)held_n, (unsigned long long)c.overwritten_records,
        (unsigned long long)c.lost);
  rt_session_close(s);
}

/* The first lap overwrites nothing; the counters start when it wraps. */
static void test_first_lap_counts_nothing(void) {
  pin_cpu(0);
  struct rt_session *s = overwrite_session("ow-first", 4096, 4);
  uint32_t ring = cpu0_ring(s);
  uint64_t seq = 0, dropped = 0;
  emit_numbered(s, &seq, 4 * PER_SUB, &dropped);
  struct ring_counters c = ring_counters(s, ring);
  CHECK(dropped == 0 && c.overwritten_records == 0 && c.overwritten_bytes == 0, "one lap: nothing overwritten");
  emit_numbered(s, &seq, 1, &dropped);
  c = ring_counters(s, ring);
  CHECK(c.overwritten_records == PER_SUB && c.overwritten_bytes == PER_SUB * 40,
        "the next record overwrites the first sub-buffer: %llu records, %llu bytes",
        (unsigned long long)c.overwritten_records, (unsigned long long)c.overwritten_bytes);
  rt_session_close(s);
}

int main(void) {
  RUN(test_wraps_counting_exactly);
  RUN(test_runs_counted_exactly);
  RUN(test_lap_in_progress_is_never_overwritten);
  RUN(test_first_lap_counts_nothing);
  return CHECK_EXIT();
}
