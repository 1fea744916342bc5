/* Cycle timestamps to CLOCK_MONOTONIC nanoseconds, one packet at a time.
 *
 * A cycle session's producers stamp records with the cycle counter (~10 ns
 * against ~27 ns for clock_gettime on a kvm-clock guest) and, once per
 * sub-buffer, read the counter and CLOCK_MONOTONIC together as it opens and
 * as it closes (layout.h struct rt_clock_pairs, beside its commit counters). The consumer maps each record's
 * cycles linearly between those two pairs, so the counter's rate is trusted
 * over one packet only: drift from the system clock is bounded by what the
 * rate changes within a packet, not accumulated over the session.
 *
 * When the two pairs disagree with the counter's calibrated rate by more than
 * the pairs' own error (the counter jumped, went back, or stalled: a VM
 * restored or migrated), the packet's records are instead placed at the
 * calibrated rate from its opening and held within its two CLOCK_MONOTONIC
 * readings, and the packet is counted as an anomaly. In every case a stream's
 * times never go backwards. */
#ifndef RINGTRACE_RING_CLOCK_MAP_H
#define RINGTRACE_RING_CLOCK_MAP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rt_clock_map {
  uint64_t anchor_cycles, anchor_ns;
  double ns_per_cycle;
  uint64_t lo_ns, hi_ns; /* a record mapped outside is an anomaly, held inside */
  uint64_t last_ns;      /* the stream's last time: never go below it */
  int anomaly;           /* the pairs disagree with the rate */
  uint32_t held;         /* records held within the bounds */
};

/* Prepare the mapping of one packet from its opening pair, its closing pair
 * (the closer's, or one the consumer reads when the packet is still open) and
 * the calibrated frequency; prev_ns: the stream's last time so far (0: none). */
void rt_clock_map_init(struct rt_clock_map *m, uint64_t open_cycles, uint64_t open_ns, uint64_t close_cycles,
                       uint64_t close_ns, uint64_t freq_hz, uint64_t prev_ns);

/* The time of a record stamped `cycles` (records in stream order). */
uint64_t rt_clock_map_ns(struct rt_clock_map *m, uint64_t cycles);

struct rt_chunk;
/* The mapping of a consumer's chunk (consumer.h, snapshot.h): from its
 * sub-buffer's opening pair to its closing one, or, while the sub-buffer is
 * still open (or its closing pair is older than the opening: left from an
 * earlier lap), to a pair read now, later than all its records (the counter
 * is one clock on every CPU: checked at session creation). */
void rt_clock_map_chunk(struct rt_clock_map *m, const struct rt_chunk *ch, uint64_t freq_hz, uint64_t prev_ns);

#ifdef __cplusplus
}
#endif
#endif
