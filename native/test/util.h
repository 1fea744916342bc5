/* Helpers shared by the native tests: unique session names, CPU pinning, and a
 * drain loop that hands every record to a callback. */
#ifndef RINGTRACE_TEST_UTIL_H
#define RINGTRACE_TEST_UTIL_H
#include <sched.h>
#include <stdio.h>
#include <unistd.h>
/* The core's own headers (not the public ringtrace.h C API). */
#include "session.h"
#include "producer.h"
#include "consumer.h"
#include "registry.h"
#include "packet.h"
#include "consumer_lock.h"

/* A record's self-check for the stress tests: fields derived from (source,
 * seq) that a torn, mixed or misplaced record would not match. */
static inline uint32_t check32(uint32_t source, uint64_t seq) {
  uint64_t x = (seq + 1) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)source << 40);
  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ull;
  return (uint32_t)(x ^ (x >> 32));
}
static inline uint64_t mix64(uint32_t source, uint64_t seq) { return ~seq * 0x94D049BB133111EBull + source; }

static inline void test_session_name(char *buf, size_t len, const char *tag) {
  static int counter;
  snprintf(buf, len, "test-%s-%d-%d", tag, (int)getpid(), counter++);
}

static inline int pin_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set);
}

static inline int n_online_cpus(void) { return (int)sysconf(_SC_NPROCESSORS_ONLN); }

typedef void (*record_fn)(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev,
                          const uint8_t *payload);

/* Drain every ring once. Returns records seen, or -1 on corruption (printed). */
static inline long drain_once(struct rt_consumer *c, int allow_partial, record_fn fn, void *ctx) {
  long n = 0;
  for (uint32_t ring = 0; ring < c->s->n_rings; ring++) {
    struct rt_chunk ch;
    int rc;
    while ((rc = rt_consumer_next(c, ring, &ch, allow_partial)) == 1) {
      uint32_t pos = ch.begin;
      struct rt_event_header ev;
      const uint8_t *payload;
      char err[256];
      int r;
      while ((r = rt_chunk_next_record(&ch, &pos, &ev, &payload, err, sizeof err)) == 1) {
        if (ev.id == RT_HOLE_ID) continue; /* a dead writer's record (counted lost) */
        fn(ctx, &ch, &ev, payload);
        n++;
      }
      if (r < 0) {
        fprintf(stderr, "record error: %s\n", err);
        return -1;
      }
      rt_consumer_done(c, &ch);
      if (!ch.complete) break; /* a prefix: nothing more in this ring now */
    }
    if (rc < 0) {
      fprintf(stderr, "consumer error: %s\n", c->err);
      return -1;
    }
  }
  return n;
}
#endif
