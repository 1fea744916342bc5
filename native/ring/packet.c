/* See packet.h. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "packet.h"

int rt_packet_build(const struct rt_chunk *ch, const uint8_t *known, uint32_t known_bits,
                    uint64_t seq, uint64_t discarded, uint64_t prev_end, struct rt_clock_map *map, uint8_t *out,
                    struct rt_packet_info *info, char *err, size_t errlen) {
  memset(info, 0, sizeof *info);
  /* content ends where the last record's bytes end; its alignment padding is
   * outside it (readers would otherwise look for one more event there). */
  uint32_t w = RT_PACKET_HEADER_SIZE, content = RT_PACKET_HEADER_SIZE, pos = ch->begin;
  struct rt_event_header ev;
  const uint8_t *payload;
  int r;
  /* First pass: validate, and see whether every class is known (the usual
   * case: then the records are copied in one piece). */
  int all_known = 1;
  uint32_t last_pos = 0;
  while ((r = rt_chunk_next_record(ch, &pos, &ev, &payload, err, errlen)) == 1) {
    uint32_t id = ev.id;
    if (id == RT_HOLE_ID) { /* a dead writer's record: left out, already counted lost */
      all_known = 0;
      info->holes++;
      continue;
    }
    if (id >= known_bits || !(known[id >> 3] & (1u << (id & 7)))) {
      all_known = 0;
      info->dropped++;
      if (id > info->max_unknown_id) info->max_unknown_id = id;
      continue;
    }
    if (!info->records++) info->first_ts = ev.timestamp;
    info->last_ts = ev.timestamp;
    last_pos = (uint32_t)(payload - ch->sub) - RT_EVENT_HEADER_SIZE;
    content = last_pos + ev.size; /* relative to the chunk's sub-buffer for now */
  }
  if (r < 0) return -1;
  if (!out && (!all_known || map)) return 0; /* the caller needs the copying form */
  if (all_known && !map) {
    if (out) memcpy(out + w, ch->sub + ch->begin, ch->end - ch->begin);
    w += ch->end - ch->begin;
    content = info->records ? RT_PACKET_HEADER_SIZE + (content - ch->begin) : RT_PACKET_HEADER_SIZE;
  } else {
    /* Copy the described records; with a clock map, their times become
     * nanoseconds (clock_map.h). */
    content = RT_PACKET_HEADER_SIZE;
    for (pos = ch->begin; rt_chunk_next_record(ch, &pos, &ev, &payload, err, errlen) == 1;) {
      uint32_t id = ev.id;
      if (id >= known_bits || !(known[id >> 3] & (1u << (id & 7)))) continue;
      uint32_t stride = rt_record_stride(ev.size);
      memcpy(out + w, payload - RT_EVENT_HEADER_SIZE, stride); /* validated in the first pass */
      if (map) {
        ev.timestamp = rt_clock_map_ns(map, ev.timestamp);
        memcpy(out + w + offsetof(struct rt_event_header, timestamp), &ev.timestamp, sizeof ev.timestamp);
        if (content == RT_PACKET_HEADER_SIZE) info->first_ts = ev.timestamp;
        info->last_ts = ev.timestamp;
      }
      content = w + ev.size;
      w += stride;
    }
  }
  /* The header: the ring's (magic, uuid, stream ids, cpu, ring kind), patched. */
  struct rt_packet_header ph;
  memcpy(&ph, ch->sub, sizeof ph); /* a private copy of shared memory */
  ph.timestamp_begin = info->records ? info->first_ts : prev_end;
  ph.timestamp_end = info->records ? info->last_ts : prev_end;
  ph.content_size = (uint64_t)content * 8;
  ph.packet_size = (uint64_t)w * 8;
  ph.packet_seq_num = seq;
  ph.events_discarded = discarded;
  info->header = ph;
  if (out) memcpy(out, &ph, sizeof ph);
  info->size = w;
  return 0;
}

int rt_packet_append(int fd, struct iovec *iov, int n, char *err, size_t errlen) {
  off_t start = lseek(fd, 0, SEEK_END);
  if (start < 0) {
    snprintf(err, errlen, "cannot write trace file: %s", strerror(errno));
    return -1;
  }
  while (n > 0) {
    ssize_t w = writev(fd, iov, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      snprintf(err, errlen, "cannot write trace file: %s", w < 0 ? strerror(errno) : "wrote nothing");
      if (ftruncate(fd, start)) { /* the error above is what matters */
      }
      return -1;
    }
    while (n > 0 && (size_t)w >= iov->iov_len) { /* whole pieces written */
      w -= (ssize_t)iov->iov_len;
      iov++;
      n--;
    }
    if (n > 0) { /* part of one: the rest of it next round */
      iov->iov_base = (uint8_t *)iov->iov_base + w;
      iov->iov_len -= (size_t)w;
    }
  }
  return 0;
}
