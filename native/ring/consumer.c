/* Consumer scan (see consumer.h). Only the consumer writes consumed_off. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "consumer.h"
#include "consumer_internal.h"
#include "error.h"


int rt_consumer_init(struct rt_consumer *c, struct rt_session *s) {
  memset(c, 0, sizeof *c);
  c->s = s;
  return 0;
}

void rt_consumer_fini(struct rt_consumer *c) { (void)c; }

/* Release the sub-buffer at `sub_off`. Release order: our reads of it (and the
 * mark saying it was handed out) complete before a producer, acquiring
 * consumed_off, may reuse it. */
void rt_consumer_release_sub(struct rt_ring_ctl *rc, uint64_t sub_off, uint64_t sub_size) {
  __atomic_store_n(&rc->consumer_mark, sub_off + sub_size, __ATOMIC_RELAXED);
  __atomic_store_n(&rc->consumed_off, sub_off + sub_size, __ATOMIC_RELEASE);
}

/* Where to resume in the sub-buffer at `cons`: after what an earlier consumer
 * (this one, or one that died) already handed out. */
uint32_t rt_consumer_resume_at(struct rt_ring_ctl *rc, uint64_t cons, uint64_t sub_size) {
  /* Only consumers write the mark, one at a time (consumer lock); a dead
   * one's stores are visible to us since we took over its lock. */
  uint64_t mark = __atomic_load_n(&rc->consumer_mark, __ATOMIC_RELAXED);
  if (mark <= cons + RT_PACKET_HEADER_SIZE || mark > cons + sub_size) return RT_PACKET_HEADER_SIZE;
  return (uint32_t)(mark - cons);
}

/* Check the packet header fields producers wrote; returns content bytes. */
int rt_consumer_check_packet(struct rt_consumer *c, uint32_t ring, uint64_t sub_off,
                        const struct rt_packet_header *ph, int closed, uint32_t *content) {
  const struct rt_session *s = c->s;
  if (ph->magic != RT_PACKET_MAGIC || ph->packet_seq_num != sub_off >> s->sub_shift ||
      ph->packet_size != s->sub_size * 8 || ph->stream_instance_id != ring)
    return rt_error(c->err, sizeof c->err,
                   "ring %u: packet at offset %llu has a bad header (magic %08x, seq %llu)", ring,
                   (unsigned long long)sub_off, ph->magic,
                   (unsigned long long)ph->packet_seq_num);
  if (!closed) return 0;
  uint64_t bits = ph->content_size;
  if (bits % (8 * RT_RECORD_ALIGN) || bits / 8 < RT_PACKET_HEADER_SIZE || bits / 8 > s->sub_size)
    return rt_error(c->err, sizeof c->err, "ring %u: packet at offset %llu has content size %llu bits",
                   ring, (unsigned long long)sub_off, (unsigned long long)bits);
  *content = (uint32_t)(bits / 8);
  return 0;
}

int rt_consumer_next(struct rt_consumer *c, uint32_t ring, struct rt_chunk *out,
                     int allow_partial) {
  const struct rt_session *s = c->s;
  /* Writers of an overwrite-mode session do not wait for consumed_off: a
   * sub-buffer read here could be overwritten while read. */
  if (s->mode == RT_MODE_OVERWRITE)
    return rt_error(c->err, sizeof c->err,
                    "session '%s' is in overwrite mode: its rings are read with snapshots, not consumed",
                    s->name);
  struct rt_ring_ctl *rc = &s->rings[ring];
  uint64_t cons = __atomic_load_n(&rc->consumed_off, __ATOMIC_RELAXED); /* ours */
  /* Acquire on write_off, then on the counters: a sum that covers everything up
   * to write_off means every one of those reservations has been committed. */
  uint64_t w = __atomic_load_n(&rc->write_off, __ATOMIC_ACQUIRE);
  if (cons & s->sub_mask) /* only we write it, always a sub-buffer start: damage */
    return rt_error(c->err, sizeof c->err, "ring %u: consumed offset %llu is not at a sub-buffer start",
                   ring, (unsigned long long)cons);
  if (w <= cons) return 0;
  if (w - cons > s->ring_size)
    return rt_error(c->err, sizeof c->err,
                   "ring %u: write offset %llu is more than a ring ahead of consumed %llu", ring,
                   (unsigned long long)w, (unsigned long long)cons);
  struct rt_sub_ctl *sc = rt_sub_ctl_at(s, ring, cons);
  uint64_t lap = cons / s->ring_size;
  /* Acquire pairs with each producer's release of its commit (rseq add on the
   * owner CPU, or atomic add): the committed bytes are visible once counted. */
  uint64_t sum = __atomic_load_n(&sc->commit_local, __ATOMIC_ACQUIRE) +
                 __atomic_load_n(&sc->commit_remote, __ATOMIC_ACQUIRE);
  uint64_t base = lap * s->sub_size;
  if (sum < base || sum > base + s->sub_size)
    return rt_error(c->err, sizeof c->err,
                   "ring %u: commit counters of sub-buffer at %llu sum to %llu, outside [%llu, %llu]",
                   ring, (unsigned long long)cons, (unsigned long long)sum,
                   (unsigned long long)base, (unsigned long long)(base + s->sub_size));
  const uint8_t *sub = rt_ring_data(s, ring) + (cons & s->ring_mask);
  const struct rt_packet_header *ph = (const struct rt_packet_header *)sub;
  uint32_t end = 0;
  int complete = sum == base + s->sub_size;
  if (complete) {
    /* The closing reservation's store to write_off precedes its commit, which
     * we acquired: re-read, since our first read may predate both. */
    if (w < cons + s->sub_size) w = __atomic_load_n(&rc->write_off, __ATOMIC_ACQUIRE);
    if (w < cons + s->sub_size)
      return rt_error(c->err, sizeof c->err,
                     "ring %u: sub-buffer at %llu counts complete but was never closed", ring,
                     (unsigned long long)cons);
    if (rt_consumer_check_packet(c, ring, cons, ph, 1, &end)) return -1;
  } else {
    if (!allow_partial || w >= cons + s->sub_size) return 0; /* closed, commits in flight */
    uint64_t reserved = w - cons;
    if (sum != base + reserved) return 0; /* a reservation is not committed yet */
    /* Re-read: unchanged means no reservation slipped in between our reads, so
     * [0, reserved) is exactly the committed prefix. */
    if (__atomic_load_n(&rc->write_off, __ATOMIC_ACQUIRE) != w) return 0;
    if (rt_consumer_check_packet(c, ring, cons, ph, 0, &end)) return -1;
    end = (uint32_t)reserved;
  }
  uint32_t begin = rt_consumer_resume_at(rc, cons, s->sub_size);
  if (complete && begin == s->sub_size) {
    /* Written whole by a consumer that died before releasing it: release, go on. */
    rt_consumer_release_sub(rc, cons, s->sub_size);
    return rt_consumer_next(c, ring, out, allow_partial);
  }
  if (begin > end)
    return rt_error(c->err, sizeof c->err, "ring %u: content of sub-buffer at %llu shrank (%u < %u)",
                   ring, (unsigned long long)cons, end, begin);
  if (!complete && begin == end) return 0;
  out->ring = ring;
  out->sub_off = cons;
  out->sub = sub;
  out->begin = begin;
  out->end = end;
  out->complete = complete;
  out->clock = rt_clock_pairs_load(rt_sub_ctl_at(s, ring, cons)); /* published by the commits acquired above */
  return 1;
}

void rt_consumer_done(struct rt_consumer *c, const struct rt_chunk *ch) {
  struct rt_ring_ctl *rc = &c->s->rings[ch->ring];
  if (ch->complete)
    rt_consumer_release_sub(rc, ch->sub_off, c->s->sub_size);
  else
    __atomic_store_n(&rc->consumer_mark, ch->sub_off + ch->end, __ATOMIC_RELAXED);
}

int rt_chunk_next_record(const struct rt_chunk *ch, uint32_t *pos, struct rt_event_header *ev,
                         const uint8_t **payload, char *err, size_t errlen) {
  uint32_t p = *pos;
  if (p >= ch->end) return 0;
  if (ch->end - p < RT_EVENT_HEADER_SIZE || p % RT_RECORD_ALIGN)
    return rt_error(err, errlen, "ring %u: truncated record at offset %llu", ch->ring,
                   (unsigned long long)(ch->sub_off + p));
  memcpy(ev, ch->sub + p, sizeof *ev); /* private copy: validate what we use */
  uint32_t stride = rt_record_stride(ev->size);
  if (ev->size < RT_EVENT_HEADER_SIZE || stride > ch->end - p || stride < ev->size)
    return rt_error(err, errlen, "ring %u: record at offset %llu has bad size %u", ch->ring,
                   (unsigned long long)(ch->sub_off + p), ev->size);
  *payload = ch->sub + p + RT_EVENT_HEADER_SIZE;
  *pos = p + stride;
  return 1;
}

void rt_ring_stats_read(const struct rt_session *s, uint32_t ring, struct rt_ring_stats *out) {
  struct rt_ring_ctl *rc = &s->rings[ring];
  out->write_off = __atomic_load_n(&rc->write_off, __ATOMIC_RELAXED);
  out->consumed_off = __atomic_load_n(&rc->consumed_off, __ATOMIC_RELAXED);
  out->lost = __atomic_load_n(&rc->lost_local, __ATOMIC_RELAXED) +
              __atomic_load_n(&rc->lost_remote, __ATOMIC_RELAXED);
  out->remote_commits = __atomic_load_n(&rc->remote_commits, __ATOMIC_RELAXED);
  out->rseq_aborts = __atomic_load_n(&rc->rseq_aborts, __ATOMIC_RELAXED);
  out->cpu_mismatches = __atomic_load_n(&rc->cpu_mismatches, __ATOMIC_RELAXED);
  out->overwritten_records = __atomic_load_n(&rc->overwritten_records, __ATOMIC_RELAXED);
  out->overwritten_bytes = __atomic_load_n(&rc->overwritten_bytes, __ATOMIC_RELAXED);
}
