/* Event-loop heartbeats in the writer table (native/ring/writers.h): a
 * thread stores CLOCK_MONOTONIC into its own slot through its writer; a
 * recorder lists the owned slots that beat. What it lists is validated: a
 * beat from the future, a damaged slot, a dead thread's last beat and a
 * cleared beat are left out; a slot taken over from a dead thread does not
 * inherit its beat; a child of fork() does not beat into its parent's slot. */
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "check.h"
#include "clock.h"
#include "util.h"

#define MS 1000000ull

static struct rt_session *new_session(uint32_t slots) {
  char name[64], err[256];
  struct rt_session *s;
  test_session_name(name, sizeof name, "beats");
  struct rt_session_options o = {.sub_size = 4096, .n_sub = 4, .n_writer_slots = slots, .mode = RT_MODE_OVERWRITE};
  REQUIRE(rt_session_create(name, &o, &s, err, sizeof err) == 0, "%s", err);
  rt_session_unlink(name, err, sizeof err);
  return s;
}

static uint32_t gettid_(void) { return (uint32_t)syscall(SYS_gettid); }

static uint32_t beats(const struct rt_session *s, struct rt_heartbeat *out) {
  return rt_writers_heartbeats(s, rt_monotonic_ns(), out, s->n_writer_slots, 0);
}

static void test_beat_listed(void) {
  struct rt_session *s = new_session(8);
  CHECK(s->hdr->mode == RT_MODE_OVERWRITE, "mode written at creation: %u", s->hdr->mode);
  struct rt_writer w;
  REQUIRE(rt_writer_attach(&w, s) == 0, "a slot");
  struct rt_heartbeat out[8];
  CHECK(beats(s, out) == 0, "attached but not beating: not listed");
  uint64_t t = rt_monotonic_ns();
  rt_writer_heartbeat(&w, t);
  uint32_t n = beats(s, out);
  CHECK(n == 1 && out[0].pid == (uint32_t)getpid() && out[0].tid == gettid_() && out[0].ns == t,
        "%u beats; pid %u tid %u", n, n ? out[0].pid : 0, n ? out[0].tid : 0);
  /* From the future: no beat of this clock. */
  rt_writer_heartbeat(&w, rt_monotonic_ns() + 10000 * MS);
  CHECK(beats(s, out) == 0, "a beat from the future is left out");
  rt_writer_heartbeat(&w, rt_monotonic_ns());
  CHECK(beats(s, out) == 1, "beating again");
  rt_writer_heartbeat(&w, 0);
  CHECK(beats(s, out) == 0, "cleared: no longer tracked");
  /* At most `max` written. */
  rt_writer_heartbeat(&w, rt_monotonic_ns());
  CHECK(rt_writers_heartbeats(s, rt_monotonic_ns(), out, 0, 0) == 0, "max 0: nothing written");
  rt_writer_detach(&w);
  rt_writer_heartbeat(&w, rt_monotonic_ns() - 5000 * MS);
  CHECK(beats(s, out) == 1 && rt_monotonic_ns() - out[0].ns < 5000 * MS, "a detached writer does not beat");
  rt_session_close(s);
}

static void test_damaged_slots_left_out(void) {
  struct rt_session *s = new_session(4);
  struct rt_writer w;
  REQUIRE(rt_writer_attach(&w, s) == 0, "a slot");
  rt_writer_heartbeat(&w, rt_monotonic_ns());
  struct rt_writer_slot *sl = w.slot;
  struct rt_heartbeat out[4];
  uint64_t state = sl->state;
  sl->state = (state & ~3ull) | 3; /* a kind no writer writes */
  CHECK(beats(s, out) == 0, "a slot in a state no writer writes");
  sl->state = state;
  uint32_t tid = sl->tid;
  sl->tid = 0;
  CHECK(beats(s, out) == 0, "a slot naming no thread");
  sl->tid = tid;
  CHECK(beats(s, out) == 1, "repaired: listed again");
  rt_writer_detach(&w);
  rt_session_close(s);
}

/* A thread that beats and exits. */
static void *beat_and_exit(void *arg) {
  struct rt_writer w;
  REQUIRE(rt_writer_attach(&w, arg) == 0, "a slot");
  rt_writer_heartbeat(&w, rt_monotonic_ns());
  rt_writer_detach(&w);
  return NULL;
}
static void *attach_only(void *arg) {
  struct rt_writer w;
  CHECK(rt_writer_attach(&w, arg) == 0, "the dead thread's slot");
  struct rt_heartbeat out[1];
  CHECK(beats(arg, out) == 0, "the new owner has not beaten: the dead one's beat is not its");
  rt_writer_detach(&w);
  return NULL;
}

static void test_dead_threads_left_out(void) {
  struct rt_session *s = new_session(1);
  pthread_t th;
  REQUIRE(pthread_create(&th, NULL, beat_and_exit, s) == 0 && pthread_join(th, NULL) == 0, "thread");
  REQUIRE(RT_SLOT_KIND(s->writers->slots[0].state) == RT_SLOT_ACTIVE && s->writers->slots[0].heartbeat_ns != 0,
          "the exited thread's slot keeps its beat");
  struct rt_heartbeat out[1];
  CHECK(beats(s, out) == 0, "an exited thread's beat is left out");
  CHECK(rt_writers_heartbeats(s, rt_monotonic_ns(), out, 1, 1) == 1 && out[0].dead == 1,
        "... unless asked for: it died with a beat (it did not clear it)");
  /* The only slot is the dead thread's: the next thread takes it over. */
  REQUIRE(pthread_create(&th, NULL, attach_only, s) == 0 && pthread_join(th, NULL) == 0, "thread");
  rt_session_close(s);
}

static void test_fork_does_not_beat_for_parent(void) {
  struct rt_session *s = new_session(8);
  struct rt_writer w;
  REQUIRE(rt_writer_attach(&w, s) == 0, "a slot");
  uint64_t t = rt_monotonic_ns();
  rt_writer_heartbeat(&w, t);
  pid_t child = fork();
  REQUIRE(child >= 0, "fork");
  if (child == 0) {
    rt_writer_heartbeat(&w, t + 1); /* the inherited writer: the parent's slot */
    _exit(0);
  }
  int status;
  REQUIRE(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child");
  struct rt_heartbeat out[8];
  CHECK(beats(s, out) == 1 && out[0].pid == (uint32_t)getpid() && out[0].ns == t,
        "the parent's beat is its own: %llu", (unsigned long long)out[0].ns);
  rt_writer_detach(&w);
  rt_session_close(s);
}

int main(void) {
  RUN(test_beat_listed);
  RUN(test_damaged_slots_left_out);
  RUN(test_dead_threads_left_out);
  RUN(test_fork_does_not_beat_for_parent);
  return CHECK_EXIT();
}
