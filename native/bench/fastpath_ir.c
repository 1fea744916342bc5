/* Instructions per event of the producer fast path, counted by callgrind
 * (contention-immune, unlike timings on a shared host):
 *
 *   make -C native build/fastpath_ir
 *   valgrind --tool=callgrind --toggle-collect=emit_events native/build/fastpath_ir [events]
 *   -> instructions per event = "Collected" / events
 *
 * Valgrind does not implement the rseq system call, so under it glibc's
 * registration fails and every emit would take the atomic fallback. This
 * program then poses as registered on CPU 0 (it is pinned there): the rseq
 * sections run as plain code, which is exactly their instruction stream, and
 * the kernel never aborts them. On a real kernel it changes nothing.
 * The same 3 x u64 event as bench_native's emit cases. */
#include <stdlib.h>
#include "../test/util.h"

#define CHUNK 4096 /* events per emit_events call: well inside one ring */

/* The counted function: nothing but the emits. */
__attribute__((noinline)) static void emit_events(const struct rt_session *s, uint64_t base) {
  for (uint64_t i = 0; i < CHUNK; i++) {
    uint64_t v[3] = {base + i, i * 3, 42};
    rt_emit(s, 1, v, sizeof v);
  }
}

static void count(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev,
                  const uint8_t *payload) {
  (void)ch, (void)ev, (void)payload;
  ++*(long *)ctx;
}

int main(int argc, char **argv) {
  long events = argc > 1 ? atol(argv[1]) : 1000000;
  if (pin_cpu(0)) {
    fprintf(stderr, "fastpath_ir: cannot pin to CPU 0\n");
    return 1;
  }
  struct rt_rseq_abi *rs = rt_rseq_area();
  int posed = rs->cpu_id < 0;
  if (posed) rs->cpu_id = rs->cpu_id_start = 0; /* see the file comment */
  char name[64], err[256];
  struct rt_session *s;
  snprintf(name, sizeof name, "fastpath-ir-%d", (int)getpid());
  struct rt_session_options o = {.sub_size = 1u << 20, .n_sub = 8};
  if (rt_session_create(name, &o, &s, err, sizeof err)) {
    fprintf(stderr, "fastpath_ir: %s\n", err);
    return 1;
  }
  rt_session_unlink(name, err, sizeof err);
  s->use_rseq = 1;
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  long chunks = (events + CHUNK - 1) / CHUNK, delivered = 0;
  for (long k = 0; k < chunks; k++) {
    emit_events(s, (uint64_t)k * CHUNK);
    long n = drain_once(&c, 1, count, &delivered);
    if (n < 0) return 1;
  }
  struct rt_ring_stats st;
  rt_ring_stats_read(s, 0, &st);
  printf("fastpath_ir: events=%ld delivered=%ld lost=%llu remote_commits=%llu rseq=%s\n",
         chunks * CHUNK, delivered, (unsigned long long)st.lost,
         (unsigned long long)st.remote_commits, posed ? "posed (under valgrind)" : "registered");
  rt_consumer_fini(&c);
  rt_session_close(s);
  return delivered == chunks * CHUNK && st.lost == 0 ? 0 : 1;
}
