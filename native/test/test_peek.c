/* Following a ring without consuming it (rt_peek_next, the flight recorder's
 * triggers): records are handed out once each, in order, as they are
 * committed; what writers overwrote before it was seen is skipped and counted
 * in bytes; a record not yet committed holds back what follows it; a bad
 * packet header is reported and stepped over. Run on the rseq rings and on the
 * atomic fallback (mode.h). */
#include <string.h>
#include "overwrite_util.h"
#include "snapshot.h"

#define PER_SUB 100 /* 40-byte records in a 4 KiB sub-buffer */

static uint32_t cpu0_ring(const struct rt_session *s) { return s->use_rseq ? 0 : s->n_cpus; }

static uint64_t seq;
static void emit(const struct rt_session *s, uint64_t n) {
  for (uint64_t i = 0; i < n; i++) {
    uint64_t v[3] = {seq++, 0, 0};
    CHECK(rt_emit(s, 1, v, sizeof v) == RT_RESERVED, "emit");
  }
}

struct follower {
  uint64_t pos, skipped, records, next, broken, chunks, errors;
  uint8_t buf[4096];
  char err[256];
};

/* A peeked record: does it continue the sequence? */
static void follow_record(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev,
                          const uint8_t *payload) {
  (void)ch;
  (void)ev;
  struct follower *f = ctx;
  uint64_t v;
  memcpy(&v, payload, 8);
  f->broken += v != f->next;
  f->next = v + 1;
  f->records++;
}

/* Peek until nothing new; checks the records continue the sequence. */
static void peek_all(const struct rt_session *s, struct follower *f) {
  struct rt_chunk ch;
  int rc;
  while ((rc = rt_peek_next(s, cpu0_ring(s), &f->pos, f->buf, &ch, &f->skipped, f->err, sizeof f->err)) != 0) {
    if (rc < 0) {
      f->errors++;
      continue;
    }
    f->chunks++;
    char err[256];
    CHECK(chunk_records(&ch, 0, follow_record, f, err, sizeof err) >= 0, "records: %s", err);
  }
}

static void test_follows_as_data_arrives(void) {
  pin_cpu(0);
  struct rt_session *s = overwrite_session("peek-follow", 4096, 4);
  struct follower f = {0};
  seq = 0;
  peek_all(s, &f);
  CHECK(f.records == 0 && f.pos == 0, "nothing written, nothing handed out");
  emit(s, 10);
  peek_all(s, &f);
  CHECK(f.records == 10 && f.broken == 0, "the first 10 (%llu)", (unsigned long long)f.records);
  emit(s, 5);
  peek_all(s, &f);
  CHECK(f.records == 15 && f.broken == 0, "5 more, once each (%llu)", (unsigned long long)f.records);
  emit(s, 3 * PER_SUB);
  peek_all(s, &f);
  CHECK(f.records == 315 && f.broken == 0 && f.skipped == 0 && f.errors == 0, "across sub-buffers (%llu)",
        (unsigned long long)f.records);
  rt_session_close(s);
}

/* Laps written while nobody looked: the follower resumes at the oldest
 * sub-buffer still whole, having skipped exactly the bytes in between, and
 * the records from there on are the newest, in order. */
static void test_skips_what_was_overwritten(void) {
  pin_cpu(0);
  struct rt_session *s = overwrite_session("peek-skip", 4096, 4);
  struct follower f = {0};
  seq = 0;
  emit(s, 50);
  peek_all(s, &f);
  uint64_t pos_before = f.pos;
  emit(s, 10 * PER_SUB + 30); /* w lands 80 records into a sub-buffer */
  uint64_t w = s->rings[cpu0_ring(s)].write_off, oldest = (w & ~s->sub_mask) + s->sub_size - s->ring_size;
  peek_all(s, &f);
  CHECK(f.skipped == oldest - pos_before, "skipped %llu bytes (want %llu)", (unsigned long long)f.skipped,
        (unsigned long long)(oldest - pos_before));
  CHECK(f.broken == 1 && f.next == seq && f.errors == 0, "one jump, then the newest records in order");
  CHECK(f.records == 50 + 3 * PER_SUB + 80, "the ring's records after the jump (%llu)", (unsigned long long)f.records);
  rt_session_close(s);
}

/* A record reserved and not committed: nothing past it is handed out (the
 * committed prefix cannot be told); once committed, all of it is. */
static void test_waits_for_an_open_record(void) {
  pin_cpu(0);
  struct rt_session *s = overwrite_session("peek-open", 4096, 4);
  struct follower f = {0};
  seq = 0;
  emit(s, 20);
  peek_all(s, &f);
  struct rt_reservation r;
  REQUIRE(rt_reserve(s, 1, 24, &r) == RT_RESERVED, "reserve");
  uint64_t v[3] = {seq++, 0, 0};
  memcpy(rt_payload(&r), v, sizeof v);
  emit(s, 10);
  peek_all(s, &f);
  CHECK(f.records == 20, "held back by the open record (%llu)", (unsigned long long)f.records);
  rt_commit(&r);
  peek_all(s, &f);
  CHECK(f.records == 31 && f.broken == 0, "then everything, in order (%llu)", (unsigned long long)f.records);
  rt_session_close(s);
}

/* A complete sub-buffer whose packet header is damaged: reported, stepped over
 * (its bytes counted skipped), and the next call goes on after it. */
static void test_bad_header_stepped_over(void) {
  pin_cpu(0);
  struct rt_session *s = overwrite_session("peek-bad", 4096, 4);
  struct follower f = {0};
  seq = 0;
  emit(s, 2 * PER_SUB + 10);
  struct rt_packet_header *ph = (struct rt_packet_header *)rt_ring_data(s, cpu0_ring(s));
  ph->magic ^= 1;
  peek_all(s, &f);
  CHECK(f.errors == 1 && strstr(f.err, "bad packet header"), "reported: %s", f.err);
  CHECK(f.skipped == s->sub_size && f.records == PER_SUB + 10 && f.next == seq, "the rest follows (%llu, skipped %llu)",
        (unsigned long long)f.records, (unsigned long long)f.skipped);
  rt_session_close(s);
}

int main(void) {
  RUN(test_follows_as_data_arrives);
  RUN(test_skips_what_was_overwritten);
  RUN(test_waits_for_an_open_record);
  RUN(test_bad_header_stepped_over);
  return CHECK_EXIT();
}
