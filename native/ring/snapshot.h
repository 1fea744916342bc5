/* Reading an overwrite-mode (flight recorder) session without consuming it:
 * producers never wait for this reader and may overwrite what it reads, so it
 * copies a sub-buffer first, then checks that no writer entered the
 * sub-buffer's next lap during the copy, and drops the copy (counted) if one
 * did. Nothing here writes shared memory. */
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
 * first, forming a contiguous suffix of what was written to the ring. */
struct rt_snapshot_ring {
  uint32_t ring;
  uint32_t n_chunks;
  struct rt_chunk *chunks; /* n_chunks, oldest first, each pointing into buf */
  uint8_t *buf;            /* the copies (ring_size bytes) */
  uint64_t torn;           /* sub-buffers overwritten while copied: dropped */
  uint64_t open_skipped;   /* sub-buffers with a reservation not committed: the suffix starts after the newest */
  uint64_t lost, overwritten_records, overwritten_bytes; /* ring counters, read after the copy */
};

/* Take ring `ring`'s snapshot into *out (allocated here; free it with
 * rt_snapshot_ring_free, also after an error). Returns 0, or -1 with a
 * message in err (out of memory, damaged shared state). */
int rt_snapshot_ring_take(const struct rt_session *s, uint32_t ring, struct rt_snapshot_ring *out,
                          char *err, size_t errlen);
void rt_snapshot_ring_free(struct rt_snapshot_ring *out);

/* Follow a ring as data arrives, without consuming it (the flight recorder's
 * triggers). *pos is the free-running offset after the last record handed
 * out (start at 0). Copies into buf (sub_size bytes) the records committed
 * after *pos in one sub-buffer and describes them in *out (ch->sub is buf);
 * advances *pos past them. If writers overwrote *pos meanwhile, it skips to
 * the oldest sub-buffer still whole and adds the bytes skipped to *skipped.
 * Returns 1 (a chunk), 0 (nothing new), -1 (damage: message in err). */
int rt_peek_next(const struct rt_session *s, uint32_t ring, uint64_t *pos, uint8_t *buf,
                 struct rt_chunk *out, uint64_t *skipped, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
