/* Consumer side: turn a chunk of a ring into one self-contained CTF packet
 * (packet header + context, then the chunk's records), for trace files. The
 * ring's own header is copied and patched (content/packet size, timestamps,
 * sequence number, discarded events); records of classes the consumer cannot
 * describe are dropped and counted, never written undescribed; with a clock
 * map, cycle timestamps become nanoseconds. */
#ifndef RINGTRACE_RING_PACKET_H
#define RINGTRACE_RING_PACKET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "clock_map.h"
#include "consumer.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rt_packet_info {
  uint32_t size;            /* bytes written to out (header + kept records) */
  uint32_t records;         /* records kept */
  uint32_t dropped;         /* records of unknown classes left out */
  uint32_t max_unknown_id;  /* largest unknown class id seen (0: none) */
  uint32_t holes;           /* dead writers' records (RT_HOLE_ID) left out; counted lost by the salvage */
  uint64_t first_ts, last_ts;
  struct rt_packet_header header; /* the packet's header, also when out is NULL */
};

/* Build the packet for `ch` into out (capacity >= RT_PACKET_HEADER_SIZE +
 * ch->end - ch->begin). With out == NULL only the header is built (in info):
 * if there is no map and info->dropped == 0 and info->holes == 0, the packet
 * is that header followed by ch's bytes
 * [begin, end) as they are (the consumer writes them straight from the ring);
 * otherwise call again with a buffer. map: NULL for timestamps kept as they
 * are, else each record's is mapped (and the header's are the mapped first
 * and last); first_ts/last_ts are then known only after the copying call. known[id >> 3] & (1 << (id & 7)) says a class id is
 * described (ids >= known_bits are unknown). seq: the stream's packet number;
 * discarded: cumulative events lost on this ring so far; prev_end: the previous
 * packet's timestamp_end (a packet without records starts and ends there).
 * Returns 0, or -1 with a message in err if a record is malformed. */
int rt_packet_build(const struct rt_chunk *ch, const uint8_t *known, uint32_t known_bits,
                    uint64_t seq, uint64_t discarded, uint64_t prev_end, struct rt_clock_map *map, uint8_t *out,
                    struct rt_packet_info *info, char *err, size_t errlen);

/* Append a packet (iov[0..n)) to the trace file fd, whole or not at all: on
 * a failed or short write the file is cut back to where it ended, so it never
 * ends in half a packet (readers would take the cut for damage). Returns 0,
 * or -1 with "cannot write trace file: <reason>" in err (callers match that
 * prefix to tell an output error from a damaged ring). iov may be changed. */
int rt_packet_append(int fd, struct iovec *iov, int n, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
