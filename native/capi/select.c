/* Which classes a C program records: the session's selection
 * (docs/selection.md), as each class's cached decision.
 *
 * A class's state word holds the decision with the selection generation it
 * was made for: generation << 32 | class id (0: not recorded). rt_trace
 * compares that generation with the one in the session's shared memory,
 * which the consumer increments whenever it puts a new selection file in
 * place (registry.h rt_selection_bump): equal, the decision stands (three
 * loads, a compare, a branch: ringtrace.h rt__on); different, the event comes here,
 * the new file is read once and the class decided again. So a change
 * invalidates every class at once without this process touching any, and
 * is seen by the next event of any class, selected or not, with no thread
 * of the library's own.
 *
 * Generations are the session's: another session may have used the same
 * numbers, so when the process attaches to a session the classes it has
 * used are made stale (publish), before rt__selection_gen points there. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "capi.h"
#include "registry.h"

const uint32_t rt_capi_key_none = RT_KEY_NONE, rt_capi_key_off = RT_KEY_OFF;
const uint32_t *rt__selection_gen = &rt_capi_key_none;

/* Classes that hold (or held) a session's generation in their state, under
 * the class lock. The list ends at LIST_END, so next == NULL means unlisted. */
static struct rt_class *g_classes;
#define LIST_END ((struct rt_class *)&g_classes)

static void read_selection(struct rt_attachment *a, uint32_t gen);

/* Attachment lock held. The page stays mapped for good (capi.h): one page of
 * address space per session this process ever attached to. */
int rt_capi_selection_attach(struct rt_attachment *a, const char *shm_path) {
  size_t size = (size_t)sysconf(_SC_PAGESIZE);
  int fd = open(shm_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -1;
  void *page = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (page == MAP_FAILED) return -1;
  /* The object at the path may have been replaced since the session was
   * opened: this page must be the same session's (the next look retries). */
  if (memcmp(((const struct rt_session_header *)page)->uuid, a->s->uuid, sizeof a->s->uuid) != 0) {
    munmap(page, size);
    return -1;
  }
  a->gen_page = page;
  a->sel = NULL;
  read_selection(a, rt_selection_generation(a->s));
  return 0;
}

void rt_capi_selection_retire(struct rt_attachment *a) {
  if (!a->gen_page) return;
  /* Relaxed: events that still read the old pointer find zero there (or the
   * old generation) and go to rt__settle or use the old decision once. */
  __atomic_store_n(&rt__selection_gen, &rt_capi_key_none, __ATOMIC_RELAXED);
  mmap(a->gen_page, (size_t)sysconf(_SC_PAGESIZE), PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  rt_selection_free(a->sel);
  a->sel = NULL;
}

void rt_capi_selection_publish(struct rt_attachment *a) {
  rt_capi_class_lock();
  rt_capi_lock();
  if (a == g_attachment && !a->published) {
    /* Relaxed: a thread that sees the new pointer before a class's reset can
     * take that class's old decision for an event (as for any change racing
     * with an event); rt__reserve still checks the id against `registered`. */
    for (struct rt_class *c = g_classes; c && c != LIST_END; c = c->next)
      __atomic_store_n(&c->state, RT__STATE_UNSET, __ATOMIC_RELAXED);
    const struct rt_session_header *page = a->gen_page;
    __atomic_store_n(&rt__selection_gen, &page->selection_gen, __ATOMIC_RELAXED);
    __atomic_store_n(&a->published, 1, __ATOMIC_RELAXED); /* a hint for rt__settle; checked here under the lock */
  }
  rt_capi_unlock();
  rt_capi_class_unlock();
}

/* Attachment lock held. Read the selection file of generation `gen`; a bad
 * file is refused with one warning and the previous selection stays, until
 * the next generation. */
static void read_selection(struct rt_attachment *a, uint32_t gen) {
  char path[256], err[640];
  struct rt_selection *sel;
  a->sel_gen = gen;
  if (rt_selection_path(a->s, path, sizeof path)) {
    rt_capi_warn_once("session '%s': selection file path too long; every event is recorded", a->s->name);
    return;
  }
  if (rt_selection_read(path, &sel, err, sizeof err)) {
    rt_capi_warn_once("ignoring the session's new selection (the previous one stays): %s", err);
    return;
  }
  rt_selection_free(a->sel);
  a->sel = sel;
}

/* Is `cls` recorded in `a` now? 0 if `a` is no longer the process's
 * attachment; else 1 with the generation the answer is for in *key. */
static int decide(const struct rt_class *cls, struct rt_attachment *a, uint32_t *key, int *on) {
  rt_capi_lock();
  if (a == g_attachment) {
    /* Acquire: the file this generation announced (or a newer one) is in place. */
    uint32_t gen = rt_selection_generation(a->s);
    if (gen != a->sel_gen) {
      /* The consumer also moves the generation when it removes the session,
       * so that programs whose events are all off notice: look first. */
      rt_capi_recheck_locked();
      if (a == g_attachment) read_selection(a, gen);
    }
  }
  int current = a == g_attachment;
  if (current) {
    *key = a->sel_gen;
    *on = cls->api_version != RT_API_VERSION || /* another layout: refused when registered, with a message */
          rt_selection_selects(a->sel, cls->provider ? cls->provider : "", cls->name ? cls->name : "", cls->level);
  }
  rt_capi_unlock();
  return current;
}

/* Class lock held. The class's id in `a`, registering it on first use
 * there; 0 if it cannot be recorded (an invalid class, a registry that
 * cannot be written: said once, never retried in this attachment). */
static uint32_t class_id(struct rt_class *cls, struct rt_attachment *a) {
  uint64_t reg = __atomic_load_n(&cls->registered, __ATOMIC_RELAXED);
  if ((uint32_t)(reg >> 32) == a->serial) return (uint32_t)reg;
  if (a != __atomic_load_n(&g_attachment, __ATOMIC_RELAXED)) return 0; /* retired: leave its registry alone */
  char err[512];
  uint32_t id = 0;
  if (!cls->desc) cls->desc = rt_capi_describe(cls, err, sizeof err);
  if (!cls->desc) {
    rt_capi_warn_once("%s; it is not recorded", err);
  } else if (rt_registry_register(a->s, cls->desc, &id, err, sizeof err)) {
    rt_capi_warn_once("event %s:%s is not recorded: %s", cls->provider, cls->name, err);
    id = 0;
  }
  /* Relaxed: read and written under the class lock, and by rt__reserve,
   * which only needs the word itself (the id, for the serial it names). */
  __atomic_store_n(&cls->registered, (uint64_t)a->serial << 32 | id, __ATOMIC_RELAXED);
  return id;
}

uint64_t rt_capi_class_state(struct rt_class *cls, struct rt_attachment *a) {
  uint64_t state = 0;
  uint32_t key;
  int on;
  rt_capi_class_lock();
  if (decide(cls, a, &key, &on)) {
    state = (uint64_t)key << 32 | (on ? class_id(cls, a) : 0);
    if (key < RT_KEY_OFF && cls->api_version == RT_API_VERSION) {
      if (!cls->next) { /* first decision: the class joins the list publish resets */
        cls->next = g_classes ? g_classes : LIST_END;
        g_classes = cls;
      }
      /* Relaxed: rt__on needs the word alone; it is only ever written under
       * the class lock, so a decision for an older generation cannot
       * overwrite a newer one. */
      __atomic_store_n(&cls->state, state, __ATOMIC_RELAXED);
    }
  }
  rt_capi_class_unlock();
  return state;
}
