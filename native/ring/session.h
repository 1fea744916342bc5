/* A process's handle on a session: validated copies of the header's geometry
 * (the fast path never re-reads sizes from shared memory) and pointers into the
 * mapping. Create/open/close live in session.c. Treat the fields as read-only. */
#ifndef RINGTRACE_RING_SESSION_H
#define RINGTRACE_RING_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include "layout.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Per-ring pointers, precomputed so the fast path does no multiplications. */
struct rt_ring_view {
  uint8_t *data;           /* the ring's first sub-buffer */
  struct rt_sub_ctl *subs; /* its n_sub commit counter pairs */
};

struct rt_session {
  struct rt_session_header *hdr; /* start of the mapping */
  struct rt_ring_view *views;    /* n_rings, allocated with the handle */
  size_t map_size;
  struct rt_ring_ctl *rings; /* n_rings */
  struct rt_sub_ctl *subs;   /* n_rings * n_sub */
  struct rt_writer_table *writers; /* n_writer_slots slots */
  uint8_t *data;             /* n_rings * ring_size */
  uint32_t n_cpus, n_rings, n_sub, sub_shift, sub_index_mask /* n_sub - 1 */;
  uint64_t sub_size, sub_mask, ring_size, ring_mask;
  /* How far write_off may run ahead of consumed_off before the ring is full:
   * ring_size in discard mode; UINT64_MAX in overwrite mode, where nothing
   * waits for a consumer, so the fast path's check (the same compare in both
   * modes) never drops there. */
  uint64_t full_limit;
  uint32_t mode; /* enum rt_ring_mode, the validated copy of the header's */
  uint32_t max_payload; /* largest payload one record can carry */
  uint32_t n_writer_slots;
  /* Unique to this handle in this process (never 0): a thread's writer
   * (writers.h) is valid for the handle whose key it holds. */
  uint64_t writer_key;
  uint32_t clock_kind;
  int use_rseq; /* 1: rseq rings when this thread has rseq; 0: atomic rings only */
  int created;  /* this handle created the object (close does not unlink it) */
  uint8_t uuid[16];
  char name[RT_SESSION_NAME_MAX];
};

/* Session geometry for rt_session_create. Zero fields take the defaults. */
struct rt_session_options {
  uint64_t sub_size; /* default RT_DEFAULT_SUB_SIZE */
  uint32_t n_sub;    /* default RT_DEFAULT_N_SUB */
  uint32_t clock_kind; /* 0 = auto (env RINGTRACE_CLOCK=cycles|monotonic overrides) */
  uint32_t n_writer_slots; /* writer threads the table can tell apart; default RT_DEFAULT_WRITER_SLOTS */
  uint32_t mode; /* enum rt_ring_mode: 0 = RT_MODE_DISCARD (default), RT_MODE_OVERWRITE */
};
#define RT_DEFAULT_SUB_SIZE (512u * 1024u)
#define RT_DEFAULT_N_SUB 8u

/* Each returns 0, or -1 with a message naming the object in err. */
int rt_session_create(const char *name, const struct rt_session_options *opt,
                      struct rt_session **out, char *err, size_t errlen);
int rt_session_open(const char *name, struct rt_session **out, char *err, size_t errlen);
void rt_session_close(struct rt_session *s);
int rt_session_unlink(const char *name, char *err, size_t errlen);
/* Writes "/ringtrace-<uid>-<name>" (the shm_open name); -1 if the name is invalid. */
int rt_session_shm_name(const char *name, char *out, size_t outlen, char *err, size_t errlen);
/* Validate a header as read from shared memory, against the object's size. */
int rt_session_header_check(const struct rt_session_header *h, uint64_t object_size,
                            const char *what, char *err, size_t errlen);
/* Choose per handle whether producers may use the rseq rings (default: yes when
 * glibc registered rseq). Used by tests and benchmarks to force the fallback. */
void rt_session_set_rseq(struct rt_session *s, int enabled);

static inline uint8_t *rt_ring_data(const struct rt_session *s, uint32_t ring) {
  return s->views[ring].data;
}
/* Commit counters of the sub-buffer holding free-running offset `off`. */
static inline struct rt_sub_ctl *rt_sub_ctl_at(const struct rt_session *s, uint32_t ring,
                                               uint64_t off) {
  return &s->views[ring].subs[(off >> s->sub_shift) & s->sub_index_mask];
}

/* A sub-buffer's clock pairs as they are now (layout.h): relaxed loads, each
 * field whole; callers read them after acquiring the commits that publish
 * them (a closing pair still being written is caught by its check, clock_map.h). */
static inline struct rt_clock_pairs rt_clock_pairs_load(const struct rt_sub_ctl *sc) {
  struct rt_clock_pairs p;
  p.open_cycles = __atomic_load_n(&sc->clock.open_cycles, __ATOMIC_RELAXED);
  p.open_ns = __atomic_load_n(&sc->clock.open_ns, __ATOMIC_RELAXED);
  p.close_cycles = __atomic_load_n(&sc->clock.close_cycles, __ATOMIC_RELAXED);
  p.close_ns = __atomic_load_n(&sc->clock.close_ns, __ATOMIC_RELAXED);
  return p;
}

#ifdef __cplusplus
}
#endif
#endif
