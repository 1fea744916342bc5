/* Producer slow paths: the atomic rings used by threads without rseq, and
 * oversized records. Correct on any CPU at any time, at the price of locked
 * instructions and an ordered clock read: 42.6 ns per event instead of 12.5 ns
 * on the rseq rings (24-byte payload, session clock the TSC: `lfence; rdtsc`
 * here, 23.0 ns of it, plain `rdtsc` there, 11.3 ns; bench_native's
 * emit_3u64_fallback and emit_3u64_1thread in docs/benchmarks.md). */
#include <sched.h>
#include "producer.h"

/* Atomic rings are never written by rseq sections (mixing a plain rseq store
 * and a CAS on one word would lose updates), so any thread may CAS here. */
int rt_reserve_atomic(const struct rt_session *s, uint32_t id, uint32_t size,
                      struct rt_reservation *r) {
  int cpu = sched_getcpu(); /* only picks a ring near us; correctness does not need it */
  uint32_t ring_idx = s->n_cpus + (uint32_t)(cpu < 0 ? 0 : cpu) % s->n_cpus;
  struct rt_ring_ctl *ring = &s->rings[ring_idx];
  uint32_t stride = rt_record_stride(size);
  uint64_t old = __atomic_load_n(&ring->write_off, __ATOMIC_RELAXED);
  for (;;) {
    /* Clock after the offset read, CAS after the clock: a CAS that succeeds saw
     * no reservation since our read, so every later reservation reads the clock
     * after ours. (Relies on synchronized invariant TSCs across CPUs; the stress
     * test checks per-ring monotonicity on this path too.) */
    uint64_t ts = rt_clock_read_ordered(s->clock_kind);
    if (s->clock_kind == RT_CLOCK_CYCLES) ts = RT_TEST_CYCLES(ts); /* test builds only */
    uint64_t consumed = __atomic_load_n(&ring->consumed_off, __ATOMIC_ACQUIRE);
    if (consumed > old) { /* stale offset: the consumer is already past it */
      old = __atomic_load_n(&ring->write_off, __ATOMIC_RELAXED);
      continue;
    }
    struct rt_plan p;
    rt_plan_reservation(s, old, stride, &p);
    /* Discard mode: full when a ring ahead of the consumer. Overwrite mode
     * (full_limit never reached): an opening reservation whose sub-buffer's
     * previous lap is not completely committed drops; otherwise it counts
     * that lap before the CAS (overwrite.c), which a failed CAS discards. */
    if ((p.opens && s->mode == RT_MODE_OVERWRITE && rt_overwrite_prepare(s, ring_idx, &p)) ||
        p.end - consumed > s->full_limit) {
      rt_claim_done(r);
      __atomic_fetch_add(&ring->lost_remote, 1, __ATOMIC_RELAXED);
      return RT_DISCARDED_FULL;
    }
    /* If the CAS below succeeds, our reservation begins at `old`. */
    rt_claim_store(r->claim, ring_idx, old);
    /* On failure `old` is reloaded and we plan again. Acquire on success is not
     * needed for the data (commits publish it); relaxed keeps it cheap. */
    if (__atomic_compare_exchange_n(&ring->write_off, &old, p.end, 0, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED)) {
      rt_finish_boundary(s, ring_idx, -1, &p, ts, id, size, stride, r);
      return RT_RESERVED;
    }
  }
}

/* One clock pair into a sub-buffer's control line. Relaxed: the writer's
 * commit (release) publishes it; a consumer reading an open sub-buffer's
 * closing pair while it is stored is caught by its check (clock_map.c). */
static void store_pair(uint64_t *cycles_at, uint64_t *ns_at, uint64_t cycles, uint64_t ns) {
  __atomic_store_n(cycles_at, cycles, __ATOMIC_RELAXED);
  __atomic_store_n(ns_at, ns, __ATOMIC_RELAXED);
}

/* Fill the packet-header fields a reservation owns and commit its padding.
 * The opener writes the "begin" fields, the closer the "end" fields: disjoint
 * bytes, because opener and closer of a sub-buffer may run concurrently. */
void rt_finish_boundary(const struct rt_session *s, uint32_t ring_idx, int32_t cpu,
                        const struct rt_plan *p, uint64_t ts, uint32_t id, uint32_t size,
                        uint32_t stride, struct rt_reservation *r) {
  struct rt_ring_ctl *ring = &s->rings[ring_idx];
  uint8_t *data = rt_ring_data(s, ring_idx);
  /* Cycle sessions: the counter and CLOCK_MONOTONIC together, for the
   * consumer's per-packet conversion (clock_map.h). Read after our
   * reservation's timestamp, so every record of a sub-buffer we close was
   * stamped before it. Once per sub-buffer boundary: ~60 ns. Stored relaxed
   * into the sub-buffer's control line (layout.h rt_sub_ctl); our commit
   * (release) publishes them with the header fields. */
  uint64_t pair_cycles = 0, pair_ns = 0;
  int fills = (p->end & s->sub_mask) == 0; /* the record ends its sub-buffer exactly */
  if (s->clock_kind == RT_CLOCK_CYCLES && (p->opens || fills)) { /* padding comes with an opening */
    rt_clock_pair(&pair_cycles, &pair_ns);
    pair_cycles = RT_TEST_CYCLES(pair_cycles); /* test builds only */
  }
  if (RT_UNLIKELY(p->opens)) {
    if (p->pad) { /* close the previous sub-buffer at the padding */
      struct rt_packet_header *prev =
          (struct rt_packet_header *)(data + ((p->old & ~s->sub_mask) & s->ring_mask));
      prev->timestamp_end = ts;
      prev->content_size = (s->sub_size - p->pad) * 8;
      struct rt_sub_ctl *prev_sub = rt_sub_ctl_at(s, ring_idx, p->old);
      store_pair(&prev_sub->clock.close_cycles, &prev_sub->clock.close_ns, pair_cycles, pair_ns);
      rt_commit_bytes(ring, prev_sub, cpu, p->pad);
    }
    uint64_t sub_start = p->record - RT_PACKET_HEADER_SIZE;
    struct rt_packet_header *ph = (struct rt_packet_header *)(data + (sub_start & s->ring_mask));
    if (s->mode == RT_MODE_OVERWRITE) {
      /* A snapshot reader (snapshot.c) copies a lap, then re-reads write_off:
       * seeing it still short of the next lap proves no writer changed the
       * bytes it copied. That needs each store into the new lap to become
       * visible after the store to write_off that reserved it. Ours (header,
       * record): this fence orders them after our reserving store (a plain
       * store in an rseq section, or the CAS). Other writers of this lap
       * reserve after reading a write_off at or past ours, and the addresses
       * they store to are computed from that value: an address dependency,
       * which orders their stores after that read on every architecture we
       * support. x86-64 (TSO) keeps stores in order: a compiler barrier;
       * aarch64: `dmb ishst`. Once per sub-buffer. */
      rt_arch_store_fence();
      if (p->over_records | p->over_bytes) {
        /* The lap we overwrite, counted before our reservation (overwrite.c).
         * Relaxed: statistics, read after the fact; once per sub-buffer. */
        __atomic_fetch_add(&ring->overwritten_records, p->over_records, __ATOMIC_RELAXED);
        __atomic_fetch_add(&ring->overwritten_bytes, p->over_bytes, __ATOMIC_RELAXED);
      }
    }
    ph->magic = RT_PACKET_MAGIC;
    memcpy(ph->uuid, s->uuid, 16);
    ph->stream_id = 0;
    ph->stream_instance_id = ring_idx;
    ph->timestamp_begin = ts;
    struct rt_clock_pairs *clock = &rt_sub_ctl_at(s, ring_idx, p->record)->clock;
    store_pair(&clock->open_cycles, &clock->open_ns, pair_cycles, pair_ns);
    /* close_* belong to the closer (which may already be running on another
     * CPU): left as they are; a consumer trusts them only once the sub-buffer
     * is complete and they are later than open_*. */
    ph->packet_size = s->sub_size * 8;
    ph->packet_seq_num = sub_start >> s->sub_shift;
    ph->events_discarded = 0;
    ph->cpu_id = ring_idx % s->n_cpus;
    ph->ring_kind = ring_idx >= s->n_cpus;
  }
  if (RT_UNLIKELY(fills)) { /* record fills its sub-buffer exactly */
    struct rt_packet_header *ph =
        (struct rt_packet_header *)(data + ((p->record & ~s->sub_mask) & s->ring_mask));
    ph->timestamp_end = ts;
    ph->content_size = s->sub_size * 8;
    struct rt_clock_pairs *clock = &rt_sub_ctl_at(s, ring_idx, p->record)->clock;
    store_pair(&clock->close_cycles, &clock->close_ns, pair_cycles, pair_ns);
  }
  r->header.id = id;
  r->header.size = size;
  r->header.timestamp = ts;
  r->ring = ring;
  r->sub = rt_sub_ctl_at(s, ring_idx, p->record);
  r->record = data + (p->record & s->ring_mask);
  r->commit_bytes = stride + (p->opens ? RT_PACKET_HEADER_SIZE : 0);
  r->cpu = cpu;
}

int rt_discard_oversized(const struct rt_session *s) {
  int cpu = sched_getcpu();
  struct rt_ring_ctl *ring = &s->rings[(uint32_t)(cpu < 0 ? 0 : cpu) % s->n_cpus];
  __atomic_fetch_add(&ring->lost_remote, 1, __ATOMIC_RELAXED);
  return RT_DISCARDED_SIZE;
}
