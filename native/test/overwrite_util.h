/* What the overwrite-mode tests share: a small overwrite-mode session, and a
 * plain reading of what a ring holds once its writers have stopped (written
 * independently of the snapshot reader, so the two check each other). */
#ifndef RINGTRACE_TEST_OVERWRITE_UTIL_H
#define RINGTRACE_TEST_OVERWRITE_UTIL_H
#include <string.h>
#include "check.h"
#include "mode.h"
#include "util.h"

static inline struct rt_session *overwrite_session(const char *tag, uint64_t sub_size, uint32_t n_sub) {
  char name[64], err[256];
  struct rt_session *s;
  test_session_name(name, sizeof name, tag);
  struct rt_session_options o = {.sub_size = sub_size, .n_sub = n_sub, .mode = RT_MODE_OVERWRITE};
  REQUIRE(rt_session_create(name, &o, &s, err, sizeof err) == 0, "%s", err);
  rt_session_unlink(name, err, sizeof err);
  require_expected_mode(s);
  REQUIRE(s->mode == RT_MODE_OVERWRITE, "overwrite mode");
  return s;
}

struct ring_counters {
  uint64_t lost, overwritten_records, overwritten_bytes;
};
static inline struct ring_counters ring_counters(const struct rt_session *s, uint32_t ring) {
  struct rt_ring_stats st;
  rt_ring_stats_read(s, ring, &st);
  struct ring_counters c = {st.lost, __atomic_load_n(&s->rings[ring].overwritten_records, __ATOMIC_RELAXED),
                            __atomic_load_n(&s->rings[ring].overwritten_bytes, __ATOMIC_RELAXED)};
  return c;
}

typedef void (*held_fn)(void *ctx, uint32_t ring, const struct rt_event_header *ev, const uint8_t *payload);

/* Walk the records a ring holds now, oldest first, with its writers stopped:
 * the n_sub sub-buffers before the write offset, each complete but the one
 * being filled. Holes are skipped. Returns records and (in *bytes) their
 * strides; fails the test on any inconsistency. */
/* chunk_records' callback for ring_held: counts bytes, passes the record on. */
struct held_walk {
  uint64_t *bytes;
  held_fn fn;
  void *ctx;
};
static inline void held_record(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev,
                               const uint8_t *payload) {
  struct held_walk *w = ctx;
  *w->bytes += rt_record_stride(ev->size);
  if (w->fn) w->fn(w->ctx, ch->ring, ev, payload);
}

static inline uint64_t ring_held(const struct rt_session *s, uint32_t ring, uint64_t *bytes, held_fn fn,
                                 void *ctx) {
  uint64_t w = s->rings[ring].write_off, n = 0;
  *bytes = 0;
  if (!w) return 0;
  uint64_t last = (w & s->sub_mask) ? w & ~s->sub_mask : w - s->sub_size;
  uint64_t first = last >= (s->n_sub - 1) * s->sub_size ? last - (s->n_sub - 1) * s->sub_size : 0;
  for (uint64_t x = first; x <= last; x += s->sub_size) {
    const uint8_t *sub = rt_ring_data(s, ring) + (x & s->ring_mask);
    struct rt_packet_header ph;
    memcpy(&ph, sub, sizeof ph);
    struct rt_sub_ctl *sc = rt_sub_ctl_at(s, ring, x);
    uint64_t reserved = x + s->sub_size <= w ? s->sub_size : w - x;
    CHECK(sc->commit_local + sc->commit_remote == x / s->ring_size * s->sub_size + reserved,
          "ring %u sub-buffer at %llu fully committed", ring, (unsigned long long)x);
    CHECK(ph.magic == RT_PACKET_MAGIC && ph.packet_seq_num == x / s->sub_size, "ring %u header at %llu", ring,
          (unsigned long long)x);
    uint32_t end = x + s->sub_size <= w ? (uint32_t)(ph.content_size / 8) : (uint32_t)reserved;
    struct rt_chunk ch = {.ring = ring, .sub_off = x, .sub = sub, .begin = RT_PACKET_HEADER_SIZE, .end = end};
    struct held_walk walk = {.bytes = bytes, .fn = fn, .ctx = ctx};
    char err[256];
    long got = chunk_records(&ch, 1, held_record, &walk, err, sizeof err);
    CHECK(got >= 0, "ring %u: %s", ring, err);
    n += (uint64_t)got;
  }
  return n;
}
#endif
