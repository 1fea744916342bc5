/* Dead writers (see consumer.h): find a ring blocked by a reservation that
 * will never be committed, check that every thread that may hold it is dead
 * (writers.h), and complete it. Everything is decided on one consistent
 * snapshot of the sub-buffer's counters, re-checked right before the
 * counters are completed. */
#include <string.h>
#include "consumer.h"
#include "consumer_internal.h"
#include "error.h"
#include "producer.h"
#include "test_hooks.h"
#include "writers.h"

#ifdef RT_TEST_HOOKS
void (*rt_test_hook)(enum rt_test_point point, uint32_t ring);
int64_t rt_test_cycles_offset;
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

/* Overwrite mode. The flight recorder never consumes and writers never wait
 * for it, so its read position would stay behind while writers lap the ring;
 * but a writer that dies between reserve and commit leaves its sub-buffer's
 * lap incomplete, and one lap later every writer of the ring drops
 * (rt_overwrite_prepare). To find that sub-buffer with the same code as in
 * discard mode, the recorder moves its read position (consumed_off) itself:
 * to the oldest sub-buffer that may still miss commits. Instances older than
 * the previous lap of the sub-buffer writers open next were overwritten, which
 * a writer does only after checking their lap complete; from there it passes
 * closed sub-buffers whose lap is complete, and stops at the first closed one
 * that is not (stuck: a writer in it, alive or dead) or at the one being
 * filled. Producers read consumed_off in overwrite mode only to spot a stale
 * write offset (full_limit is never reached), so this costs them nothing; it
 * never moves past write_off. Only the consumer-lock holder calls it. */
static void overwrite_follow(const struct rt_session *s, uint32_t ring) {
  struct rt_ring_ctl *rc = &s->rings[ring];
  uint64_t from = __atomic_load_n(&rc->consumed_off, __ATOMIC_RELAXED); /* ours */
  /* Acquire on write_off, then on each counter below: a sum seen complete
   * covers commits whose reservations are below this write offset. */
  uint64_t w = __atomic_load_n(&rc->write_off, __ATOMIC_ACQUIRE);
  if ((from & s->sub_mask) || from > w) return; /* damage: take_snapshot() refuses it */
  uint64_t next_open = (w + s->sub_mask) & ~s->sub_mask, cons = from;
  if (next_open >= s->ring_size && cons < next_open - s->ring_size) cons = next_open - s->ring_size;
  while (cons + s->sub_size <= w) {
    struct rt_sub_ctl *sc = rt_sub_ctl_at(s, ring, cons);
    uint64_t sum = __atomic_load_n(&sc->commit_local, __ATOMIC_ACQUIRE) +
                   __atomic_load_n(&sc->commit_remote, __ATOMIC_ACQUIRE);
    if (sum < (cons / s->ring_size + 1) * s->sub_size) break; /* closed, not complete */
    cons += s->sub_size;
  }
  if (cons == from) return;
  /* Nothing was handed out there. Mark first, then the position, as a
   * release does (rt_consumer_release_sub): only consumers read the mark,
   * under the consumer lock. Release on consumed_off as in discard mode; here
   * producers only compare it with their write offset, and nothing this
   * reader read is reused because of it (overwriting is decided by the lap
   * check alone). */
  __atomic_store_n(&rc->consumer_mark, cons, __ATOMIC_RELAXED);
  __atomic_store_n(&rc->consumed_off, cons, __ATOMIC_RELEASE);
}

int rt_consumer_blocked(struct rt_consumer *c, uint32_t ring, uint64_t *sub_off,
                        uint64_t *committed) {
  const struct rt_session *s = c->s;
  struct snapshot sn;
  if (ring >= s->n_rings) return 0;
  if (s->mode == RT_MODE_OVERWRITE) overwrite_follow(s, ring);
  if (!take_snapshot(s, ring, &sn) || !snapshot_missing(&sn)) return 0;
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

/* Where the one unsealed record is: everything around it must be sealed and
 * end exactly at the content's end. 0 with *hole (0 if every record is sealed:
 * one was sealed but not committed, and is whole), or -1 with c->err. */
struct hole {
  uint32_t at, bytes;
  uint64_t ts;
};
static int find_hole(struct rt_consumer *c, uint32_t ring, const struct snapshot *sn, const uint8_t *sub,
                     uint64_t missing, uint32_t end, struct hole *h) {
  const struct rt_packet_header *ph = (const struct rt_packet_header *)sub;
  uint64_t max_ts = sn->closed ? ph->timestamp_end : UINT64_MAX;
  uint32_t p = RT_PACKET_HEADER_SIZE;
  uint64_t prev = ph->timestamp_begin;
  memset(h, 0, sizeof *h);
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
    if (h->at || missing < opener + RT_EVENT_HEADER_SIZE || missing - opener > end - p ||
        (missing - opener) % RT_RECORD_ALIGN)
      return rt_error(c->err, sizeof c->err,
                      "ring %u: sub-buffer at %llu: cannot salvage (unsealed record at offset %u, "
                      "%llu bytes uncommitted): more than one dead writer, or damage",
                      ring, (unsigned long long)sn->cons, p, (unsigned long long)missing);
    h->at = p;
    h->bytes = (uint32_t)(missing - opener);
    h->ts = prev;
    p += h->bytes;
  }
  if (p != end || (!h->at && (missing % RT_RECORD_ALIGN || missing > end)))
    return rt_error(c->err, sizeof c->err, "ring %u: sub-buffer at %llu: cannot salvage: records end at %u, content at %u",
                    ring, (unsigned long long)sn->cons, p, end);
  return 0;
}

/* Records of an abandoned sub-buffer that were not handed out, from `from`:
 * the sealed ones and the dead writers' (a single unsealed record's size is
 * the missing bytes). *exact = 0 when a second unsealed record, a packet
 * header never written or damage hides the rest: the count is then a lower
 * bound (at least one per dead writer). */
static uint64_t count_abandoned(const struct rt_session *s, const struct snapshot *sn, const uint8_t *sub,
                                uint32_t from, uint64_t missing, uint32_t dead, int *exact) {
  const struct rt_packet_header *ph = (const struct rt_packet_header *)sub;
  /* Trust only what the checks below allow: the header's begin fields may
   * never have been written, its end fields are the closer's. */
  int begun = ph->magic == RT_PACKET_MAGIC && ph->packet_seq_num == sn->cons >> s->sub_shift;
  uint64_t bits = sn->closed ? ph->content_size : sn->reserved * 8;
  int sized = bits % (8 * RT_RECORD_ALIGN) == 0 && bits / 8 >= RT_PACKET_HEADER_SIZE && bits / 8 <= s->sub_size;
  uint32_t end = sized ? (uint32_t)(bits / 8) : (uint32_t)sn->reserved;
  uint64_t prev = begun ? ph->timestamp_begin : 0;
  uint64_t max_ts = sn->closed && sized ? ph->timestamp_end : UINT64_MAX;
  uint64_t n = 0;
  uint32_t unsealed = 0, p = from;
  *exact = sized;
  while (p < end) {
    struct rt_event_header ev;
    memcpy(&ev, sub + p, sizeof ev);
    /* A header whose begin fields were never written: its opener, the first
     * record, is dead, whatever older bytes lie where its header would be. */
    int dead_opener = !begun && p == RT_PACKET_HEADER_SIZE;
    if (!dead_opener && sealed(&ev, end - p, prev, max_ts)) {
      n++;
      prev = ev.timestamp;
      p += rt_record_stride(ev.size);
      continue;
    }
    n++; /* a dead writer's record */
    uint64_t opener = p == RT_PACKET_HEADER_SIZE ? RT_PACKET_HEADER_SIZE : 0;
    if (++unsealed == 1 && dead == 1 && missing >= opener + RT_EVENT_HEADER_SIZE && missing - opener <= end - p &&
        (missing - opener) % RT_RECORD_ALIGN == 0) {
      p += (uint32_t)(missing - opener);
      continue;
    }
    *exact = 0;
    return n + (dead > unsealed ? dead - unsealed : 0);
  }
  if (p != end) *exact = 0;
  return n;
}

/* The sub-buffer cannot be salvaged (c->err says why) and every thread that
 * held a reservation in it is dead: rather than block the ring for the rest
 * of the session, skip it, its records counted lost. A closed sub-buffer is
 * completed (the counters must start the next lap right) and released; an open
 * one only when the consumer is ending (producers may still append to it:
 * releasing it would strand them), and then it is only counted. */
static int abandon(struct rt_consumer *c, uint32_t ring, const struct snapshot *sn, uint64_t missing, uint32_t dead,
                   int ending, struct rt_salvage *out) {
  const struct rt_session *s = c->s;
  struct rt_ring_ctl *rc = &s->rings[ring];
  char why[sizeof c->err];
  memcpy(why, c->err, sizeof why);
  int overwrite = s->mode == RT_MODE_OVERWRITE;
  /* Overwrite mode, still open: counted only once closed, even when the
   * recorder stops (`ending`), since writers go on without it, fill it,
   * and later overwrite it, counting what they find (see below). */
  if (!sn->closed && (!ending || overwrite)) {
    rt_error(c->err, sizeof c->err, "%s; held only by dead writers, it is abandoned once closed", why);
    return RT_SALVAGE_WAIT;
  }
  const uint8_t *sub = rt_ring_data(s, ring) + (sn->cons & s->ring_mask);
  uint32_t from = rt_consumer_resume_at(rc, sn->cons, s->sub_size); /* before it: handed out already */
  int exact;
  uint64_t n = count_abandoned(s, sn, sub, from, missing, dead, &exact);
  if (overwrite) {
    /* The writer that overwrites this lap later counts, as overwritten, the
     * records its walk finds (rt_lap_count: none behind a header never
     * written; else those up to the first bad size): those are not lost.
     * Nothing here changes once the lap is closed and every holder is dead,
     * so that walk finds then what it finds now. */
    uint64_t walked, bytes;
    rt_lap_count(s, ring, sn->cons, &walked, &bytes);
    n = n > walked ? n - walked : 0;
  }
  if (sn->closed) {
    if (!complete_counters(s, ring, sn, missing)) return RT_SALVAGE_NOTHING;
    __atomic_fetch_add(&rc->lost_remote, n, __ATOMIC_RELAXED);
    rt_consumer_release_sub(rc, sn->cons, s->sub_size);
    out->completed = missing;
  } else {
    __atomic_fetch_add(&rc->lost_remote, n, __ATOMIC_RELAXED);
    /* Handed out, as far as any later read is concerned. */
    __atomic_store_n(&rc->consumer_mark, sn->cons + sn->reserved, __ATOMIC_RELAXED);
  }
  out->records_lost = n;
  out->lost_exact = exact;
  out->released = sn->closed;
  const char *reason = strstr(why, ": "); /* without its "ring N" */
  rt_error(c->err, sizeof c->err, "ring %u: abandoned the sub-buffer at offset %llu: %s%llu records lost (%s)", ring,
           (unsigned long long)sn->cons, exact ? "" : "at least ", (unsigned long long)n, reason ? reason + 2 : why);
  return RT_SALVAGE_ABANDONED;
}

int rt_consumer_salvage(struct rt_consumer *c, uint32_t ring, int ending, struct rt_salvage *out) {
  const struct rt_session *s = c->s;
  memset(out, 0, sizeof *out);
  c->err[0] = 0;
  struct snapshot sn;
  if (ring >= s->n_rings) return RT_SALVAGE_NOTHING;
  if (s->mode == RT_MODE_OVERWRITE) overwrite_follow(s, ring);
  if (!take_snapshot(s, ring, &sn)) return RT_SALVAGE_NOTHING;
  RT_TEST_POINT(RT_TEST_SALVAGE_SNAPSHOT_TAKEN, ring);
  uint64_t missing = snapshot_missing(&sn);
  if (!missing) return RT_SALVAGE_NOTHING;
  uint64_t cons = sn.cons;
  out->sub_off = cons;

  /* Who may owe those bytes: the threads claiming a reservation that began in
   * this sub-buffer or in the one before (whose padding may have opened it),
   * up to the snapshot's write offset. Before anything is read or written in
   * the sub-buffer: a live holder's record is left alone. A holder that
   * committed since the snapshot no longer claims anything, which the counters'
   * re-check (complete_counters) catches. */
  /* Overwrite mode: writers never wait for the recorder, so reservations
   * past this sub-buffer are in flight all the time; only those that began
   * in it or in the one before can owe it bytes (a reservation spans at most
   * two sub-buffers), so the holders looked for are those. */
  uint64_t to = sn.w;
  if (s->mode == RT_MODE_OVERWRITE && to > cons + s->sub_size) to = cons + s->sub_size;
  struct rt_holders h;
  rt_writers_holding(s, ring, cons >= s->sub_size ? cons - s->sub_size : 0, to, &h);
  out->pid = h.pid;
  out->tid = h.tid;
  if (h.verdict == RT_HOLDERS_DAMAGED)
    return rt_error(c->err, sizeof c->err, "ring %u: sub-buffer at %llu: %s", ring, (unsigned long long)cons, h.why);
  if (h.verdict != RT_HOLDERS_DEAD) {
    rt_error(c->err, sizeof c->err, "ring %u: sub-buffer at %llu waits: %s", ring, (unsigned long long)cons, h.why);
    return RT_SALVAGE_WAIT;
  }
  out->dead_writers = h.dead;
  uint8_t *sub = rt_ring_data(s, ring) + (cons & s->ring_mask);
  uint32_t end = (uint32_t)sn.reserved;
  struct hole hole;
  if (rt_consumer_check_packet(c, ring, cons, (const struct rt_packet_header *)sub, sn.closed, &end) ||
      find_hole(c, ring, &sn, sub, missing, end, &hole))
    return abandon(c, ring, &sn, missing, h.dead, ending, out);
  if (hole.at) {
    /* The hole lies in a reservation nobody will commit: rewriting its header
     * is harmless even if the counters below turn out to have moved. */
    struct rt_event_header hole_header = {.id = RT_HOLE_ID, .size = hole.bytes, .timestamp = hole.ts};
    memcpy(sub + hole.at, &hole_header, sizeof hole_header);
  }
  /* The dead writer never adds its share: the sum comes out exact. */
  if (!complete_counters(s, ring, &sn, missing)) return RT_SALVAGE_NOTHING;
  if (hole.at) __atomic_fetch_add(&s->rings[ring].lost_remote, 1, __ATOMIC_RELAXED);
  out->hole_at = hole.at;
  out->hole_bytes = hole.bytes;
  out->completed = missing;
  return RT_SALVAGED;
}
