/* Producer fast path: reserve a record on this CPU's ring with an rseq
 * compare-and-store, fill it, commit through commit_local (still on the reserving
 * CPU: rseq add) or commit_remote (migrated: atomic add). No lock, no system
 * call, never waits for the consumer: in discard mode a full ring drops the
 * event and counts it; in overwrite mode the writer moves on into the oldest
 * sub-buffer (overwrite.c), which only the reservation opening a sub-buffer
 * checks. Threads without rseq use the atomic rings (producer_slow.c). */
#ifndef RINGTRACE_RING_PRODUCER_H
#define RINGTRACE_RING_PRODUCER_H

#include <string.h>
#include "clock.h"
#include "layout.h"
#include "rseq.h"
#include "session.h"
#include "test_hooks.h"
#include "writers.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RT_LIKELY(x) __builtin_expect(!!(x), 1)
#define RT_UNLIKELY(x) __builtin_expect(!!(x), 0)

enum rt_reserve_result {
  RT_RESERVED = 0,
  RT_DISCARDED_FULL = -1, /* ring full: event dropped and counted as lost */
  RT_DISCARDED_SIZE = -2, /* record larger than a sub-buffer can hold: counted as lost */
};

/* A reserved record, between rt_reserve and rt_commit. Its event header is
 * written by rt_commit, after the payload ("sealed"): a writer that dies in
 * between leaves the previous lap's bytes there, which the consumer's salvage
 * of dead writers' records recognizes (consumer.h). */
struct rt_reservation {
  struct rt_claim *claim; /* the writer's claim (writers.h), given back at commit */
  uint64_t outer;         /* claim of the writer's reservation still open around this one, or 0 */
  struct rt_ring_ctl *ring;
  struct rt_sub_ctl *sub; /* sub-buffer the record lies in */
  uint8_t *record;        /* event header; payload follows */
  uint32_t commit_bytes;  /* record stride (+ packet header if it opened the sub) */
  int32_t cpu;            /* reserving CPU; -1 for an atomic ring */
  struct rt_event_header header; /* written at commit */
};

/* Where a reservation of `stride` bytes at write offset `old` lands. A record
 * never crosses a sub-buffer boundary: if it does not fit, the rest of the
 * sub-buffer becomes padding and the record opens the next one. */
struct rt_plan {
  uint64_t old;    /* write offset before */
  uint64_t record; /* offset of the record */
  uint64_t end;    /* write offset after */
  uint64_t pad;    /* padding bytes closing the previous sub-buffer */
  int opens;       /* the record starts a sub-buffer: write its packet header */
  /* Overwrite mode, a reservation opening a sub-buffer in a later lap: the
   * records (holes left out) and bytes of the lap it overwrites, counted
   * before the reserving store and added to the ring's counters after it. */
  uint64_t over_records, over_bytes;
};

static inline void rt_plan_reservation(const struct rt_session *s, uint64_t old,
                                       uint32_t stride, struct rt_plan *p) {
  uint64_t in_sub = old & s->sub_mask;
  p->old = old;
  p->pad = 0;
  p->over_records = p->over_bytes = 0;
  p->opens = in_sub == 0;
  if (RT_UNLIKELY(!p->opens && in_sub + stride > s->sub_size)) {
    p->pad = s->sub_size - in_sub;
    p->opens = 1;
  }
  p->record = old + p->pad + (p->opens ? RT_PACKET_HEADER_SIZE : 0);
  p->end = p->record + stride;
}

/* Commit `bytes` to a sub-buffer. Returns 0 for a local (rseq) commit, 1 for a
 * remote (atomic) one. cpu < 0: atomic ring, always remote. */
static inline int rt_commit_bytes(struct rt_ring_ctl *ring, struct rt_sub_ctl *sub, int32_t cpu,
                                  uint64_t bytes) {
  if (RT_LIKELY(cpu >= 0)) {
    struct rt_rseq_abi *rs = rt_rseq_area();
    for (;;) {
      enum rt_rseq_result r = rt_rseq_add(rs, (uint32_t)cpu, &sub->commit_local, bytes);
      if (RT_LIKELY(r == RT_RSEQ_OK)) return 0;
      if (r == RT_RSEQ_MISMATCH) break; /* migrated since reserve */
      __atomic_fetch_add(&ring->rseq_aborts, 1, __ATOMIC_RELAXED);
    }
  }
  /* Release: the record's bytes (and packet header fields) are visible to a
   * consumer that acquires commit_remote and sees the sum complete. */
  __atomic_fetch_add(&sub->commit_remote, bytes, __ATOMIC_RELEASE);
  __atomic_fetch_add(&ring->remote_commits, 1, __ATOMIC_RELAXED);
  return 1;
}

/* The common case: a record strictly inside a sub-buffer (it neither opens nor
 * exactly fills it), so no packet-header field is ours to write. */
static inline void rt_finish_inside(const struct rt_session *s, uint32_t ring_idx, int32_t cpu,
                                    uint64_t record, uint64_t ts, uint32_t id, uint32_t size,
                                    uint32_t stride, struct rt_reservation *r) {
  const struct rt_ring_view *v = &s->views[ring_idx];
  r->header.id = id;
  r->header.size = size;
  r->header.timestamp = ts;
  r->ring = &s->rings[ring_idx];
  r->sub = &v->subs[(record >> s->sub_shift) & s->sub_index_mask];
  r->record = v->data + (record & s->ring_mask);
  r->commit_bytes = stride;
  r->cpu = cpu;
}

/* Claim the reservation we are about to make at `off` of `ring` (writers.h).
 * Release store: a nested reservation's count (rt_claim_nest) is visible
 * before its claim. The release fence: the claim is visible before the
 * reserving store to write_off that follows (a plain store in an rseq
 * section, or the CAS), so a consumer that sees the reservation sees who made
 * it. On x86-64 both are compiler barriers (TSO keeps stores in order). */
static inline void rt_claim_store(struct rt_claim *c, uint32_t ring, uint64_t off) {
  __atomic_store_n(&c->open, off + RT_CLAIM_TAG(ring), __ATOMIC_RELEASE);
  __atomic_thread_fence(__ATOMIC_RELEASE);
}
/* A reservation made while another of this thread is open: count it, so the
 * consumer knows a claim is hidden meanwhile. Only this thread writes it (a
 * signal handler's nested reservation gives its count back before returning). */
static inline void rt_claim_nest(struct rt_claim *c, int64_t by) {
  __atomic_store_n(&c->nested, __atomic_load_n(&c->nested, __ATOMIC_RELAXED) + (uint64_t)by, __ATOMIC_RELAXED);
}
/* Give the claim back (after the commit, or instead of the reservation).
 * Release: a consumer that sees the claim gone sees the commit. */
static inline void rt_claim_done(const struct rt_reservation *r) {
  __atomic_store_n(&r->claim->open, r->outer, __ATOMIC_RELEASE);
  if (RT_UNLIKELY(r->outer != 0)) rt_claim_nest(r->claim, -1);
}

/* Count a dropped event on the ring of `cpu` (rseq add, or atomic if we moved). */
static inline void rt_count_lost_rseq(struct rt_ring_ctl *ring, struct rt_rseq_abi *rs,
                                      uint32_t cpu) {
  for (;;) {
    enum rt_rseq_result r = rt_rseq_add(rs, cpu, &ring->lost_local, 1);
    if (RT_LIKELY(r == RT_RSEQ_OK)) return;
    if (r == RT_RSEQ_MISMATCH) break;
  }
  __atomic_fetch_add(&ring->lost_remote, 1, __ATOMIC_RELAXED);
}

/* Drop the event (ring full, or in overwrite mode a lap still in progress):
 * give the claim back, count it lost. */
static inline int rt_drop_full(const struct rt_reservation *r, struct rt_ring_ctl *ring,
                               struct rt_rseq_abi *rs, uint32_t cpu) {
  rt_claim_done(r);
  rt_count_lost_rseq(ring, rs, cpu);
  return RT_DISCARDED_FULL;
}

/* Slow paths, out of line (producer_slow.c). rt_finish_boundary: like
 * rt_finish_inside for a record that opens and/or exactly fills a sub-buffer;
 * writes the packet-header fields it owns and commits padding. */
void rt_finish_boundary(const struct rt_session *s, uint32_t ring_idx, int32_t cpu,
                        const struct rt_plan *p, uint64_t ts, uint32_t id, uint32_t size,
                        uint32_t stride, struct rt_reservation *r);
int rt_reserve_atomic(const struct rt_session *s, uint32_t id, uint32_t size,
                      struct rt_reservation *r); /* r->claim, r->outer set */
int rt_discard_oversized(const struct rt_session *s);

/* Overwrite mode (overwrite.c). Before the reserving store of a reservation
 * `p` that opens a sub-buffer of `ring`: 0 if the lap it overwrites is
 * completely committed (or there is none), with that lap's records and bytes
 * in p->over_*; -1 if a writer is still inside that lap, or died there: the
 * event must be dropped (a lap in progress is never overwritten, and nobody
 * waits). Reads only. */
int rt_overwrite_prepare(const struct rt_session *s, uint32_t ring, struct rt_plan *p);
/* Records (RT_HOLE_ID records left out) and their bytes in the completed lap
 * of the sub-buffer at free-running offset `sub_off`, walked from its packet
 * header with every header and size validated; a damaged packet header counts
 * nothing, a bad record size ends the walk. */
void rt_lap_count(const struct rt_session *s, uint32_t ring, uint64_t sub_off, uint64_t *records,
                  uint64_t *bytes);

/* Reserve a record for `payload_size` bytes of event `id` (its header is
 * written at commit). Returns RT_RESERVED or a RT_DISCARDED_*. */
static inline int rt_reserve(const struct rt_session *s, uint32_t id, uint32_t payload_size,
                             struct rt_reservation *r) {
  if (RT_UNLIKELY(payload_size > s->max_payload)) return rt_discard_oversized(s);
  uint32_t size = RT_EVENT_HEADER_SIZE + payload_size;
  uint32_t stride = rt_record_stride(size);
  /* This thread's writer of s: its claim says which reservation it holds. */
  struct rt_writer *w = rt_thread_writer;
  if (RT_UNLIKELY(w->key != s->writer_key)) w = rt_writer_for(s);
  r->claim = w->claim;
  r->outer = __atomic_load_n(&r->claim->open, __ATOMIC_RELAXED);
  if (RT_UNLIKELY(r->outer != 0)) rt_claim_nest(r->claim, 1);
  if (RT_LIKELY(s->use_rseq)) {
    struct rt_rseq_abi *rs = rt_rseq_area();
    for (;;) {
      /* A negative cpu_id (no rseq on this thread) wraps to a huge value. */
      uint32_t cpu = (uint32_t)__atomic_load_n(&rs->cpu_id, __ATOMIC_RELAXED);
      if (RT_UNLIKELY(cpu >= s->n_cpus)) break;
      struct rt_ring_ctl *ring = &s->rings[cpu];
      /* Order: write offset, then clock, then the section re-checks the offset.
       * Any reservation on this CPU between our read and the section changes the
       * offset and sends us round again with a fresh (later) timestamp, so
       * timestamps never decrease along the ring. The cycle counter is read
       * inside the section (rseq_*.h); CLOCK_MONOTONIC, a call, here (the vDSO
       * orders its counter read after earlier loads). Relaxed is enough: the
       * only writers of write_off run on this CPU. */
      uint64_t old = __atomic_load_n(&ring->write_off, __ATOMIC_RELAXED);
      /* If the section below succeeds, our reservation begins at `old`. */
      rt_claim_store(r->claim, cpu, old);
      int cycles = RT_LIKELY(s->clock_kind == RT_CLOCK_CYCLES);
      uint64_t ts = cycles ? 0 : rt_monotonic_ns();
      /* Acquire pairs with the consumer's release of a sub-buffer: its reads of
       * the old data finish before we overwrite it. A stale value only makes the
       * ring look fuller (consumed_off only grows), never overwrites live data. */
      uint64_t consumed = __atomic_load_n(&ring->consumed_off, __ATOMIC_ACQUIRE);
      /* Preempted between the two loads while the consumer moved past `old`:
       * the offset is stale (and `end - consumed` would wrap); read again. */
      if (RT_UNLIKELY(consumed > old)) continue;
      /* Common case inline; sub-buffer boundaries are planned out of line. */
      uint64_t in_sub = old & s->sub_mask;
      int inside = in_sub != 0 && in_sub + stride < s->sub_size;
      struct rt_plan p;
      p.end = old + stride;
      if (RT_UNLIKELY(!inside)) {
        rt_plan_reservation(s, old, stride, &p);
        /* Overwrite mode: the reservation that opens a sub-buffer checks that
         * the lap it overwrites is complete and counts what it held, before
         * the section below stores write_off (nobody enters a sub-buffer
         * before its opening reservation); reservations inside it need not. */
        if (RT_UNLIKELY(p.opens && s->mode == RT_MODE_OVERWRITE) && rt_overwrite_prepare(s, cpu, &p))
          return rt_drop_full(r, ring, rs, cpu);
      }
      /* Discard mode: full when more than a ring ahead of the consumer.
       * Overwrite mode: full_limit is UINT64_MAX, never true. */
      if (RT_UNLIKELY(p.end - consumed > s->full_limit)) return rt_drop_full(r, ring, rs, cpu);
      enum rt_rseq_result res =
          cycles ? rt_rseq_cmpeq_store_clock(rs, cpu, &ring->write_off, old, p.end, &ts)
                 : rt_rseq_cmpeq_store(rs, cpu, &ring->write_off, old, p.end);
      if (RT_LIKELY(res == RT_RSEQ_OK)) {
        if (cycles) ts = RT_TEST_CYCLES(ts); /* test builds only: a simulated jump or stall */
        if (RT_LIKELY(inside))
          rt_finish_inside(s, cpu, (int32_t)cpu, old, ts, id, size, stride, r);
        else
          rt_finish_boundary(s, cpu, (int32_t)cpu, &p, ts, id, size, stride, r);
        return RT_RESERVED;
      }
      if (res == RT_RSEQ_MISMATCH)
        __atomic_fetch_add(&ring->cpu_mismatches, 1, __ATOMIC_RELAXED);
      else if (res == RT_RSEQ_ABORTED)
        __atomic_fetch_add(&ring->rseq_aborts, 1, __ATOMIC_RELAXED);
      /* RT_RSEQ_CHANGED: another thread reserved on this CPU meanwhile; retry. */
    }
  }
  return rt_reserve_atomic(s, id, size, r);
}

static inline void *rt_payload(const struct rt_reservation *r) {
  return r->record + RT_EVENT_HEADER_SIZE;
}

/* Seal and publish a reserved record. Returns 0 if committed locally, 1 if remotely. */
static inline int rt_commit(const struct rt_reservation *r) {
  /* Compiler fence: the header stores stay after the caller's payload stores.
   * (For live readers the commit below orders everything; this order only
   * matters for a writer killed here, whose executed stores all land.) */
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  memcpy(r->record, &r->header, sizeof r->header);
  int remote = rt_commit_bytes(r->ring, r->sub, r->cpu, r->commit_bytes);
  rt_claim_done(r);
  return remote;
}

/* Reserve + copy + commit. Returns RT_RESERVED or a RT_DISCARDED_*. */
static inline int rt_emit(const struct rt_session *s, uint32_t id, const void *payload,
                          uint32_t size) {
  struct rt_reservation r;
  int rc = rt_reserve(s, id, size, &r);
  if (RT_UNLIKELY(rc != RT_RESERVED)) return rc;
  memcpy(rt_payload(&r), payload, size);
  rt_commit(&r);
  return RT_RESERVED;
}

#ifdef __cplusplus
}
#endif
#endif
