/* The writer table (see writers.h): taking and giving back slots (producers'
 * slow path), telling whether a slot's thread is alive, finding who may hold
 * a reservation (consumer), and the event-loop heartbeats slots carry. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "writers.h"

/* Placeholder writer: key 0 matches no session, so the first reserve of a
 * thread takes the slow path. Never written. */
static struct rt_writer no_writer;
__thread struct rt_writer *rt_thread_writer __attribute__((tls_model("initial-exec"))) = &no_writer;
/* The writer of a thread that emits without attaching one (slow path only). */
static __thread struct rt_writer implicit_writer;

/* ---- identity of the calling thread ---- */

struct identity {
  uint32_t pid, tid;
  uint64_t start_time, pid_ns;
};

static uint64_t own_pid_ns(void) {
  struct stat st;
  return stat("/proc/self/ns/pid", &st) ? 0 : (uint64_t)st.st_ino;
}

/* proc(5) stat of a thread: its state letter and start time (field 22).
 * 0, -1 if the file cannot be parsed, or -errno if it cannot be read. */
static int read_task_stat(const char *path, char *state, uint64_t *start_time) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  int e = errno;
  close(fd);
  if (n < 0) return -e; /* ESRCH: the thread exited after the open */
  buf[n] = 0;
  char *p = strrchr(buf, ')'); /* the command name may itself hold ')' and spaces */
  if (!p || p[1] != ' ' || !p[2]) return -1;
  p += 2; /* field 3: the state */
  *state = *p;
  for (int field = 3; field < 22; field++) { /* on to field 22 */
    p = strchr(p, ' ');
    if (!p) return -1;
    p++;
  }
  char *end;
  unsigned long long v = strtoull(p, &end, 10);
  if (end == p || (*end != ' ' && *end != '\n' && *end)) return -1;
  *start_time = v;
  return 0;
}

static int this_thread(struct identity *id) {
  id->pid = (uint32_t)getpid();
  id->tid = (uint32_t)syscall(SYS_gettid);
  id->pid_ns = own_pid_ns();
  char path[64], state;
  snprintf(path, sizeof path, "/proc/%u/task/%u/stat", id->pid, id->tid);
  return id->pid_ns && read_task_stat(path, &state, &id->start_time) == 0 ? 0 : -1;
}

enum rt_liveness rt_writer_liveness(uint32_t pid, uint32_t tid, uint64_t start_time, uint64_t pid_ns) {
  if (pid == 0 || tid == 0 || pid_ns == 0 || pid_ns != own_pid_ns()) return RT_WRITER_UNKNOWN;
  char path[64], state;
  uint64_t start = 0;
  snprintf(path, sizeof path, "/proc/%u/task/%u/stat", pid, tid);
  int rc = read_task_stat(path, &state, &start);
  if (rc == -ENOENT || rc == -ESRCH) return RT_WRITER_DEAD; /* no such thread (any more) */
  if (rc) return RT_WRITER_UNKNOWN;
  if (start != start_time) return RT_WRITER_DEAD; /* the tid now names another thread */
  return state == 'Z' || state == 'X' ? RT_WRITER_DEAD : RT_WRITER_ALIVE;
}

/* ---- reading a slot ---- */

struct slot_copy {
  uint64_t state, open, nested, start_time, pid_ns, heartbeat_ns;
  uint32_t pid, tid;
};

/* A consistent copy of an active slot's owner and claim: the state (and its
 * generation) read before and after the fields is the same, so they all
 * belong to one owner. 0 if the slot is not active or changed hands meanwhile. */
static int copy_slot(const struct rt_writer_slot *sl, struct slot_copy *c) {
  /* Acquire pairs with the release of the state by the thread that took the
   * slot: its identity stores are visible. */
  c->state = __atomic_load_n(&sl->state, __ATOMIC_ACQUIRE);
  if (RT_SLOT_KIND(c->state) != RT_SLOT_ACTIVE) return 0;
  c->pid = __atomic_load_n(&sl->pid, __ATOMIC_RELAXED);
  c->tid = __atomic_load_n(&sl->tid, __ATOMIC_RELAXED);
  c->start_time = __atomic_load_n(&sl->start_time, __ATOMIC_RELAXED);
  c->pid_ns = __atomic_load_n(&sl->pid_ns, __ATOMIC_RELAXED);
  /* Acquire pairs with the owner's release when it gives a claim back after
   * its commit: a claim seen gone means that commit is visible to our later
   * reads of the counters. */
  c->open = __atomic_load_n(&sl->claim.open, __ATOMIC_ACQUIRE);
  c->nested = __atomic_load_n(&sl->claim.nested, __ATOMIC_ACQUIRE);
  c->heartbeat_ns = __atomic_load_n(&sl->heartbeat_ns, __ATOMIC_RELAXED); /* a value alone: see rt_writer_heartbeat */
  __atomic_thread_fence(__ATOMIC_ACQUIRE); /* the loads above complete before the re-read */
  return __atomic_load_n(&sl->state, __ATOMIC_RELAXED) == c->state;
}

/* The reservation a claim names lies wholly behind its ring's read position:
 * nobody needs the claim any more (a reservation spans at most two sub-buffers). */
static int claim_resolved(const struct rt_session *s, uint64_t open) {
  uint64_t ring = (open >> RT_CLAIM_SHIFT) - 1;
  if (ring >= s->n_rings) return 0;
  uint64_t off = open - RT_CLAIM_TAG(ring);
  uint64_t consumed = __atomic_load_n(&s->rings[ring].consumed_off, __ATOMIC_RELAXED);
  return off < (1ull << RT_CLAIM_SHIFT) && consumed >= off + 2 * s->sub_size;
}

/* ---- taking and giving back slots ---- */

static uint64_t next_state(uint64_t state, enum rt_slot_kind kind) {
  return ((state >> 2) + 1) << 2 | kind;
}

/* Fill a slot we hold in CLAIMING state, then publish it. */
static struct rt_writer_slot *fill_slot(struct rt_writer_slot *sl, uint64_t claiming, const struct identity *me) {
  __atomic_store_n(&sl->pid, me->pid, __ATOMIC_RELAXED);
  __atomic_store_n(&sl->tid, me->tid, __ATOMIC_RELAXED);
  __atomic_store_n(&sl->start_time, me->start_time, __ATOMIC_RELAXED);
  __atomic_store_n(&sl->pid_ns, me->pid_ns, __ATOMIC_RELAXED);
  __atomic_store_n(&sl->claim.open, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&sl->claim.nested, 0, __ATOMIC_RELAXED);
  /* The previous owner's heartbeat is not ours: a thread that never beats
   * must not show the dead one's beat growing old. */
  __atomic_store_n(&sl->heartbeat_ns, 0, __ATOMIC_RELAXED);
  /* Release: a reader that sees ACTIVE sees the owner written above. */
  __atomic_store_n(&sl->state, (claiming & ~3ull) | RT_SLOT_ACTIVE, __ATOMIC_RELEASE);
  return sl;
}

static int same_thread(const struct slot_copy *c, const struct identity *me) {
  return c->pid == me->pid && c->tid == me->tid && c->start_time == me->start_time && c->pid_ns == me->pid_ns;
}

/* This thread's slot if it has one (it attached before: two writers of one
 * thread may share it, their reservations nest like any of one thread);
 * else a free slot; else one whose thread is dead and holds no claim anyone
 * still needs. */
static struct rt_writer_slot *take_slot(const struct rt_session *s, const struct identity *me) {
  struct rt_writer_slot *slots = s->writers->slots;
  for (uint32_t i = 0; i < s->n_writer_slots; i++) {
    struct slot_copy c;
    if (copy_slot(&slots[i], &c) && same_thread(&c, me)) return &slots[i];
  }
  for (uint32_t i = 0; i < s->n_writer_slots; i++) {
    uint64_t st = __atomic_load_n(&slots[i].state, __ATOMIC_RELAXED);
    uint64_t claiming = next_state(st, RT_SLOT_CLAIMING);
    /* The CAS makes one taker win; acquire: the previous owner's stores are done. */
    if (RT_SLOT_KIND(st) == RT_SLOT_FREE &&
        __atomic_compare_exchange_n(&slots[i].state, &st, claiming, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
      return fill_slot(&slots[i], claiming, me);
  }
  for (uint32_t i = 0; i < s->n_writer_slots; i++) {
    struct slot_copy c;
    if (!copy_slot(&slots[i], &c) || c.nested || (c.open && !claim_resolved(s, c.open))) continue;
    /* Liveness is read from /proc: this pass runs only when no slot is free. */
    if (rt_writer_liveness(c.pid, c.tid, c.start_time, c.pid_ns) != RT_WRITER_DEAD) continue;
    uint64_t st = c.state, claiming = next_state(st, RT_SLOT_CLAIMING);
    if (__atomic_compare_exchange_n(&slots[i].state, &st, claiming, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
      return fill_slot(&slots[i], claiming, me);
  }
  return NULL;
}

/* In a child of fork(), the thread's writers still point at the parent's
 * slots (shared memory): make them take slots of their own on next use. Only
 * private memory is touched here. */
static void after_fork_in_child(void) {
  if (rt_thread_writer != &no_writer) rt_thread_writer->key = 0;
  implicit_writer.key = 0;
}
static pthread_once_t fork_handler_once = PTHREAD_ONCE_INIT;
static void install_fork_handler(void) { pthread_atfork(NULL, NULL, after_fork_in_child); }

/* Take a slot of w->s for the calling thread; without one, claims go to w->own. */
static int claim_slot(struct rt_writer *w) {
  pthread_once(&fork_handler_once, install_fork_handler);
  struct identity me;
  w->slot = this_thread(&me) == 0 ? take_slot(w->s, &me) : NULL;
  memset(&w->own, 0, sizeof w->own);
  w->claim = w->slot ? &w->slot->claim : &w->own;
  if (!w->slot) __atomic_fetch_add(&w->s->writers->unowned, 1, __ATOMIC_RELAXED);
  w->key = w->s->writer_key;
  return w->slot ? 0 : 1;
}

int rt_writer_attach(struct rt_writer *w, const struct rt_session *s) {
  memset(w, 0, sizeof *w);
  w->s = s;
  w->session_key = s->writer_key;
  int rc = claim_slot(w);
  rt_thread_writer = w;
  return rc;
}

void rt_writer_detach(struct rt_writer *w) {
  if (rt_thread_writer == w) rt_thread_writer = &no_writer;
  w->key = 0;
  w->session_key = 0;
  w->slot = NULL;
  w->claim = &w->own;
}

struct rt_writer *rt_writer_for(const struct rt_session *s) {
  struct rt_writer *w = rt_thread_writer;
  if (w != &no_writer && w->session_key == s->writer_key) {
    claim_slot(w); /* our writer, in a child of fork(): a slot of its own */
    return w;
  }
  w = &implicit_writer;
  if (w->session_key != s->writer_key) { /* this thread's first write into s */
    memset(w, 0, sizeof *w);
    w->s = s;
    w->session_key = s->writer_key;
  }
  if (w->key != s->writer_key) claim_slot(w);
  /* An attached writer (of another session) stays the thread's writer, and
   * this write took the slow path; otherwise the implicit one becomes it. */
  if (rt_thread_writer == &no_writer) rt_thread_writer = w;
  return w;
}

/* ---- event-loop heartbeats ---- */

void rt_writer_heartbeat(const struct rt_writer *w, uint64_t now_ns) {
  /* Only a slot this process claimed: a child of fork() holds its parent's
   * until it claims its own (key 0 meanwhile), and must not beat for it. */
  if (!w->slot || !w->s || w->key != w->s->writer_key) return;
  /* Relaxed: the word publishes nothing but itself (one writer, the owning
   * thread; an aligned 64-bit store cannot tear). Readers attribute it to
   * an owner by the slot's state read before and after it (copy_slot), and
   * the owner that took the slot zeroed it before its release of the state
   * (fill_slot): a beat read under an unchanged state is that owner's. */
  __atomic_store_n(&w->slot->heartbeat_ns, now_ns, __ATOMIC_RELAXED);
}

uint32_t rt_writers_heartbeats(const struct rt_session *s, uint64_t now_ns, struct rt_heartbeat *out, uint32_t max,
                               int with_dead) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < s->n_writer_slots && n < max; i++) {
    struct slot_copy c;
    /* Owned (a consistent copy of an active slot), beating, by a thread that
     * can be named; a beat from the future is no beat of this clock (damage,
     * or a writer in another time namespace). */
    if (!copy_slot(&s->writers->slots[i], &c) || c.heartbeat_ns == 0 || c.heartbeat_ns > now_ns || c.pid == 0 ||
        c.tid == 0)
      continue;
    /* A dead thread's last beat only grows old: it is no stalled loop. */
    int dead = rt_writer_liveness(c.pid, c.tid, c.start_time, c.pid_ns) == RT_WRITER_DEAD;
    if (dead && !with_dead) continue;
    out[n].pid = c.pid;
    out[n].tid = c.tid;
    out[n].ns = c.heartbeat_ns;
    out[n].dead = (uint32_t)dead;
    n++;
  }
  return n;
}

/* ---- consumer: who holds it ---- */

#define VERDICT(v, p, t, ...)                            \
  do {                                                  \
    out->verdict = (v);                                 \
    out->pid = (p);                                     \
    out->tid = (t);                                     \
    snprintf(out->why, sizeof out->why, __VA_ARGS__);   \
  } while (0)

void rt_writers_holding(const struct rt_session *s, uint32_t ring, uint64_t from, uint64_t to,
                        struct rt_holders *out) {
  memset(out, 0, sizeof *out);
  uint64_t unowned = __atomic_load_n(&s->writers->unowned, __ATOMIC_RELAXED);
  if (unowned) {
    VERDICT(RT_HOLDERS_UNKNOWN, 0, 0,
            "%llu writer threads found no free slot in the session's writer table (%u slots): "
            "what they hold cannot be attributed",
            (unsigned long long)unowned, s->n_writer_slots);
    return;
  }
  for (uint32_t i = 0; i < s->n_writer_slots; i++) {
    const struct rt_writer_slot *sl = &s->writers->slots[i];
    uint64_t state = __atomic_load_n(&sl->state, __ATOMIC_RELAXED);
    if (RT_SLOT_KIND(state) == 3) {
      VERDICT(RT_HOLDERS_DAMAGED, 0, 0, "writer table slot %u has state %llu", i, (unsigned long long)state);
      return;
    }
    struct slot_copy c;
    if (!copy_slot(sl, &c)) {
      if (RT_SLOT_KIND(state) != RT_SLOT_ACTIVE) continue; /* free, or being taken: holds nothing yet */
      VERDICT(RT_HOLDERS_LIVE, 0, 0, "writer table slot %u changed hands while read", i);
      return;
    }
    /* Does this thread claim a reservation there? A nested claim hides the
     * outer one, which may be anywhere. */
    uint64_t off = c.open - RT_CLAIM_TAG(ring);
    if (!c.nested && !(c.open && off >= from && off < to)) continue;
    if (c.pid == 0 || c.tid == 0 || (c.open && (c.open >> RT_CLAIM_SHIFT) - 1 >= s->n_rings)) {
      VERDICT(RT_HOLDERS_DAMAGED, c.pid, c.tid, "writer table slot %u holds pid %u tid %u claim %llx", i, c.pid,
              c.tid, (unsigned long long)c.open);
      return;
    }
    enum rt_liveness l = rt_writer_liveness(c.pid, c.tid, c.start_time, c.pid_ns);
    if (l == RT_WRITER_ALIVE) {
      VERDICT(RT_HOLDERS_LIVE, c.pid, c.tid, "pid %u thread %u, alive, is in the middle of a record", c.pid, c.tid);
      return;
    }
    if (l == RT_WRITER_UNKNOWN) {
      VERDICT(RT_HOLDERS_UNKNOWN, c.pid, c.tid,
              "cannot tell whether pid %u thread %u is alive (another pid namespace, or /proc unreadable)", c.pid,
              c.tid);
      return;
    }
    if (!out->dead++) {
      out->pid = c.pid;
      out->tid = c.tid;
    }
  }
  if (!out->dead) VERDICT(RT_HOLDERS_UNKNOWN, 0, 0, "no writer thread claims the reservation");
  else out->verdict = RT_HOLDERS_DEAD;
}
