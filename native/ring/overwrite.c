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
  uint32_t end = (uint32_t)(ph.content_size / 8), p = RT_PACKET_HEADER_SIZE;
  uint64_t n = 0, b = 0;
  while (end - p >= RT_EVENT_HEADER_SIZE) {
    struct rt_event_header ev;
    memcpy(&ev, sub + p, sizeof ev);
    uint32_t stride = rt_record_stride(ev.size);
    if (ev.size < RT_EVENT_HEADER_SIZE || stride < ev.size || stride > end - p) break;
    if (ev.id != RT_HOLE_ID) { /* a hole was counted lost when the recorder salvaged it */
      n++;
      b += stride;
    }
    p += stride;
  }
  *records = n;
  *bytes = b;
}
