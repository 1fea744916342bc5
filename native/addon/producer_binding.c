/* The hot call, in raw Node-API, taking no arguments: reading one number
 * argument (napi_get_cb_info + napi_get_value_double) cost 14 ns, more than the
 * call itself (docs/benchmarks.md).
 *
 * Each JS thread (Node-API environment, one OS thread) has one producer state:
 * the session it writes and its staging buffer, found through a thread-local
 * pointer. Staging layout, written by the generated JS emitter:
 *   [0,4) end: offset just past the last field   [4,8) class id
 *   [8,16) context: pid, tid (written here once)  [16,end) fields
 * emitStaged() records staging[8, end) as one event of that class. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "handles.h"
#include "trigger.h"
#ifdef RT_TEST_HOOKS
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#endif

#define CTL_BYTES 8
#define CONTEXT_BYTES 8

struct producer_state {
  struct rt_session_box *box; /* NULL: detached */
  struct rt_writer writer;    /* this thread's slot in the session's writer table */
  uint8_t *staging;
  size_t staging_len;
  napi_ref box_ref, staging_ref; /* keep both alive while attached */
#ifdef RT_TEST_HOOKS
  /* Only in the test build of the addon (native/test/addon), never in the one
   * apps load: read at attach, the Nth record of this thread is reserved, half
   * written, and then the process gets SIGKILL (RINGTRACE_TEST_KILL_IN_RECORD=N)
   * or SIGSTOP (RINGTRACE_TEST_STOP_IN_RECORD=N), or the thread sleeps
   * RINGTRACE_TEST_SLEEP_MS (default 2500) ms (RINGTRACE_TEST_SLEEP_IN_RECORD=N);
   * if it lives on, it finishes and commits the record. Or
   * (RINGTRACE_TEST_KILL_OPENING_AT=N) the first record from the Nth on that
   * opens a sub-buffer is reserved, its packet header put back unwritten, and
   * the process gets SIGKILL. See test/dead-writer.test.ts. Or
   * (RINGTRACE_TEST_CYCLES_JUMP_AT=N, RINGTRACE_TEST_CYCLES_JUMP_S=S) from the
   * Nth record on, the process's cycle reads are S seconds off (negative: back),
   * as after a VM's restore; see test/clock.test.ts. */
  unsigned long hook_countdown;
  unsigned long jump_countdown;
  double jump_s;
  int hook_signal; /* 0: sleep */
  long hook_sleep_ms;
  int hook_opening;         /* the KILL_OPENING hook */
  unsigned long hook_count; /* records recorded so far (KILL_OPENING) */
#endif
};

#ifdef RT_TEST_HOOKS
static void hooks_read_env(struct producer_state *st) {
  const char *kill_at = getenv("RINGTRACE_TEST_KILL_IN_RECORD");
  const char *stop_at = getenv("RINGTRACE_TEST_STOP_IN_RECORD");
  const char *sleep_at = getenv("RINGTRACE_TEST_SLEEP_IN_RECORD");
  const char *sleep_ms = getenv("RINGTRACE_TEST_SLEEP_MS");
  const char *opening_at = getenv("RINGTRACE_TEST_KILL_OPENING_AT");
  const char *at = kill_at ? kill_at : stop_at ? stop_at : sleep_at ? sleep_at : opening_at;
  st->hook_opening = !kill_at && !stop_at && !sleep_at && opening_at;
  st->hook_signal = kill_at || st->hook_opening ? SIGKILL : stop_at ? SIGSTOP : 0;
  st->hook_countdown = at ? strtoul(at, NULL, 10) : 0;
  st->hook_sleep_ms = sleep_ms ? strtol(sleep_ms, NULL, 10) : 2500;
  const char *jump_at = getenv("RINGTRACE_TEST_CYCLES_JUMP_AT"), *jump_s = getenv("RINGTRACE_TEST_CYCLES_JUMP_S");
  st->jump_countdown = jump_at ? strtoul(jump_at, NULL, 10) : 0;
  st->jump_s = jump_s ? strtod(jump_s, NULL) : 0;
}

/* The cycle jump hook: counts records down, then offsets the counter. */
static void hook_cycles_jump(struct producer_state *st, const struct rt_session *s) {
  if (st->jump_countdown == 0 || --st->jump_countdown != 0) return;
  __atomic_store_n(&rt_test_cycles_offset, (int64_t)(st->jump_s * (double)s->hdr->clock_freq_hz), __ATOMIC_RELAXED);
}

/* A test hook's record: reserve, write half the payload, signal ourselves or
 * sleep; if we live on (SIGCONT, or awake), finish and commit it. */
static void hook_in_record(const struct producer_state *st, const struct rt_session *s, uint32_t id,
                           const uint8_t *payload, uint32_t len) {
  struct rt_reservation r;
  if (rt_reserve(s, id, len, &r) != RT_RESERVED) return;
  memcpy(rt_payload(&r), payload, len / 2);
  if (st->hook_signal) {
    raise(st->hook_signal);
  } else {
    struct timespec t = {st->hook_sleep_ms / 1000, st->hook_sleep_ms % 1000 * 1000000};
    while (nanosleep(&t, &t)) { /* interrupted: sleep the rest */ }
  }
  memcpy((uint8_t *)rt_payload(&r) + len / 2, payload + len / 2, len - len / 2);
  rt_commit(&r);
}

/* KILL_OPENING: if this record opens a sub-buffer, reserve it, put the bytes
 * of its packet header back as they were (a writer killed before writing
 * it), say which record it was on stderr, and die. 0: it would not open one
 * (or landed elsewhere, then recorded normally: 1 too, and we try again). */
static int hook_kill_opening(struct producer_state *st, const struct rt_session *s, uint32_t id,
                             const uint8_t *payload, uint32_t len) {
  int cpu = sched_getcpu();
  int32_t rseq_cpu = rt_rseq_area()->cpu_id;
  uint32_t ring = s->use_rseq && rseq_cpu >= 0 ? (uint32_t)rseq_cpu
                                               : s->n_cpus + (uint32_t)(cpu < 0 ? 0 : cpu) % s->n_cpus;
  uint64_t w = __atomic_load_n(&s->rings[ring].write_off, __ATOMIC_RELAXED);
  uint64_t in_sub = w & s->sub_mask;
  if (in_sub != 0 && in_sub + rt_record_stride(RT_EVENT_HEADER_SIZE + len) <= s->sub_size) return 0;
  uint8_t *ph = rt_ring_data(s, ring) + (((w + s->sub_mask) & ~s->sub_mask) & s->ring_mask);
  uint8_t before[RT_PACKET_HEADER_SIZE];
  memcpy(before, ph, sizeof before);
  struct rt_reservation r;
  if (rt_reserve(s, id, len, &r) != RT_RESERVED) { /* counted lost */
    st->hook_count++;
    return 1;
  }
  if (r.record != ph + RT_PACKET_HEADER_SIZE) { /* migrated meanwhile: an ordinary record */
    memcpy(rt_payload(&r), payload, len);
    rt_commit(&r);
    st->hook_count++;
    return 1;
  }
  memcpy(ph, before, sizeof before);
  char line[96];
  int n = snprintf(line, sizeof line, "ringtrace test hook: killed opening a sub-buffer at record %lu\n",
                   st->hook_count);
  if (write(2, line, (size_t)n) < 0) { /* the kill matters, not the line */ }
  raise(SIGKILL);
  return 1;
}
#endif

/* This thread's state while attached. initial-exec: one %fs-relative load,
 * no __tls_get_addr call (8 bytes of glibc's static TLS reserve). */
static __thread struct producer_state *current __attribute__((tls_model("initial-exec")));

static void release_refs(napi_env env, struct producer_state *st) {
  rt_writer_detach(&st->writer);
  if (st->box_ref) napi_delete_reference(env, st->box_ref);
  if (st->staging_ref) napi_delete_reference(env, st->staging_ref);
  st->box_ref = st->staging_ref = NULL;
  st->box = NULL;
  st->staging = NULL;
  st->staging_len = 0;
}

static napi_value throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

/* attachThread(session, staging: ArrayBuffer): this thread now emits into
 * `session` from `staging`. Writes the context (pid, tid) at its start. */
static napi_value attach_thread(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  void *data;
  if (napi_get_cb_info(env, info, &argc, args, NULL, &data) != napi_ok || argc < 2)
    return throw_type(env, "attachThread(session, staging: ArrayBuffer)");
  struct producer_state *st = data;
  struct rt_session_box *box = NULL;
  napi_valuetype t;
  bool is_ab = false;
  if (napi_typeof(env, args[0], &t) != napi_ok || t != napi_external ||
      napi_get_value_external(env, args[0], (void **)&box) != napi_ok || !box || !box->s)
    return throw_type(env, "attachThread: expected an open session handle");
  void *buf;
  size_t len;
  if (napi_is_arraybuffer(env, args[1], &is_ab) != napi_ok || !is_ab ||
      napi_get_arraybuffer_info(env, args[1], &buf, &len) != napi_ok ||
      len < CTL_BYTES + CONTEXT_BYTES || len > UINT32_MAX)
    return throw_type(env, "attachThread: staging must be an ArrayBuffer of 16 bytes to 4 GiB");
  release_refs(env, st);
  napi_create_reference(env, args[0], 1, &st->box_ref);
  napi_create_reference(env, args[1], 1, &st->staging_ref);
  st->box = box;
  st->staging = buf;
  st->staging_len = len;
  uint32_t ctx[2] = {(uint32_t)getpid(), (uint32_t)syscall(SYS_gettid)};
  memcpy(st->staging + CTL_BYTES, ctx, sizeof ctx);
  rt_writer_attach(&st->writer, box->s); /* no free slot: we write anyway (see writers.h) */
#ifdef RT_TEST_HOOKS
  hooks_read_env(st);
#endif
  current = st;
  return NULL;
}

static napi_value detach_thread(napi_env env, napi_callback_info info) {
  void *data;
  size_t argc = 0;
  napi_get_cb_info(env, info, &argc, NULL, NULL, &data);
  release_refs(env, data);
  current = NULL;
  return NULL;
}

/* emitStaged(): record staging[8, end) as class `id` (see the layout above).
 * Never throws for a full ring (the core counts the loss); detached or closed
 * makes it a no-op; an `end` outside the staging buffer a TypeError. */
static napi_value emit_staged(napi_env env, napi_callback_info info) {
  (void)info;
  struct producer_state *st = current;
  struct rt_session *s = st && st->box ? st->box->s : NULL;
  if (!s) return NULL; /* detached, or the session was closed: nothing to record into */
  uint32_t ctl[2]; /* end, id: written by this thread's JS just before the call */
  memcpy(ctl, st->staging, sizeof ctl);
  if (ctl[0] > st->staging_len || ctl[0] < CTL_BYTES + CONTEXT_BYTES)
    return throw_type(env, "emitStaged: record end outside the staging buffer");
#ifdef RT_TEST_HOOKS
  hook_cycles_jump(st, s);
  if (st->hook_opening) {
    if (st->hook_countdown > 1) st->hook_countdown--;
    else if (hook_kill_opening(st, s, ctl[1], st->staging + CTL_BYTES, ctl[0] - CTL_BYTES)) return NULL;
    st->hook_count++;
  } else if (st->hook_countdown != 0 && --st->hook_countdown == 0) {
    hook_in_record(st, s, ctl[1], st->staging + CTL_BYTES, ctl[0] - CTL_BYTES);
    return NULL;
  }
#endif
  rt_emit(s, ctl[1], st->staging + CTL_BYTES, ctl[0] - CTL_BYTES);
  return NULL;
}

/* snapshotPermit() / snapshotForce(): may this process request a snapshot
 * now (trigger.h)? -1: no, folded into the next request; else the number of
 * calls folded since the previous request. Force: yes, whatever the interval. */
static napi_value permit(napi_env env, int force) {
  napi_value v;
  napi_create_int64(env, rt_trigger_permit(force), &v);
  return v;
}
static napi_value snapshot_permit(napi_env env, napi_callback_info info) {
  (void)info;
  return permit(env, 0);
}
static napi_value snapshot_force(napi_env env, napi_callback_info info) {
  (void)info;
  return permit(env, 1);
}

/* snapshotPublish(): count a request in this thread's session, after its
 * record (emitStaged, just before, on this thread) was committed. Detached:
 * nothing. */
static napi_value snapshot_publish(napi_env env, napi_callback_info info) {
  (void)env;
  (void)info;
  struct producer_state *st = current;
  if (st && st->box && st->box->s) rt_trigger_publish(st->box->s);
  return NULL;
}

/* heartbeat() / heartbeatClear(): this thread's event loop turned now, or is
 * no longer tracked (writers.h rt_writer_heartbeat). Detached, or a session
 * closed under us: nothing (the writer's session pointer is only followed
 * while the box still holds it). */
static void beat(uint64_t ns) {
  struct producer_state *st = current;
  if (st && st->box && st->box->s) rt_writer_heartbeat(&st->writer, ns);
}
static napi_value heartbeat(napi_env env, napi_callback_info info) {
  (void)env;
  (void)info;
  beat(rt_monotonic_ns());
  return NULL;
}
static napi_value heartbeat_clear(napi_env env, napi_callback_info info) {
  (void)env;
  (void)info;
  beat(0);
  return NULL;
}

static void free_state(void *arg) {
  struct producer_state *st = arg;
  rt_writer_detach(&st->writer); /* touches no shared memory: safe whatever became of the session */
  if (current == arg) current = NULL; /* the hook runs on the environment's own thread */
  free(arg);
}

napi_status rt_producer_binding_init(napi_env env, napi_value exports) {
  struct producer_state *st = calloc(1, sizeof *st);
  if (!st) return napi_generic_failure;
  napi_status rc = napi_add_env_cleanup_hook(env, free_state, st);
  const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {{"attachThread", attach_thread},       {"detachThread", detach_thread},
             {"emitStaged", emit_staged},           {"snapshotPermit", snapshot_permit},
             {"snapshotForce", snapshot_force},     {"snapshotPublish", snapshot_publish},
             {"heartbeat", heartbeat},              {"heartbeatClear", heartbeat_clear}};
  for (size_t i = 0; rc == napi_ok && i < sizeof fns / sizeof *fns; i++) {
    napi_value f;
    rc = napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, st, &f);
    if (rc == napi_ok) rc = napi_set_named_property(env, exports, fns[i].name, f);
  }
  return rc;
}
