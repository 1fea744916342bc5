/* Consumer side of the rings: find complete sub-buffer generations (commit_local
 * + commit_remote == expected), read them, release them; read a consistent
 * complete prefix of the sub-buffer being filled (flush/live) without writing
 * any producer state. Everything read from shared memory is validated. */
#ifndef RINGTRACE_RING_CONSUMER_H
#define RINGTRACE_RING_CONSUMER_H

#include <stddef.h>
#include <stdint.h>
#include "layout.h"
#include "session.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A readable byte range [begin, end) of one sub-buffer. */
struct rt_chunk {
  uint32_t ring;
  uint64_t sub_off;   /* free-running offset of the sub-buffer start */
  const uint8_t *sub; /* sub-buffer start in the mapping */
  uint32_t begin;     /* first unread byte (>= RT_PACKET_HEADER_SIZE) */
  uint32_t end;       /* end of committed content */
  int complete;       /* 1: whole generation done; rt_consumer_done releases it */
  struct rt_clock_pairs clock; /* the sub-buffer's clock pairs, copied with it (cycle sessions) */
};

struct rt_consumer {
  struct rt_session *s;
  char err[512];
};

int rt_consumer_init(struct rt_consumer *c, struct rt_session *s);
void rt_consumer_fini(struct rt_consumer *c);

/* Next chunk of `ring`. allow_partial: also hand out a consistent committed
 * prefix of the sub-buffer being filled. Returns 1 (chunk), 0 (nothing now), or
 * -1 (corrupt shared state, or a session in overwrite mode, which is read with
 * snapshots (snapshot.h); message in c->err, nothing consumed). */
int rt_consumer_next(struct rt_consumer *c, uint32_t ring, struct rt_chunk *out,
                     int allow_partial);
/* A closed sub-buffer at the read position of `ring` whose commits are
 * incomplete: 1 with its offset and committed byte count (free-running, as
 * the counters), 0 if the ring is not blocked that way. Callers watch it: the
 * same (offset, committed) for long, with a writer known dead, is a record
 * that will never be committed.
 * Overwrite mode (nothing is consumed): this and rt_consumer_salvage first
 * move the read position to the oldest sub-buffer that may still miss
 * commits (salvage.c), so they find a sub-buffer a dead writer left
 * incomplete, which would make every writer of the ring drop one lap later. */
int rt_consumer_blocked(struct rt_consumer *c, uint32_t ring, uint64_t *sub_off,
                        uint64_t *committed);

struct rt_salvage {
  uint64_t sub_off;
  uint32_t hole_at;    /* offset in the sub-buffer of the unsealed record, 0 if none */
  uint32_t hole_bytes; /* its stride, now a RT_HOLE_ID record */
  uint64_t completed;  /* bytes added to commit_remote */
  uint32_t dead_writers; /* dead threads that held reservations there */
  uint32_t pid, tid;     /* RT_SALVAGED, _ABANDONED: one of them; _HELD: the holder waited for (0 if unknown) */
  uint64_t records_lost; /* RT_SALVAGE_ABANDONED: records not delivered, counted lost */
  int lost_exact;        /* 0: records_lost is a lower bound (damage hid the rest) */
  int released;          /* 1: the sub-buffer was released; 0: open, only counted (ending) */
};

enum rt_salvage_result {
  RT_SALVAGE_ERROR = -1,  /* cannot be done safely (damage, several unsealed records...): c->err */
  RT_SALVAGE_NOTHING = 0, /* not blocked, or the counters moved meanwhile: look again later */
  RT_SALVAGED = 1,        /* completed: the ring delivers again (*out) */
  RT_SALVAGE_WAIT = 2,    /* not now: a live thread holds it, who does cannot be known, or it can only be
                           * abandoned and is still open (c->err says which) */
  RT_SALVAGE_ABANDONED = 3, /* could not be repaired, dead holders only: skipped and counted (c->err says why) */
};

/* Complete the blocked sub-buffer of `ring` if every reservation it misses
 * commits of belongs to a dead thread: each writer thread claims, in the
 * session's writer table, the reservation it has open (writers.h), so the
 * holders are known; a live one (running, stopped, descheduled) is waited
 * for, however long. The dead record is found by walking the records: a
 * sealed header (rt_commit) has a timestamp within the packet's [begin, end]
 * and not before the previous record's; an unsealed one still holds an older
 * lap's bytes. It becomes a RT_HOLE_ID record counted as one lost event; a
 * record sealed but not committed is kept (it is whole). Decided on one
 * consistent snapshot of the offsets and counters (salvage.c), and done only
 * if the counters did not move since.
 * A sub-buffer that cannot be repaired so (a packet header never written,
 * several unsealed records, damage) but is held only by dead threads is
 * abandoned rather than left to block the ring: once closed, it is completed,
 * released and its records counted lost (RT_SALVAGE_ABANDONED, c->err names
 * the ring, offset and count). Still open, it may be filled and closed by
 * others later; `ending` (the consumer stops for good) counts it lost now.
 * Returns a rt_salvage_result. */
int rt_consumer_salvage(struct rt_consumer *c, uint32_t ring, int ending, struct rt_salvage *out);

/* Mark a chunk read; a complete one releases its sub-buffer to producers. */
void rt_consumer_done(struct rt_consumer *c, const struct rt_chunk *ch);

/* Walk records of a chunk. *pos starts at ch->begin. Returns 1 with a private
 * copy of the header and a payload pointer, 0 at the end, -1 if a record is
 * malformed (message in err, naming the offset). */
int rt_chunk_next_record(const struct rt_chunk *ch, uint32_t *pos, struct rt_event_header *ev,
                         const uint8_t **payload, char *err, size_t errlen);

/* Counters of a ring, summed from their local and remote halves. */
struct rt_ring_stats {
  uint64_t write_off, consumed_off, lost, remote_commits, rseq_aborts, cpu_mismatches;
  uint64_t overwritten_records, overwritten_bytes; /* overwrite mode: what writers moved on over */
};
void rt_ring_stats_read(const struct rt_session *s, uint32_t ring, struct rt_ring_stats *out);

#ifdef __cplusplus
}
#endif
#endif
