/* Reading an overwrite-mode (flight recorder) session without consuming it:
 * producers never wait for this reader and may overwrite what it reads, so it
 * copies a sub-buffer first, then checks that no writer entered the
 * sub-buffer's next lap during the copy, and drops the copy (counted) if one
 * did. Nothing here writes shared memory. (It reads a discard-mode session
 * the same way, without disturbing its consumer.) */
#ifndef RINGTRACE_RING_SNAPSHOT_H
#define RINGTRACE_RING_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include "consumer.h"
#include "session.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most recent data of one ring: private copies of its complete
 * sub-buffers and the committed prefix of the one being filled, oldest
 * first, forming a contiguous run of what was written to the ring that ends
 * at the newest data read consistently: a sub-buffer that could not be read
 * whole (torn, open, damaged) leaves out everything older than it, so there
 * is never a gap inside the run. Each chunk starts at its packet header
 * (ch->sub, in buf) with begin = RT_PACKET_HEADER_SIZE, so rt_packet_build
 * turns it into a CTF packet as it does a consumed chunk. */
struct rt_snapshot_ring {
  uint32_t ring;
  uint32_t n_chunks;
  struct rt_chunk *chunks; /* n_chunks, oldest first, each pointing into buf */
  uint8_t *buf;            /* the copies (ring_size bytes) */
  uint64_t buf_size;       /* bytes mapped at buf (rt_snapshot_ring_free needs it) */
  uint64_t torn;           /* sub-buffers overwritten while copied: dropped */
  uint64_t open_skipped;   /* sub-buffers with a reservation not committed (a writer inside, alive or
                            * dead): the run starts after the newest such closed one; the one being
                            * filled is then left out at the end */
  /* Complete sub-buffers whose packet header is not valid (a dead opener's
   * sub-buffer the recorder abandoned, or damage): the run starts after the
   * newest. (Not in the first version of this API: such a sub-buffer is
   * neither torn nor open.) */
  uint64_t damaged;
  uint64_t lost, overwritten_records, overwritten_bytes; /* ring counters, read after the copy */
};

/* Take ring `ring`'s snapshot into *out (allocated here; free it with
 * rt_snapshot_ring_free, also after an error). Returns 0, or -1 with a
 * message in err (out of memory, no such ring). */
int rt_snapshot_ring_take(const struct rt_session *s, uint32_t ring, struct rt_snapshot_ring *out,
                          char *err, size_t errlen);
void rt_snapshot_ring_free(struct rt_snapshot_ring *out);

/* Follow a ring as data arrives, without consuming it (the flight recorder's
 * triggers). *pos is the free-running offset after the last record handed
 * out (start at 0). Copies into buf (sub_size bytes) the records committed
 * after *pos in one sub-buffer and describes them in *out (ch->sub is buf);
 * advances *pos past them. If writers overwrote *pos meanwhile, it skips to
 * the oldest sub-buffer still whole and adds the bytes skipped to *skipped.
 * Returns 1 (a chunk), 0 (nothing new), -1 (damage: message in err; a closed
 * sub-buffer with a bad packet header is skipped, its bytes added to
 * *skipped, so the next call goes on after it). */
int rt_peek_next(const struct rt_session *s, uint32_t ring, uint64_t *pos, uint8_t *buf,
                 struct rt_chunk *out, uint64_t *skipped, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
