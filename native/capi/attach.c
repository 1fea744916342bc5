/* The C API's session handling, as the JavaScript tracer does it: the session
 * is named by RINGTRACE_SESSION (default "default"; "off" or empty: tracing
 * off); the process attaches when the session exists, whether it appeared
 * before or after the program started, and detaches when it is removed or
 * replaced. There is no timer thread: an emitting thread whose event finds the
 * recheck period over runs one stat() (rt__settle while detached, emit.c while
 * attached; select.c when the selection generation moves). Cold paths only;
 * nothing here runs per event in the steady state.
 *
 * Attachments are published in g_attachment and read without a lock. Each
 * thread's context holds the attachment it writes into (its hazard pointer);
 * a replaced attachment is retired: its mapping is swapped for anonymous
 * memory at once, and the handle is freed once no thread context points to
 * it (a thread switches on its next event, or leaves at thread exit). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "capi.h"
#include "clock.h"
#include "registry.h"

int rt__active; /* 1 while g_attachment has a session, -1 when off: read by rt__settle */
static struct rt_attachment g_none;
struct rt_attachment *g_attachment = &g_none;
__thread struct rt_thread_ctx rt_capi_thread;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER; /* all below, and every change of g_attachment */
static pthread_mutex_t g_class_lock = PTHREAD_MUTEX_INITIALIZER; /* class registration (emit.c) */
static int g_attaching;                /* a thread holds g_lock to open the session that appeared */
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_enabled;                  /* RINGTRACE_SESSION names a session to look for */
static char g_name[RT_SESSION_NAME_MAX];
static char g_path[160];               /* /dev/shm/ringtrace-<uid>-<name> */
static uint64_t g_idle_due;            /* CLOCK_MONOTONIC_COARSE ns: next check while detached */
static uint64_t g_refused_ino;         /* a session that could not be used: not retried until replaced */
static uint32_t g_serial;
static pthread_key_t g_thread_key;     /* its destructor takes an exiting thread off the list */
static int g_threads_tracked;          /* the key exists: retired attachments can be freed */
static struct rt_thread_ctx *g_threads;
static struct rt_attachment *g_retired;
static int g_warned;

#define NS_PER_MS 1000000ull

void rt_capi_lock(void) { pthread_mutex_lock(&g_lock); }
void rt_capi_unlock(void) { pthread_mutex_unlock(&g_lock); }
void rt_capi_class_lock(void) { pthread_mutex_lock(&g_class_lock); }
void rt_capi_class_unlock(void) { pthread_mutex_unlock(&g_class_lock); }

void rt_capi_warn_once(const char *fmt, ...) {
  if (__atomic_exchange_n(&g_warned, 1, __ATOMIC_RELAXED)) return; /* only once-ness matters */
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "ringtrace: %s\n", msg);
}

static uint64_t coarse_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* vDSO: no system call */
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t own_context(void) {
  return (uint64_t)(uint32_t)getpid() | (uint64_t)(uint32_t)syscall(SYS_gettid) << 32;
}

static void thread_exit(void *arg) {
  struct rt_thread_ctx *ctx = arg;
  pthread_mutex_lock(&g_lock);
  if (ctx->prev) ctx->prev->next = ctx->next;
  else if (g_threads == ctx) g_threads = ctx->next;
  if (ctx->next) ctx->next->prev = ctx->prev;
  ctx->prev = ctx->next = NULL;
  ctx->listed = 0;
  __atomic_store_n(&ctx->att, NULL, __ATOMIC_SEQ_CST);
  pthread_mutex_unlock(&g_lock);
}

/* fork(): the lock is held across it, so the child's copy is consistent. The
 * child's only thread is the one that forked: it alone stays on the list, and
 * it records under the child's pid and tid from its next event on (which
 * also adds the child to the session's process log). */
static void fork_prepare(void) {
  pthread_mutex_lock(&g_class_lock); /* the order of register_class: class lock, never g_lock inside */
  pthread_mutex_lock(&g_lock);
}
static void fork_parent(void) {
  pthread_mutex_unlock(&g_lock);
  pthread_mutex_unlock(&g_class_lock);
}
static void fork_child(void) {
  struct rt_thread_ctx *me = &rt_capi_thread;
  g_threads = NULL;
  if (me->listed) {
    me->prev = me->next = NULL;
    g_threads = me;
  }
  me->att = NULL;
  me->logged_serial = 0;
  if (me->context) me->context = own_context();
  pthread_mutex_unlock(&g_lock);
  pthread_mutex_unlock(&g_class_lock);
}

/* Tracing off for good: RINGTRACE_SESSION says so or cannot be used. Set
 * only once decided (never on the way), since every rt_trace that reads -1
 * returns without waiting for this initialization. */
static void turn_off(void) {
  g_idle_due = UINT64_MAX;
  /* Final values, read relaxed: rt__settle stores RT_KEY_OFF into each class
   * it sees, which then matches the word rt_trace compares with. */
  __atomic_store_n(&rt__selection_gen, &rt_capi_key_off, __ATOMIC_RELAXED);
  __atomic_store_n(&rt__active, -1, __ATOMIC_RELAXED);
}

static void init_once(void) {
  const char *env = getenv("RINGTRACE_SESSION");
  const char *name = env ? env : "default";
  char shm[128], err[256];
  if (!*name || !strcmp(name, "off")) {
    turn_off();
    return;
  }
  if (rt_session_shm_name(name, shm, sizeof shm, err, sizeof err)) {
    rt_capi_warn_once("RINGTRACE_SESSION: %s; this program runs untraced", err);
    turn_off();
    return;
  }
  snprintf(g_name, sizeof g_name, "%s", name);
  snprintf(g_path, sizeof g_path, "/dev/shm%s", shm);
  g_threads_tracked = pthread_key_create(&g_thread_key, thread_exit) == 0;
  if (pthread_atfork(fork_prepare, fork_parent, fork_child)) {
    rt_capi_warn_once("cannot register a fork handler; this program runs untraced");
    turn_off();
    return;
  }
  g_enabled = 1;
  /* The first look, inside pthread_once: every thread whose first event
   * races with it waits for it, so a program started under `trace-consume
   * record` records from its first event in every thread. */
  g_idle_due = coarse_ns() + RT_CAPI_RECHECK_MS * NS_PER_MS;
  rt_capi_recheck();
}

/* Retired attachments no thread points to any more: unmap and free them.
 * The seq_cst loads pair with the seq_cst store + reload in
 * rt_capi_thread_attach (a hazard-pointer handshake): a thread either sees
 * the new g_attachment before using an old one, or we see it pointing to the
 * old one here. */
static void reclaim(void) {
  if (!g_threads_tracked) return; /* we cannot know who still writes there: keep them */
  struct rt_attachment **pp = &g_retired;
  while (*pp) {
    struct rt_attachment *a = *pp;
    int used = 0;
    for (struct rt_thread_ctx *t = g_threads; t && !used; t = t->next)
      used = __atomic_load_n(&t->att, __ATOMIC_SEQ_CST) == a;
    if (used) {
      pp = &a->next_retired;
      continue;
    }
    *pp = a->next_retired;
    rt_session_close(a->s);
    free(a);
  }
}

/* Caller holds the lock. */
static void retire(struct rt_attachment *a) {
  rt_capi_selection_retire(a); /* events compare with "no session" from now on */
  /* rt__active is a hint (relaxed): a thread that still reads 1 goes to
   * rt__reserve, which finds g_none there. The seq_cst store is one side of
   * the hazard handshake (reclaim). */
  __atomic_store_n(&rt__active, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&g_attachment, &g_none, __ATOMIC_SEQ_CST);
  /* A thread may still be between reserve and commit in this mapping: give
   * it private zero pages to finish in (its event was for a session that is
   * gone), and let the session's memory go now rather than when the last
   * thread moves on. If this fails, the mapping simply stays until reclaim. */
  mmap(a->s->hdr, a->s->map_size, PROT_READ | PROT_WRITE,
       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0);
  a->next_retired = g_retired;
  g_retired = a;
}

/* Caller holds the lock. */
static void attach(void) {
  char err[256];
  struct rt_session *s;
  struct stat st;
  if (rt_session_open(g_name, &s, err, sizeof err)) {
    /* Refuse this object until it is replaced, unless it went away meanwhile. */
    if (stat(g_path, &st) == 0) {
      g_refused_ino = (uint64_t)st.st_ino;
      rt_capi_warn_once("cannot trace into session '%s': %s; this program runs untraced while it exists",
                        g_name, err);
    }
    return;
  }
  /* The inode of what we opened: if the session was replaced in between,
   * this is the new one's, which we may not have; the next recheck sees the
   * difference and attaches again. */
  struct rt_attachment *a = calloc(1, sizeof *a);
  if (!a || stat(g_path, &st) != 0) {
    free(a);
    rt_session_close(s);
    return;
  }
  a->s = s;
  if (rt_capi_selection_attach(a, g_path)) { /* replaced meanwhile, or out of memory: the next look retries */
    free(a);
    rt_session_close(s);
    return;
  }
  a->ino = (uint64_t)st.st_ino;
  if (++g_serial == 0) g_serial = 1;
  a->serial = g_serial;
  /* The header's frequency is the consumer's word: bounded before we use it. */
  uint64_t hz = s->clock_kind == RT_CLOCK_CYCLES ? s->hdr->clock_freq_hz : 1000000000ull;
  if (hz < 1000000ull || hz > 100000000000ull) hz = 1000000000ull;
  a->recheck_ticks = hz / 1000 * RT_CAPI_RECHECK_MS;
  a->recheck_at = rt_clock_read(s->clock_kind) + a->recheck_ticks;
  /* seq_cst (so also release): a thread reaches `a` only through the seq_cst
   * load in rt_capi_thread_attach, which therefore sees it filled in. The
   * relaxed hint after it may be seen first: rt__reserve then finds the
   * thread's old attachment current and switches on a later event. */
  __atomic_store_n(&g_attachment, a, __ATOMIC_SEQ_CST);
  __atomic_store_n(&rt__active, 1, __ATOMIC_RELAXED);
}

void rt_capi_recheck(void) {
  if (!g_enabled || pthread_mutex_trylock(&g_lock)) return; /* off, or another thread is on it */
  rt_capi_recheck_locked();
  pthread_mutex_unlock(&g_lock);
}

void rt_capi_recheck_locked(void) {
  if (!g_enabled) return;
  struct stat st;
  int rc = stat(g_path, &st);
  int gone = rc != 0 && errno == ENOENT; /* other errors: no news, change nothing */
  struct rt_attachment *cur = g_attachment;
  if (cur->s && (gone || (rc == 0 && (uint64_t)st.st_ino != cur->ino))) {
    retire(cur);
    cur = &g_none;
  }
  if (!cur->s && rc == 0 && (uint64_t)st.st_ino != g_refused_ino) {
    /* Relaxed: a waiter that sees it takes the lock, which orders the rest. */
    __atomic_store_n(&g_attaching, 1, __ATOMIC_RELAXED);
    attach();
    __atomic_store_n(&g_attaching, 0, __ATOMIC_RELAXED);
  }
  reclaim();
}

/* While detached, a thread that emits fast reads the clock only every
 * IDLE_SKIP + 1 events: with less than IDLE_FAST_NS between two clock reads
 * it skips the next IDLE_SKIP, which at that rate delays noticing a new
 * session by at most a millisecond or so. A thread that emits slowly reads
 * it every time. */
#define IDLE_SKIP 63u
#define IDLE_FAST_NS 1000000ull
static __thread struct {
  uint32_t skip;
  uint64_t last_ns;
} t_idle;

/* No session attached (yet), and this event is not skipped: look for one
 * if the period is over. Returns rt__active. */
__attribute__((noinline)) static int idle(void) {
  pthread_once(&g_once, init_once);
  /* Another thread is opening the session that just appeared (mapping it
   * takes a few ms, once per session): wait for it rather than drop this
   * event. (Events in the microseconds before it set the flag are dropped,
   * as any event before a session is attached.) */
  if (__atomic_load_n(&g_attaching, __ATOMIC_RELAXED)) {
    pthread_mutex_lock(&g_lock);
    pthread_mutex_unlock(&g_lock);
  }
  uint64_t due = __atomic_load_n(&g_idle_due, __ATOMIC_RELAXED);
  if (due != UINT64_MAX) {
    uint64_t now = coarse_ns();
    if (now - t_idle.last_ns < IDLE_FAST_NS) t_idle.skip = IDLE_SKIP;
    t_idle.last_ns = now;
    /* One thread per period wins the compare-and-swap and looks; the others go
     * on. Relaxed: it only elects a thread; the look itself runs under g_lock. */
    if (now >= due && __atomic_compare_exchange_n(&g_idle_due, &due, now + RT_CAPI_RECHECK_MS * NS_PER_MS, 0,
                                                  __ATOMIC_RELAXED, __ATOMIC_RELAXED))
      rt_capi_recheck();
  }
  return __atomic_load_n(&rt__active, __ATOMIC_RELAXED);
}

/* The class's state is stale and a session is attached (active > 0) or
 * tracing is off (active < 0): decide it. */
__attribute__((noinline)) static int settle_class(struct rt_class *cls, int active) {
  if (active < 0) {
    /* Relaxed, as the other stores of the state word: the value is final. */
    if (cls->api_version == RT_API_VERSION)
      __atomic_store_n(&cls->state, (uint64_t)RT_KEY_OFF << 32, __ATOMIC_RELAXED);
    return 0;
  }
  struct rt_thread_ctx *ctx = &rt_capi_thread;
  /* Twice at most: deciding may find the session replaced (select.c looks
   * when the generation moves), and then this event is for the new one. */
  for (int tries = 0; tries < 2; tries++) {
    struct rt_attachment *a = ctx->att; /* our hazard: `a` stays allocated while we use it */
    if (a != __atomic_load_n(&g_attachment, __ATOMIC_RELAXED)) a = rt_capi_thread_attach(ctx);
    if (!a->s) return 0;
    if (!__atomic_load_n(&a->published, __ATOMIC_RELAXED)) rt_capi_selection_publish(a);
    if ((uint32_t)rt_capi_class_state(cls, a) != 0) return 1;
    if (a == __atomic_load_n(&g_attachment, __ATOMIC_RELAXED)) return 0;
  }
  return 0;
}

/* An event whose class state does not match rt__selection_gen: no session
 * (look for one now and then: the skipped events cost a few instructions),
 * tracing off, a new attachment, or a new selection generation. */
int rt__settle(struct rt_class *cls) {
  int active = __atomic_load_n(&rt__active, __ATOMIC_RELAXED);
  if (active == 0) {
    if (t_idle.skip) {
      t_idle.skip--;
      return 0;
    }
    if ((active = idle()) == 0) return 0;
  }
  return settle_class(cls, active);
}

struct rt_attachment *rt_capi_thread_attach(struct rt_thread_ctx *ctx) {
  pthread_once(&g_once, init_once);
  if (!ctx->context) ctx->context = own_context();
  if (!ctx->listed && g_threads_tracked) {
    pthread_mutex_lock(&g_lock);
    ctx->prev = NULL;
    ctx->next = g_threads;
    if (g_threads) g_threads->prev = ctx;
    g_threads = ctx;
    ctx->listed = 1;
    pthread_mutex_unlock(&g_lock);
    pthread_setspecific(g_thread_key, ctx);
  }
  /* Publish our hazard, then check it is still current (see reclaim). The
   * store also releases this thread's writes into the previous attachment. */
  struct rt_attachment *a;
  do {
    a = __atomic_load_n(&g_attachment, __ATOMIC_SEQ_CST);
    __atomic_store_n(&ctx->att, a, __ATOMIC_SEQ_CST);
  } while (__atomic_load_n(&g_attachment, __ATOMIC_SEQ_CST) != a);
  if (a->s && ctx->logged_serial != a->serial) {
    char err[256];
    ctx->logged_serial = a->serial;
    if (rt_registry_add_process(a->s, program_invocation_short_name, err, sizeof err))
      rt_capi_warn_once("%s (events are still recorded)", err);
  }
  return a;
}
