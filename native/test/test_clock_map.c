/* The per-packet conversion of cycle timestamps (ring/clock_map.h):
 * - a counter whose rate differs from its calibration and wanders over a
 *   simulated hour: converted times stay within a stated bound of the
 *   reference clock, where one calibration for the whole session drifts;
 * - a jump forward, a jump back, a stall, a jump inside a packet that comes
 *   back: each is reported, and the times stay ordered and within the packet's
 *   monotonic readings;
 * - the same through a real session: a producer whose cycle reads are offset
 *   (test hook) mid-stream, read by the consumer into packets. */
#include <math.h>
#include <string.h>
#include "check.h"
#include "clock_map.h"
#include "packet.h"
#include "producer.h"
#include "util.h"

#define FREQ 3000000000.0 /* calibrated: 3 GHz */

/* A simulated counter: true rate FREQ * (1 + offset_ppm + wander * sin),
 * integrated exactly enough at 1 ms steps. */
struct counter {
  double ppm, wander_ppm, period_s;
};
static double cycles_at(const struct counter *k, double t_s) {
  /* integral of FREQ * (1 + ppm e-6 + w e-6 sin(2 pi t / P)) dt */
  double w = 2 * M_PI / k->period_s;
  return FREQ * (t_s * (1 + k->ppm * 1e-6) + k->wander_ppm * 1e-6 * (1 - cos(w * t_s)) / w);
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static double rnd01(void) {
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 7;
  rnd_state ^= rnd_state << 17;
  return (double)(rnd_state >> 11) / 9007199254740992.0;
}

/* Worst error (ns) over an hour of packets of `packet_s`, with pairs read
 * with up to `jitter_ns` of error; *single: the worst error of one
 * calibration kept for the whole hour. */
static double worst_error(const struct counter *k, double packet_s, double jitter_ns, double *single,
                          unsigned *anomalies) {
  const double hour = 3600.0, start = 1000.0; /* CLOCK_MONOTONIC starts at boot, not at 0 */
  double worst = 0;
  *single = 0;
  *anomalies = 0;
  uint64_t prev = 0;
  double c0 = cycles_at(k, 0);
  for (double t = 0; t + packet_s <= hour; t += packet_s) {
    double jo = (rnd01() * 2 - 1) * jitter_ns, jc = (rnd01() * 2 - 1) * jitter_ns;
    struct rt_clock_map m;
    rt_clock_map_init(&m, (uint64_t)cycles_at(k, t), (uint64_t)((start + t) * 1e9 + jo),
                      (uint64_t)cycles_at(k, t + packet_s), (uint64_t)((start + t + packet_s) * 1e9 + jc), (uint64_t)FREQ,
                      prev);
    *anomalies += (unsigned)m.anomaly;
    for (int e = 0; e < 4; e++) {
      double te = t + packet_s * (e + rnd01()) / 4; /* in order within the packet */
      uint64_t ns = rt_clock_map_ns(&m, (uint64_t)cycles_at(k, te));
      double err = fabs((double)ns - (start + te) * 1e9);
      if (err > worst) worst = err;
      double once = fabs((cycles_at(k, te) - c0) / FREQ * 1e9 - te * 1e9);
      if (once > *single) *single = once;
    }
    prev = m.last_ns;
  }
  return worst;
}

static void test_drift_bounded(void) {
  /* 200 ppm off its calibration (a VM's TSC rate vs NTP-disciplined time is
   * often tens of ppm off), wandering +-50 ppm with a 10-minute period. */
  struct counter k = {200, 50, 600};
  double single;
  unsigned anomalies;
  /* 50 ms packets: the rate is measured per packet; error = pair jitter + what
   * the rate changes within a packet (here < 1 ns). */
  double w = worst_error(&k, 0.050, 50, &single, &anomalies);
  printf("# 50 ms packets, pairs +-50 ns: worst %.1f ns over an hour; one calibration: %.3f ms\n", w, single / 1e6);
  CHECK(anomalies == 0, "%u packets called anomalies", anomalies);
  CHECK(w <= 2 * 50 + 2, "worst %.1f ns, bound 102 ns (twice the pair jitter)", w);
  CHECK(single > 500e6, "one calibration should drift by ~0.7 s in an hour: %.3f ms", single / 1e6);
  /* 0.5 ms packets: too short to measure a rate, the calibrated one is used:
   * error = rate error x packet duration (250 ppm x 0.5 ms = 125 ns) + jitter. */
  w = worst_error(&k, 0.0005, 50, &single, &anomalies);
  printf("# 0.5 ms packets, pairs +-50 ns: worst %.1f ns\n", w);
  CHECK(anomalies == 0, "%u packets called anomalies", anomalies);
  CHECK(w <= 250e-6 * 0.5e6 + 50 + 2, "worst %.1f ns, bound 177 ns", w);
}

/* A packet from open (c0, n0) to close (c1, n1) with records at `cycles`;
 * checks the verdict, order and bounds; returns the times in out. */
static void map_packet(uint64_t c0, uint64_t n0, uint64_t c1, uint64_t n1, const uint64_t *cycles, int n,
                       uint64_t prev, uint64_t *out, int *anomaly, uint32_t *held) {
  struct rt_clock_map m;
  rt_clock_map_init(&m, c0, n0, c1, n1, (uint64_t)FREQ, prev);
  for (int i = 0; i < n; i++) out[i] = rt_clock_map_ns(&m, cycles[i]);
  *anomaly = m.anomaly;
  *held = m.held;
  for (int i = 0; i < n; i++) CHECK(out[i] >= (i ? out[i - 1] : prev), "record %d goes back", i);
}

static void test_anomalies(void) {
  const uint64_t n0 = 5000000000ull, c0 = 15000000000ull; /* 5 s after boot, 3 GHz */
  const uint64_t ms = 1000000, cms = 3000000;             /* 1 ms in ns and in cycles */
  uint64_t cyc[5], out[5];
  int anomaly;
  uint32_t held;

  /* Consistent: 10 ms, records at 0, 2.5, 5, 7.5, 10 ms. */
  for (int i = 0; i < 5; i++) cyc[i] = c0 + (uint64_t)i * 10 * cms / 4;
  map_packet(c0, n0, c0 + 10 * cms, n0 + 10 * ms, cyc, 5, 0, out, &anomaly, &held);
  CHECK(!anomaly && held == 0, "consistent packet: anomaly %d held %u", anomaly, held);
  for (int i = 0; i < 5; i++) CHECK(out[i] == n0 + (uint64_t)i * 10 * ms / 4, "record %d at %llu", i,
                                    (unsigned long long)out[i]);

  /* The same after 300 days of uptime (CLOCK_MONOTONIC past 2^53 ns): still exact to the ns. */
  const uint64_t late = 300ull * 86400 * 1000000000ull + 123; /* not a multiple of the 4 ns a double keeps there */
  map_packet(c0, late, c0 + 10 * cms, late + 10 * ms, cyc, 5, 0, out, &anomaly, &held);
  for (int i = 0; i < 5; i++) CHECK(out[i] == late + (uint64_t)i * 10 * ms / 4, "record %d at %llu (300 days)", i,
                                    (unsigned long long)out[i]);

  /* Jump forward 10 s after the second record: the closing pair shows it. */
  for (int i = 2; i < 5; i++) cyc[i] = c0 + (uint64_t)i * 10 * cms / 4 + 10000 * cms;
  map_packet(c0, n0, c0 + 10 * cms + 10000 * cms, n0 + 10 * ms, cyc, 5, 0, out, &anomaly, &held);
  CHECK(anomaly, "jump forward not reported");
  for (int i = 0; i < 5; i++) CHECK(out[i] >= n0 && out[i] <= n0 + 10 * ms, "record %d outside the packet", i);

  /* Jump back 10 s: the closing pair's cycles are before the opening's. */
  for (int i = 0; i < 5; i++) cyc[i] = c0 + (uint64_t)i * cms - (i >= 2 ? 10000 * cms : 0);
  map_packet(c0, n0, c0 + 10 * cms - 10000 * cms, n0 + 10 * ms, cyc, 5, n0 - ms, out, &anomaly, &held);
  CHECK(anomaly, "jump back not reported");
  for (int i = 0; i < 5; i++) CHECK(out[i] >= n0 && out[i] <= n0 + 10 * ms, "record %d outside the packet", i);

  /* Stall: the counter stands still for 10 ms of monotonic time. */
  for (int i = 0; i < 5; i++) cyc[i] = c0;
  map_packet(c0, n0, c0, n0 + 10 * ms, cyc, 5, 0, out, &anomaly, &held);
  CHECK(anomaly, "stall not reported");

  /* A jump inside the packet that comes back before it closes: the pairs agree,
   * one record is far off; it is held within the packet and counted. */
  for (int i = 0; i < 5; i++) cyc[i] = c0 + (uint64_t)i * cms + (i == 2 ? 5000 * cms : 0);
  map_packet(c0, n0, c0 + 10 * cms, n0 + 10 * ms, cyc, 5, 0, out, &anomaly, &held);
  CHECK(!anomaly && held == 1, "one record off: anomaly %d held %u", anomaly, held);

  /* No usable closing pair (older than the opening): bounded below only. */
  for (int i = 0; i < 5; i++) cyc[i] = c0 + (uint64_t)i * cms;
  map_packet(c0, n0, 0, 0, cyc, 5, 0, out, &anomaly, &held);
  CHECK(anomaly && out[0] >= n0, "missing closing pair: anomaly %d", anomaly);
}

/* The real path: a producer's cycle reads offset mid-stream (test hook), the
 * consumer's packets mapped; times ordered, anomalies reported. */
static void test_session_jumps(void) {
  char name[64], err[256];
  test_session_name(name, sizeof name, "clockmap");
  struct rt_session_options o = {.sub_size = 4096, .n_sub = 64, .clock_kind = RT_CLOCK_CYCLES};
  struct rt_session *s;
  if (rt_session_create(name, &o, &s, err, sizeof err)) {
    printf("# skipped: no cycle clock here (%s)\n", err);
    return;
  }
  rt_session_unlink(name, err, sizeof err);
  pin_cpu(0);
  uint64_t freq = s->hdr->clock_freq_hz;
  uint8_t payload[24] = {0};
  /* 4 phases of 150 records (40 bytes: ~1.5 sub-buffers each), 2 ms apart in
   * the middle so a jump lands between a packet's pairs: normal, +10 s,
   * -20 s (before where it started), stalled. */
  for (int phase = 0; phase < 4; phase++) {
    if (phase == 1) rt_test_cycles_offset = (int64_t)(10 * freq);
    if (phase == 2) rt_test_cycles_offset = -(int64_t)(10 * freq);
    for (int i = 0; i < 150; i++) {
      if (phase == 3) rt_test_cycles_offset = -(int64_t)rt_arch_cycles() + (int64_t)(1000 * freq);
      CHECK(rt_emit(s, 1, payload, sizeof payload) == RT_RESERVED, "emit");
      if (i == 75) {
        struct timespec pause = {0, 2000000};
        nanosleep(&pause, NULL);
      }
    }
  }
  rt_test_cycles_offset = 0;
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  static uint8_t out[4096 + RT_PACKET_HEADER_SIZE];
  uint8_t known[1] = {0x02};
  uint64_t prev = 0, records = 0;
  unsigned anomalies = 0, held = 0;
  struct rt_chunk ch;
  for (uint32_t ring = 0; ring < s->n_rings; ring++) {
    while (rt_consumer_next(&c, ring, &ch, 1) == 1) {
      struct rt_clock_map m;
      rt_clock_map_chunk(&m, &ch, freq, prev);
      struct rt_packet_info pi;
      REQUIRE(rt_packet_build(&ch, known, 8, 0, 0, prev, &m, out, &pi, err, sizeof err) == 0, "%s", err);
      anomalies += (unsigned)m.anomaly;
      held += m.held;
      for (uint32_t pos = RT_PACKET_HEADER_SIZE; pos + RT_EVENT_HEADER_SIZE <= pi.size;) {
        struct rt_event_header ev;
        memcpy(&ev, out + pos, sizeof ev);
        CHECK(ev.timestamp >= prev, "record %llu goes back: %llu < %llu", (unsigned long long)records,
              (unsigned long long)ev.timestamp, (unsigned long long)prev);
        prev = ev.timestamp;
        records++;
        pos += rt_record_stride(ev.size);
      }
      int complete = ch.complete;
      rt_consumer_done(&c, &ch);
      if (!complete) break;
    }
  }
  printf("# %llu records, %u packets with a clock anomaly, %u records held\n", (unsigned long long)records,
         anomalies, held);
  CHECK(records == 600, "%llu records read", (unsigned long long)records);
  CHECK(anomalies >= 3, "the jumps and the stall should be reported: %u anomalies", anomalies);
  rt_consumer_fini(&c);
  rt_session_close(s);
}

int main(void) {
  RUN(test_drift_bounded);
  RUN(test_anomalies);
  RUN(test_session_jumps);
  return CHECK_EXIT();
}
