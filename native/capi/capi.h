/* Inside the C API (ringtrace.h's library half): the process's attachment to
 * its session and each thread's context. attach.c finds, attaches and retires
 * sessions; emit.c is the path each event takes; describe.c turns a class into
 * its registry description; snapshot_request.c asks a flight recorder for a
 * snapshot. */
#ifndef RINGTRACE_CAPI_H
#define RINGTRACE_CAPI_H

#include <stddef.h>
#include <stdint.h>
#include "../include/ringtrace.h"
#include "selection.h"
#include "session.h"

/* How often a process checks that its session still exists (attached) or has
 * appeared (detached): one stat() per period, on the emitting thread whose
 * event finds the period over. */
#define RT_CAPI_RECHECK_MS 100u

/* One attachment of this process to a session, or the "none" attachment
 * (s == NULL) while there is no session. Published in g_attachment; once
 * replaced it is retired: its mapping becomes anonymous memory at once (a
 * thread still writing there cannot fault) and the handle is freed when no
 * thread context points to it any more. */
struct rt_attachment {
  struct rt_session *s;
  uint32_t serial;      /* unique in this process (never 0 for a session) */
  uint64_t ino;         /* of /dev/shm/ringtrace-<uid>-<name> when attached */
  uint64_t recheck_at;  /* session clock: when an emitter next checks the session */
  uint64_t recheck_ticks;
  struct rt_attachment *next_retired;
  /* The selection (select.c), under the attachment lock: */
  struct rt_selection *sel; /* NULL: everything */
  uint32_t sel_gen;         /* the generation whose file `sel` is (or was refused) */
  /* A second, read-only mapping of the session's first page, for
   * rt__selection_gen: it becomes anonymous memory when retired, but is never
   * unmapped, since a thread may still be about to read through the pointer. */
  void *gen_page;
  int published;            /* rt__selection_gen points into gen_page */
};

/* Per-thread state, in one place: the attachment this thread writes into and
 * the record context. `att` is this thread's hazard: an attachment is freed
 * only when no context in the thread list points to it. */
struct rt_thread_ctx {
  struct rt_attachment *att; /* NULL until the first event, and after fork */
  uint64_t context;          /* pid | tid << 32: the first 8 bytes of each record */
  uint32_t logged_serial;    /* this thread is in the process log of this attachment */
  int listed;                /* in the thread list (g_threads) */
  struct rt_thread_ctx *prev, *next;
};

extern struct rt_attachment *g_attachment;
extern __thread struct rt_thread_ctx rt_capi_thread;
extern int rt__active; /* 1: a session is attached; 0: none (yet); -1: tracing is off */

/* attach.c. The thread's attachment, after catching up with g_attachment. */
struct rt_attachment *rt_capi_thread_attach(struct rt_thread_ctx *ctx);
/* Stat the session now (unless another thread is doing it) and attach,
 * detach or switch. Never blocks on another thread. */
void rt_capi_recheck(void);
/* The same, with the attachment lock held. */
void rt_capi_recheck_locked(void);
/* The attachment lock: g_attachment's changes, the thread list, each
 * attachment's selection. */
void rt_capi_lock(void);
void rt_capi_unlock(void);
/* Serializes class state changes (select.c). Taken before, never inside, the
 * attachment lock. */
void rt_capi_class_lock(void);
void rt_capi_class_unlock(void);
/* At most one message per process, to stderr. */
void rt_capi_warn_once(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* select.c. Words rt__selection_gen points to when no session's selection
 * applies: no class state is ever stored with RT_KEY_NONE's value (so each
 * event looks for a session); with tracing off, every class's state comes to
 * hold RT_KEY_OFF. A session's generation in this range is never cached. */
#define RT_KEY_OFF 0xFFFFFFFDu
#define RT_KEY_NONE 0xFFFFFFFEu
extern const uint32_t rt_capi_key_none, rt_capi_key_off;
/* Map the page rt__selection_gen points to, from the session object at
 * shm_path, then read the selection (at attach, attachment lock held). -1 if
 * the page cannot be mapped or the object there is no longer a->s. */
int rt_capi_selection_attach(struct rt_attachment *a, const char *shm_path);
/* A retired attachment's page: anonymous zero memory from now on. */
void rt_capi_selection_retire(struct rt_attachment *a);
/* Point rt__selection_gen at the attachment's generation, after making every
 * class state stale (they may hold another session's generation numbers). */
void rt_capi_selection_publish(struct rt_attachment *a);
/* Decide whether `cls` is recorded in `a` under the selection in force
 * (reading a new selection file first if the generation moved), register it
 * if so, and cache the decision in cls->state. Returns the state (its low
 * half: the class id, 0 if not recorded). Takes the class lock. */
uint64_t rt_capi_class_state(struct rt_class *cls, struct rt_attachment *a);

/* describe.c. The class's registry description (malloc'd), exactly as the
 * JavaScript API's describe() writes it, or NULL with a message in err. */
char *rt_capi_describe(const struct rt_class *cls, char *err, size_t errlen);

/* snapshot_request.c. The library's own classes (provider "ringtrace",
 * which describe.c refuses to every other class). */
int rt_capi_own_class(const struct rt_class *cls);

#endif
