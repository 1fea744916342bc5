/* Inside the C API (ringtrace.h's library half): the process's attachment to
 * its session and each thread's context. attach.c finds, attaches and retires
 * sessions; emit.c is the path each event takes; describe.c turns a class into
 * its registry description. */
#ifndef RINGTRACE_CAPI_H
#define RINGTRACE_CAPI_H

#include <stddef.h>
#include <stdint.h>
#include "../include/ringtrace.h"
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

/* attach.c. The thread's attachment, after catching up with g_attachment. */
struct rt_attachment *rt_capi_thread_attach(struct rt_thread_ctx *ctx);
/* Stat the session now (unless another thread is doing it) and attach,
 * detach or switch. Never blocks on another thread. */
void rt_capi_recheck(void);
/* Serializes class registration (emit.c). Taken before, never inside, the
 * attachment lock. */
void rt_capi_class_lock(void);
void rt_capi_class_unlock(void);
/* At most one message per process, to stderr. */
void rt_capi_warn_once(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* describe.c. The class's registry description (malloc'd), exactly as the
 * JavaScript API's describe() writes it, or NULL with a message in err. */
char *rt_capi_describe(const struct rt_class *cls, char *err, size_t errlen);

#endif
