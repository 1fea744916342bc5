/* See clock_map.h. */
#include "clock_map.h"
#include "clock.h"
#include "consumer.h"

/* The pairs' own error: each is read as counter, clock_gettime, counter (the
 * midpoint kept), a few hundred ns apart unless the reader was preempted in
 * between. Agreement within 0.1 % plus 200 µs is no anomaly. */
#define RATE_TOLERANCE 1e-3
#define PAIR_SLACK_NS 200000.0
/* Below this span the pairs' error outweighs a measured rate: use the
 * calibrated one. */
#define MIN_MEASURED_NS 1000000u

void rt_clock_map_init(struct rt_clock_map *m, uint64_t open_cycles, uint64_t open_ns, uint64_t close_cycles,
                       uint64_t close_ns, uint64_t freq_hz, uint64_t prev_ns) {
  double nominal = 1e9 / (double)freq_hz;
  m->anchor_cycles = open_cycles;
  m->anchor_ns = open_ns;
  m->ns_per_cycle = nominal;
  m->last_ns = prev_ns;
  m->held = 0;
  m->anomaly = 0;
  if (close_ns < open_ns) { /* no usable closing pair: bounded below only */
    m->anomaly = 1;
    m->lo_ns = open_ns;
    m->hi_ns = UINT64_MAX;
    return;
  }
  double span_ns = (double)(close_ns - open_ns);
  double span_cycles = (double)(int64_t)(close_cycles - open_cycles);
  double expected = span_ns / nominal; /* cycles the calibrated rate predicts */
  double allowed = expected * RATE_TOLERANCE + PAIR_SLACK_NS / nominal;
  if (span_cycles < expected - allowed || span_cycles > expected + allowed) {
    /* Jumped, went back or stalled: the calibrated rate from the opening,
     * within the packet's CLOCK_MONOTONIC readings. */
    m->anomaly = 1;
    m->lo_ns = open_ns;
    m->hi_ns = close_ns;
    return;
  }
  if (close_ns - open_ns >= MIN_MEASURED_NS && span_cycles > 0) m->ns_per_cycle = span_ns / span_cycles;
  /* Records lie between the pairs (give or take the pairs' error); one
   * further out is a jump within the packet. */
  m->lo_ns = open_ns > (uint64_t)PAIR_SLACK_NS ? open_ns - (uint64_t)PAIR_SLACK_NS : 0;
  m->hi_ns = close_ns + (uint64_t)PAIR_SLACK_NS;
}

uint64_t rt_clock_map_ns(struct rt_clock_map *m, uint64_t cycles) {
  /* The offset from the anchor in double (small: within a packet, exact to
   * well under a ns), added to the anchor in integers: CLOCK_MONOTONIC
   * passes 2^53 ns after 104 days of uptime, where doubles lose nanoseconds. */
  double offset = (double)(int64_t)(cycles - m->anchor_cycles) * m->ns_per_cycle;
  double lo = (double)(int64_t)(m->lo_ns - m->anchor_ns), hi = (double)(m->hi_ns - m->anchor_ns);
  uint64_t ns;
  if (offset < lo) {
    ns = m->lo_ns;
    m->held++;
  } else if (m->hi_ns != UINT64_MAX && offset > hi) {
    ns = m->hi_ns;
    m->held++;
  } else {
    int64_t whole = (int64_t)(offset < 0 ? offset - 0.5 : offset + 0.5);
    ns = m->anchor_ns + (uint64_t)whole;
  }
  if (ns < m->last_ns) ns = m->last_ns; /* never backwards within a stream */
  m->last_ns = ns;
  return ns;
}

void rt_clock_map_chunk(struct rt_clock_map *m, const struct rt_chunk *ch, uint64_t freq_hz, uint64_t prev_ns) {
  const struct rt_clock_pairs *p = &ch->clock; /* copied with the chunk */
  uint64_t close_cycles = p->close_cycles, close_ns = p->close_ns;
  if (!ch->complete || close_ns < p->open_ns) rt_clock_pair(&close_cycles, &close_ns);
  rt_clock_map_init(m, p->open_cycles, p->open_ns, close_cycles, close_ns, freq_hz, prev_ns);
}
