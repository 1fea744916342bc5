/* GC pauses from V8's own GC callbacks, for auto mode's `gc` part.
 *
 * Node hands each collection to a `'gc'` PerformanceObserver through
 * JavaScript, at a cost a server pays per request (docs/auto.md). V8 calls an
 * embedder's GC prologue and epilogue callbacks on the isolate's own thread,
 * inside the pause; these only note its start, duration and kind in a ring
 * kept in a JavaScript Float64Array, which auto mode reads on a timer and
 * records. Layout (doubles):
 *   [0] written: entries written so far     [1] read: entries read (JS sets it)
 *   [2] dropped: pauses not noted, the ring being full
 *   [4 + 3k, 4 + 3k + 3) entry k % capacity: start (ms of CLOCK_MONOTONIC,
 *   the clock of process.hrtime), duration (ms), kind (V8's GCType bit).
 * Both sides run on this one thread and the callbacks run only at a GC,
 * which may come in the middle of the reader's loop (it allocates): an entry
 * is complete before `written` counts it, and the reader takes
 * [read, written) as `written` was when it began, so nothing is read half
 * written or skipped, and no atomics are needed.
 *
 * Node-API has no GC callbacks and V8's C++ API is not stable across Node
 * versions, so the two calls are found by their mangled names in the running
 * process (Node exports V8's API for addons). A mangled name spells out the
 * parameter types: a V8 whose signature changed has no symbol of that name,
 * gcHooksStart() returns false and auto mode keeps the observer. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include "handles.h"

#define GC_HEADER 4
#define GC_ENTRY 3

/* v8::GCCallbackWithData: void (*)(v8::Isolate*, v8::GCType, v8::GCCallbackFlags, void*). The enums are ints. */
typedef void (*gc_callback)(void *isolate, int type, int flags, void *data);
/* Member functions of v8::Isolate: `this` comes first (the Itanium C++ ABI of x86-64 and aarch64). */
typedef void *(*get_current_fn)(void);
typedef void (*add_callback_fn)(void *isolate, gc_callback cb, void *data, int type_filter);
typedef void (*remove_callback_fn)(void *isolate, gc_callback cb, void *data);

static const int GC_TYPE_ALL = 0x1f; /* v8::kGCTypeAll: scavenge, minor, mark-compact, incremental, weak callbacks */

struct gc_api {
  get_current_fn get_current;
  add_callback_fn add_prologue, add_epilogue;
  remove_callback_fn remove_prologue, remove_epilogue;
};

/* One per Node-API environment (a JS thread and its isolate). */
struct gc_state {
  void *isolate; /* NULL: not hooked */
  double *ring;
  uint64_t capacity;
  uint64_t written; /* entries written (the ring's [0] is its copy for JS) */
  napi_ref ring_ref; /* keeps the array alive while hooked */
  int current_type;  /* the pause under way (0: none): a nested prologue of another kind is ignored */
  double start_ms;
};

static int find_api(struct gc_api *api) {
  /* (POSIX's way to take a function pointer from dlsym) */
  *(void **)&api->get_current = dlsym(RTLD_DEFAULT, "_ZN2v87Isolate10GetCurrentEv");
  *(void **)&api->add_prologue = dlsym(RTLD_DEFAULT,
      "_ZN2v87Isolate21AddGCPrologueCallbackEPFvPS0_NS_6GCTypeENS_15GCCallbackFlagsEPvES4_S2_");
  *(void **)&api->add_epilogue = dlsym(RTLD_DEFAULT,
      "_ZN2v87Isolate21AddGCEpilogueCallbackEPFvPS0_NS_6GCTypeENS_15GCCallbackFlagsEPvES4_S2_");
  *(void **)&api->remove_prologue = dlsym(RTLD_DEFAULT,
      "_ZN2v87Isolate24RemoveGCPrologueCallbackEPFvPS0_NS_6GCTypeENS_15GCCallbackFlagsEPvES4_");
  *(void **)&api->remove_epilogue = dlsym(RTLD_DEFAULT,
      "_ZN2v87Isolate24RemoveGCEpilogueCallbackEPFvPS0_NS_6GCTypeENS_15GCCallbackFlagsEPvES4_");
  return api->get_current && api->add_prologue && api->add_epilogue && api->remove_prologue && api->remove_epilogue;
}

static struct gc_api api;
static int api_found;
static pthread_once_t api_once = PTHREAD_ONCE_INIT; /* worker threads start hooks too: looked up once for all */

static void look_up_api(void) {
  api_found = find_api(&api);
}

static double monotonic_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void on_prologue(void *isolate, int type, int flags, void *data) {
  (void)isolate;
  (void)flags;
  struct gc_state *st = data;
  if (st->current_type != 0) return;
  st->current_type = type;
  st->start_ms = monotonic_ms();
}

static void on_epilogue(void *isolate, int type, int flags, void *data) {
  (void)isolate;
  (void)flags;
  struct gc_state *st = data;
  if (type != st->current_type) return;
  st->current_type = 0;
  double *r = st->ring;
  double unread = (double)st->written - r[1]; /* (compared as doubles: whatever JS stored, no undefined conversion) */
  if (!(unread >= 0 && unread < (double)st->capacity)) {
    r[2] += 1;
    return;
  }
  double *e = r + GC_HEADER + GC_ENTRY * (st->written % st->capacity);
  e[0] = st->start_ms;
  e[1] = monotonic_ms() - st->start_ms;
  e[2] = type;
  r[0] = (double)++st->written; /* last: the entry is complete before it counts */
}

static void unhook(napi_env env, struct gc_state *st) {
  if (st->isolate) {
    api.remove_prologue(st->isolate, on_prologue, st);
    api.remove_epilogue(st->isolate, on_epilogue, st);
    st->isolate = NULL;
  }
  if (env && st->ring_ref) napi_delete_reference(env, st->ring_ref);
  st->ring_ref = NULL;
  st->ring = NULL;
}

/* gcHooksStart(ring: Float64Array): note this thread's GC pauses in `ring`
 * (layout above, zeroed by the caller; at least one entry; it must stay attached: not transferred). False: V8's calls
 * are not found (or already hooked), nothing done. */
static napi_value gc_hooks_start(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg, result;
  void *data;
  napi_get_boolean(env, false, &result);
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, &data) != napi_ok) return result;
  struct gc_state *st = data;
  napi_typedarray_type type;
  size_t length;
  void *memory;
  bool is_typed = false;
  if (argc < 1 || napi_is_typedarray(env, arg, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, arg, &type, &length, &memory, NULL, NULL) != napi_ok ||
      type != napi_float64_array || length < GC_HEADER + GC_ENTRY) {
    napi_throw_type_error(env, NULL, "gcHooksStart: expected a Float64Array of at least 7 elements");
    return NULL;
  }
  pthread_once(&api_once, look_up_api); /* (its writes are visible to every thread past this call) */
  if (!api_found || st->isolate) return result;
  void *isolate = api.get_current();
  if (!isolate || napi_create_reference(env, arg, 1, &st->ring_ref) != napi_ok) return result;
  st->ring = memory;
  st->capacity = (length - GC_HEADER) / GC_ENTRY;
  st->written = 0;
  st->current_type = 0;
  st->isolate = isolate;
  api.add_prologue(isolate, on_prologue, st, GC_TYPE_ALL);
  api.add_epilogue(isolate, on_epilogue, st, GC_TYPE_ALL);
  napi_get_boolean(env, true, &result);
  return result;
}

/* gcHooksStop(): no more pauses noted; the ring is let go. */
static napi_value gc_hooks_stop(napi_env env, napi_callback_info info) {
  void *data;
  size_t argc = 0;
  if (napi_get_cb_info(env, info, &argc, NULL, NULL, &data) == napi_ok) unhook(env, data);
  return NULL;
}

/* The environment goes (a worker's end, the process's): its isolate is still
 * alive here, so the callbacks are removed before it and `st` go. */
static void free_gc_state(void *arg) {
  unhook(NULL, arg); /* (references die with the environment) */
  free(arg);
}

napi_status rt_gc_binding_init(napi_env env, napi_value exports) {
  struct gc_state *st = calloc(1, sizeof *st);
  if (!st) return napi_generic_failure;
  napi_status rc = napi_add_env_cleanup_hook(env, free_gc_state, st);
  napi_value f;
  if (rc == napi_ok) rc = napi_create_function(env, "gcHooksStart", NAPI_AUTO_LENGTH, gc_hooks_start, st, &f);
  if (rc == napi_ok) rc = napi_set_named_property(env, exports, "gcHooksStart", f);
  if (rc == napi_ok) rc = napi_create_function(env, "gcHooksStop", NAPI_AUTO_LENGTH, gc_hooks_stop, st, &f);
  if (rc == napi_ok) rc = napi_set_named_property(env, exports, "gcHooksStop", f);
  return rc;
}
