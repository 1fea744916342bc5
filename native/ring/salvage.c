/* Dead writers (see consumer.h): find a ring blocked by a reservation that
 * will never be committed, check that every thread that may hold it is dead
 * (writers.h), and complete it. Everything is decided on one consistent
 * snapshot of the sub-buffer's counters, re-checked right before the
 * counters are completed. */
#include <stdio.h>
#include <string.h>
#include "consumer.h"
#include "consumer_internal.h"
#include "error.h"
#include "test_hooks.h"
#include "writers.h"

#ifdef RT_TEST_HOOKS
void (*rt_test_hook)(enum rt_test_point point, uint32_t ring);
#endif

/* The sub-buffer at the read position, as one consistent view. */
struct snapshot {
  uint64_t cons;          /* its offset (consumed_off) */
  uint64_t w;             /* write_off */
  uint64_t local, remote; /* its commit counters */
  uint64_t base;          /* counters at the start of this lap: lap * sub_size */
  uint64_t reserved;      /* bytes reserved in it (sub_size once closed) */
  int closed;
};

/* Read write_off, the counters, write_off again, until the two offsets agree
 * (a busy ring may need a few rounds). Equal offsets mean no reservation was
 * made while the counters were read, so the counters hold commits of exactly
 * the reservations below `w`: reserved - committed is what those still owe.
 * (Reading write_off only after the counters, as a single read, would count a
 * reservation made and committed in between as missing.) Returns 1 with a
 * view of a ring that is not damaged, 0 if none could be taken. */
static int take_snapshot(const struct rt_session *s, uint32_t ring, struct snapshot *sn) {
  struct rt_ring_ctl *rc = &s->rings[ring];
  uint64_t cons = __atomic_load_n(&rc->consumed_off, __ATOMIC_RELAXED); /* ours */
  struct rt_sub_ctl *sc = rt_sub_ctl_at(s, ring, cons);
  for (int round = 0; round < 64; round++) {
    /* Acquire on write_off, then on the counters: a commit we see was made
     * after its reservation's store to write_off, which the second read of
     * write_off (ordered after the counters' acquires) therefore sees too. */
    uint64_t w = __atomic_load_n(&rc->write_off, __ATOMIC_ACQUIRE);
    uint64_t local = __atomic_load_n(&sc->commit_local, __ATOMIC_ACQUIRE);
    uint64_t remote = __atomic_load_n(&sc->commit_remote, __ATOMIC_ACQUIRE);
    RT_TEST_POINT(RT_TEST_SALVAGE_COUNTERS_READ, ring);
    if (__atomic_load_n(&rc->write_off, __ATOMIC_ACQUIRE) != w) continue;
    if (w <= cons || w - cons > s->ring_size || (cons & s->sub_mask)) return 0; /* damage: next() reports it */
    sn->cons = cons;
    sn->w = w;
    sn->local = local;
    sn->remote = remote;
    sn->base = (cons / s->ring_size) * s->sub_size;
    sn->closed = w - cons >= s->sub_size;
    sn->reserved = sn->closed ? s->sub_size : w - cons;
    return 1;
  }
  return 0;
}

/* Bytes reserved but not committed (0: not blocked; damage counts as not blocked). */
static uint64_t snapshot_missing(const struct snapshot *sn) {
  uint64_t sum = sn->local + sn->remote, want = sn->base + sn->reserved;
  return sum < want && sum >= sn->base ? want - sum : 0;
}

int rt_consumer_blocked(struct rt_consumer *c, uint32_t ring, uint64_t *sub_off,
                        uint64_t *committed) {
  const struct rt_session *s = c->s;
  struct snapshot sn;
  if (ring >= s->n_rings || !take_snapshot(s, ring, &sn) || !snapshot_missing(&sn)) return 0;
  *sub_off = sn.cons;
  *committed = sn.local + sn.remote;
  return 1;
}

/* A record header sealed in this lap of its sub-buffer (see rt_commit). */
static int sealed(const struct rt_event_header *ev, uint32_t room, uint64_t prev_ts, uint64_t max_ts) {
  uint32_t stride = rt_record_stride(ev->size);
  return ev->id != RT_HOLE_ID && ev->size >= RT_EVENT_HEADER_SIZE && stride >= ev->size &&
         stride <= room && ev->timestamp >= prev_ts && ev->timestamp <= max_ts;
}

/* Complete the counters: remote += missing, only if neither counter moved
 * since the snapshot. A commit since then means the snapshot no longer says
 * who owes what (e.g. a writer that still held a record committed it): the
 * caller reports "changed" and looks again later. The compare-and-swap makes
 * the check and the add one step for commit_remote; commit_local can only
 * grow by commits of the rseq ring's own CPU, checked just before. */
static int complete_counters(const struct rt_session *s, uint32_t ring, const struct snapshot *sn,
                             uint64_t missing) {
  struct rt_sub_ctl *sc = rt_sub_ctl_at(s, ring, sn->cons);
  if (__atomic_load_n(&sc->commit_local, __ATOMIC_ACQUIRE) != sn->local) return 0;
  uint64_t expect = sn->remote;
  /* Release: a hole's header, written before, is visible to a consumer that
   * acquires the counters and sees the sub-buffer complete. */
  return __atomic_compare_exchange_n(&sc->commit_remote, &expect, sn->remote + missing, 0, __ATOMIC_RELEASE,
                                     __ATOMIC_RELAXED);
}

int rt_consumer_salvage(struct rt_consumer *c, uint32_t ring, struct rt_salvage *out) {
  const struct rt_session *s = c->s;
  memset(out, 0, sizeof *out);
  c->err[0] = 0;
  struct snapshot sn;
  if (ring >= s->n_rings || !take_snapshot(s, ring, &sn)) return RT_SALVAGE_NOTHING;
  RT_TEST_POINT(RT_TEST_SALVAGE_SNAPSHOT_TAKEN, ring);
  uint64_t missing = snapshot_missing(&sn);
  if (!missing) return RT_SALVAGE_NOTHING;
  struct rt_ring_ctl *rc = &s->rings[ring];
  uint64_t cons = sn.cons;
  out->sub_off = cons;

  /* Who may owe those bytes: the threads claiming a reservation that began in
   * this sub-buffer or in the one before (whose padding may have opened it),
   * up to the snapshot's write offset. Before anything is read or written in
   * the sub-buffer: a live holder's record is left alone. A holder that
   * committed since the snapshot no longer claims anything, which the counters'
   * re-check below catches. */
  struct rt_holders h;
  rt_writers_holding(s, ring, cons >= s->sub_size ? cons - s->sub_size : 0, sn.w, &h);
  out->pid = h.pid;
  out->tid = h.tid;
  if (h.verdict == RT_HOLDERS_DAMAGED)
    return rt_error(c->err, sizeof c->err, "ring %u: sub-buffer at %llu: %s", ring, (unsigned long long)cons, h.why);
  if (h.verdict != RT_HOLDERS_DEAD) {
    snprintf(c->err, sizeof c->err, "ring %u: sub-buffer at %llu waits: %s", ring, (unsigned long long)cons, h.why);
    return RT_SALVAGE_HELD;
  }
  out->dead_writers = h.dead;
  uint8_t *sub = rt_ring_data(s, ring) + (cons & s->ring_mask);
  const struct rt_packet_header *ph = (const struct rt_packet_header *)sub;
  uint32_t end = (uint32_t)sn.reserved;
  if (rt_consumer_check_packet(c, ring, cons, ph, sn.closed, &end)) return -1;
  uint64_t max_ts = sn.closed ? ph->timestamp_end : UINT64_MAX;

  /* Find the one unsealed record; everything around it must be sealed and end
   * exactly at the content's end, or we touch nothing. */
  uint32_t p = RT_PACKET_HEADER_SIZE, hole = 0, hole_bytes = 0;
  uint64_t prev = ph->timestamp_begin, hole_ts = 0;
  while (p < end) {
    struct rt_event_header ev;
    memcpy(&ev, sub + p, sizeof ev); /* private copy: validate what we use */
    if (sealed(&ev, end - p, prev, max_ts)) {
      prev = ev.timestamp;
      p += rt_record_stride(ev.size);
      continue;
    }
    /* The first record's writer also opened the sub-buffer: its commit covers the packet header. */
    uint64_t opener = p == RT_PACKET_HEADER_SIZE ? RT_PACKET_HEADER_SIZE : 0;
    if (hole || missing < opener + RT_EVENT_HEADER_SIZE || missing - opener > end - p ||
        (missing - opener) % RT_RECORD_ALIGN)
      return rt_error(c->err, sizeof c->err,
                     "ring %u: sub-buffer at %llu: cannot salvage (unsealed record at offset %u, "
                     "%llu bytes uncommitted): more than one dead writer, or damage",
                     ring, (unsigned long long)cons, p, (unsigned long long)missing);
    hole = p;
    hole_bytes = (uint32_t)(missing - opener);
    hole_ts = prev;
    p += hole_bytes;
  }
  if (p != end || (!hole && (missing % RT_RECORD_ALIGN || missing > end)))
    return rt_error(c->err, sizeof c->err,
                   "ring %u: sub-buffer at %llu: cannot salvage: records end at %u, content at %u",
                   ring, (unsigned long long)cons, p, end);
  if (hole) {
    /* The hole lies in a reservation nobody will commit: rewriting its header
     * is harmless even if the counters below turn out to have moved. */
    struct rt_event_header hole_header = {.id = RT_HOLE_ID, .size = hole_bytes, .timestamp = hole_ts};
    memcpy(sub + hole, &hole_header, sizeof hole_header);
  }
  /* The dead writer never adds its share: the sum comes out exact. */
  if (!complete_counters(s, ring, &sn, missing)) return RT_SALVAGE_NOTHING;
  if (hole) __atomic_fetch_add(&rc->lost_remote, 1, __ATOMIC_RELAXED);
  out->hole_at = hole;
  out->hole_bytes = hole_bytes;
  out->completed = missing;
  return RT_SALVAGED;
}
