/* Who holds a reservation: each thread that writes into a session takes a slot
 * of the session's writer table (layout.h) holding its identity (pid, tid,
 * thread start time, pid namespace), and claims there, before reserving, the
 * reservation it is about to make (ring, write offset); the commit gives the
 * claim back. The consumer attributes a blocked sub-buffer's missing commits
 * to the slots that claim reservations in it, and salvages them only if every
 * such thread is dead (salvage.c).
 *
 * A thread's handle on its slot is a struct rt_writer. Whoever owns a thread's
 * attach (the addon's producer state, a C API's per-thread context) embeds one
 * and calls rt_writer_attach / rt_writer_detach; a thread that emits without
 * attaching gets one made on its first emit (implicit writer). */
#ifndef RINGTRACE_RING_WRITERS_H
#define RINGTRACE_RING_WRITERS_H

#include <stdint.h>
#include "layout.h"
#include "session.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rt_writer {
  struct rt_claim *claim;       /* the fast path writes here: &slot->claim, or &own */
  uint64_t key;                 /* s->writer_key while `claim` is valid in this process; 0: claim again */
  const struct rt_session *s;   /* the session written into */
  uint64_t session_key;         /* s->writer_key at attach (unlike key, kept by a forked child) */
  struct rt_writer_slot *slot;  /* NULL: no slot (table full, or the thread's identity unreadable) */
  struct rt_claim own;          /* the claims of a writer without a slot */
};

/* The calling thread's writer (never NULL: a placeholder whose key matches no
 * session until the thread first writes). initial-exec: one %fs-relative load. */
extern __thread struct rt_writer *rt_thread_writer __attribute__((tls_model("initial-exec")));

/* Make `w` the calling thread's writer of `s`, with this thread's slot of `s`
 * (the one it already has, else a free one, else one whose thread is dead).
 * Returns 0, or 1 when no slot could be had (the thread writes anyway; the
 * consumer cannot salvage what it holds). */
int rt_writer_attach(struct rt_writer *w, const struct rt_session *s);
/* The calling thread stops using `w`. Touches no shared memory (safe after the
 * session was closed): the slot stays the thread's, reused if it attaches
 * again, and is taken by another thread once this one is dead. */
void rt_writer_detach(struct rt_writer *w);
/* Slow path of rt_reserve: the calling thread's writer for `s`, after a fork,
 * a first write, or a write into another session than its writer's. */
struct rt_writer *rt_writer_for(const struct rt_session *s);

/* The calling thread's event loop turned at `now_ns` (CLOCK_MONOTONIC; 0:
 * no longer tracked): stored in the slot of w, its writer, if it has one.
 * A recorder outside the process sees a stalled loop by the beat's age. */
void rt_writer_heartbeat(const struct rt_writer *w, uint64_t now_ns);

/* ---- consumer side ---- */

enum rt_liveness { RT_WRITER_ALIVE = 0, RT_WRITER_DEAD = 1, RT_WRITER_UNKNOWN = 2 };
/* Is the thread (pid, tid, start time, pid namespace) still running or able
 * to run? Dead: no such thread, another thread under that tid (start time
 * differs), or a zombie. Unknown: another pid namespace, or /proc unreadable. */
enum rt_liveness rt_writer_liveness(uint32_t pid, uint32_t tid, uint64_t start_time, uint64_t pid_ns);

enum rt_holders_verdict {
  RT_HOLDERS_DEAD = 0,    /* every thread that may hold a reservation there is dead */
  RT_HOLDERS_LIVE = 1,    /* a live thread may hold one: wait for it */
  RT_HOLDERS_UNKNOWN = 2, /* cannot tell (writers without slot, another pid namespace...) */
  RT_HOLDERS_DAMAGED = 3, /* a slot holds values no writer writes */
};
struct rt_holders {
  int verdict;
  uint32_t dead;      /* dead threads found claiming a reservation there */
  uint32_t pid, tid;  /* LIVE/UNKNOWN: the thread in question; DEAD: one of the dead */
  char why[192];      /* for every verdict but DEAD */
};
/* Who may hold the uncommitted reservations of `ring` that began at write
 * offsets in [from, to). */
void rt_writers_holding(const struct rt_session *s, uint32_t ring, uint64_t from, uint64_t to,
                        struct rt_holders *out);

/* The heartbeats in the table at `now_ns` (CLOCK_MONOTONIC): slots owned
 * (consistently read), with a beat not after now, whose thread is not known
 * to be dead. Writes at most `max` into out; returns how many. With
 * `with_dead`, also the beats of threads known to be dead (dead = 1): a
 * thread that exits normally clears its beat first, so a dead thread with a
 * beat ended without exiting (a signal, a crash). */
struct rt_heartbeat {
  uint32_t pid, tid; /* in the writer's pid namespace */
  uint64_t ns;       /* its last beat */
  uint32_t dead;     /* 1: the thread is known to be dead */
};
uint32_t rt_writers_heartbeats(const struct rt_session *s, uint64_t now_ns, struct rt_heartbeat *out, uint32_t max,
                               int with_dead);

#ifdef __cplusplus
}
#endif
#endif
