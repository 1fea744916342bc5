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

/* Hand each record of a chunk to fn (holes, a dead writer's records counted
 * lost, skipped if skip_holes). Returns the records handed over, or -1 with
 * err filled on a malformed record (those before it were handed over). */
static inline long chunk_records(const struct rt_chunk *ch, int skip_holes, record_fn fn, void *ctx, char *err,
                                 size_t err_len) {
  uint32_t pos = ch->begin;
  struct rt_event_header ev;
  const uint8_t *payload;
  long n = 0;
  int r;
  while ((r = rt_chunk_next_record(ch, &pos, &ev, &payload, err, err_len)) == 1) {
    if (skip_holes && ev.id == RT_HOLE_ID) continue;
    fn(ctx, ch, &ev, payload);
    n++;
  }
  return r < 0 ? -1 : n;
}

/* Drain every ring once. Returns records seen, or -1 on corruption (printed). */
static inline long drain_once(struct rt_consumer *c, int allow_partial, record_fn fn, void *ctx) {
  long n = 0;
  for (uint32_t ring = 0; ring < c->s->n_rings; ring++) {
    struct rt_chunk ch;
    int rc;
    while ((rc = rt_consumer_next(c, ring, &ch, allow_partial)) == 1) {
      char err[256];
      long got = chunk_records(&ch, 1, fn, ctx, err, sizeof err);
      if (got < 0) {
        fprintf(stderr, "record error: %s\n", err);
        return -1;
      }
      n += got;
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
