/* Overwrite mode, the writer's side (see producer.h): a reservation that opens
 * a sub-buffer in a later lap may move on into it only if that sub-buffer's
 * previous lap is completely committed, and counts exactly what it overwrites.
 * Only the opening reservation does this: nobody can enter a sub-buffer before
 * its opening reservation succeeds, so the lap it checks and walks cannot
 * change under it unless another writer opened the sub-buffer first, which
 * makes its own reserving store (rseq compare or CAS on write_off) fail, and
 * the count is discarded with the attempt. Reads only; no waiting. */
#include <string.h>
#include "producer.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "rt_lap_count reads a record's (id, size) as one little-endian word"
#endif

int rt_overwrite_prepare(const struct rt_session *s, uint32_t ring, struct rt_plan *p) {
  uint64_t sub_start = p->record - RT_PACKET_HEADER_SIZE;
  if (sub_start < s->ring_size) return 0; /* the first lap overwrites nothing */
  struct rt_sub_ctl *sc = rt_sub_ctl_at(s, ring, sub_start);
  /* The lap before ours is lap (sub_start / ring_size) - 1; it is complete
   * when the counters (free-running across laps) reach lap * sub_size. */
  uint64_t want = (sub_start >> __builtin_ctzll(s->ring_size)) << s->sub_shift;
  /* Acquire, pairing with every commit's release (rseq add: plain on x86-64,
   * stlr on aarch64; atomic add): the bytes those commits cover (records,
   * packet header) are visible to the walk below. */
  uint64_t sum = __atomic_load_n(&sc->commit_local, __ATOMIC_ACQUIRE) +
                 __atomic_load_n(&sc->commit_remote, __ATOMIC_ACQUIRE);
  /* Short: a writer is still inside the previous lap (or died there; the
   * recorder's salvage completes it once that writer is known dead). */
  if (sum < want) return -1;
  /* Past it: our offset is stale, someone opened this lap already; the
   * reserving store will fail and we plan again. Nothing to count. */
  if (sum > want) return 0;
  rt_lap_count(s, ring, sub_start - s->ring_size, &p->over_records, &p->over_bytes);
  return 0;
}

void rt_lap_count(const struct rt_session *s, uint32_t ring, uint64_t sub_off, uint64_t *records,
                  uint64_t *bytes) {
  const uint8_t *sub = rt_ring_data(s, ring) + (sub_off & s->ring_mask);
  struct rt_packet_header ph;
  memcpy(&ph, sub, sizeof ph); /* a private copy: validate what we use */
  *records = *bytes = 0;
  /* A header never written (its opener died before writing it; the recorder
   * abandoned the sub-buffer and counted its records lost) or damaged: the
   * records cannot be found, and are not counted again. */
  if (ph.magic != RT_PACKET_MAGIC || ph.packet_seq_num != sub_off >> s->sub_shift ||
      ph.stream_instance_id != ring || ph.packet_size != s->sub_size * 8 ||
      ph.content_size % (8 * RT_RECORD_ALIGN) || ph.content_size / 8 < RT_PACKET_HEADER_SIZE ||
      ph.content_size / 8 > s->sub_size)
    return;
  const uint8_t *q = sub + RT_PACKET_HEADER_SIZE, *stop = sub + ph.content_size / 8;
  uint64_t n = 0, b = 0;
  while (stop - q >= RT_EVENT_HEADER_SIZE) {
    uint32_t id, size;
    memcpy(&id, q, sizeof id); /* private copies: validate what we use */
    memcpy(&size, q + 4, sizeof size);
    uint32_t stride = rt_record_stride(size);
    if (size < RT_EVENT_HEADER_SIZE || stride < size || stride > stop - q) break;
    /* This record and the run of records of the same stride after it. Each
     * position would otherwise depend on the size read at the one before: a
     * chain of dependent loads, 2.6 ns per 40-byte record measured here (an
     * event costs 11). Within a run the positions are known in advance, so
     * eight headers are checked at once, with independent loads and three
     * instructions each: 0.4 ns per record from the L3 cache, 0.6 to 1.1 from
     * memory, bound by its bandwidth (every cache line of the lap is read);
     * docs/benchmarks.md. A size whose stride is `stride` lies in
     * [stride - 7, stride], so size - (stride - 7) < 8 for all eight exactly
     * when the OR of those differences is < 8 (and, stride >= 24, each size
     * is at least 17). Subtracting in the high half of the 8-byte (id, size)
     * word leaves the id in the low half, where a set top bit in any id could
     * be a hole (RT_HOLE_ID; class ids are small): such a block, or one with
     * another size, is done one record at a time. */
    uint64_t run = 1, holes = id == RT_HOLE_ID; /* a hole was counted lost when the recorder salvaged it */
    q += stride;
    if (stride >= 24) {
      uint64_t lo = (uint64_t)(stride - 7) << 32;
      /* Offsets of the eight headers, so their loads depend on nothing but q. */
      const size_t s1 = stride, s2 = 2 * s1, s3 = 3 * s1, s4 = 4 * s1, s5 = 5 * s1, s6 = 6 * s1, s7 = 7 * s1;
      while (stop - q >= 8 * (int64_t)stride) {
        uint64_t h[8];
        /* Written out: one load, subtract and OR each (a loop here compiled
         * to twice the instructions). Little-endian (x86-64, aarch64 Linux):
         * the class id is the low half of the 8-byte word, the size the high. */
        memcpy(&h[0], q, 8);
        memcpy(&h[1], q + s1, 8);
        memcpy(&h[2], q + s2, 8);
        memcpy(&h[3], q + s3, 8);
        memcpy(&h[4], q + s4, 8);
        memcpy(&h[5], q + s5, 8);
        memcpy(&h[6], q + s6, 8);
        memcpy(&h[7], q + s7, 8);
        uint64_t acc = ((h[0] - lo) | (h[1] - lo) | (h[2] - lo) | (h[3] - lo)) |
                       ((h[4] - lo) | (h[5] - lo) | (h[6] - lo) | (h[7] - lo));
        if ((acc >> 32) >= 8 || (acc & 0x80000000u)) break;
        run += 8;
        q += s4 + s4;
      }
    }
    n += run - holes;
    b += (run - holes) * stride;
  }
  *records = n;
  *bytes = b;
}
