/* Property test of everything that reads a session's shared memory: a live
 * session (records written, some consumed) is damaged at random - bytes of
 * the header, the ring and sub-buffer control blocks, the writer table, packet
 * headers and records, overwritten with random or plausible-but-wrong values - and then
 * opened, drained (complete and prefix reads), walked record by record, and
 * checked for dead writers. Each step must succeed or fail with a message;
 * nothing may crash, read out of bounds (run under ASan in CI) or loop.
 * Seeded: the round number reproduces a failure. Usage: test_fuzz_shm [rounds] */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "util.h"

static uint32_t rng_state;
static uint32_t rnd(void) { /* xorshift32 */
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

static void count_record(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev,
                         const uint8_t *payload) {
  (void)ch, (void)ev, (void)payload;
  ++*(long *)ctx;
}

/* Damage `n` places of the object: which region, and what is written, at random. */
static void damage(const char *name, const struct rt_session *s, int n) {
  char shm[128], path[160], err[256];
  REQUIRE(rt_session_shm_name(name, shm, sizeof shm, err, sizeof err) == 0, "%s", err);
  snprintf(path, sizeof path, "/dev/shm%s", shm);
  int fd = open(path, O_RDWR);
  REQUIRE(fd >= 0, "open %s", path);
  const struct rt_session_header *h = s->hdr;
  uint64_t regions[5][2] = {
      {0, sizeof *h},
      {h->ring_ctl_offset, (uint64_t)h->n_rings * sizeof(struct rt_ring_ctl)},
      {h->sub_ctl_offset, (uint64_t)h->n_rings * h->n_sub * sizeof(struct rt_sub_ctl)},
      {h->data_offset, (uint64_t)h->n_rings * h->n_sub * h->sub_size},
      {h->writers_offset, sizeof(struct rt_writer_table) + (uint64_t)h->n_writer_slots * sizeof(struct rt_writer_slot)},
  };
  for (int i = 0; i < n; i++) {
    uint64_t *r = regions[rnd() % 5];
    uint64_t off = r[0] + (rnd() % (r[1] - 7)) / 8 * 8;
    uint64_t plausible[] = {0, 1, 7, 8, 16, 88, 4096, 0xffffffffu, 1ull << 32, UINT64_MAX, UINT64_MAX / 2,
                            RT_HOLE_ID, (uint64_t)rnd() << 32 | rnd()};
    uint64_t v = plausible[rnd() % (sizeof plausible / sizeof *plausible)];
    size_t len = rnd() % 2 ? 8 : 4;
    REQUIRE(pwrite(fd, &v, len, (off_t)off) == (ssize_t)len, "pwrite");
  }
  close(fd);
}

static void fuzz_round(int round) {
  rng_state = 0x9e3779b9u ^ (uint32_t)round * 2654435761u;
  char name[64], err[256];
  struct rt_session *s;
  test_session_name(name, sizeof name, "fuzz");
  /* Few writer slots, so damage to the table often hits the one in use. */
  struct rt_session_options o = {.sub_size = 4096, .n_sub = 4, .n_writer_slots = 4};
  REQUIRE(rt_session_create(name, &o, &s, err, sizeof err) == 0, "%s", err);
  uint8_t buf[64] = {0};
  int events = (int)(rnd() % 250);
  for (int i = 0; i < events; i++) rt_emit(s, 1 + rnd() % 3, buf, 8 + rnd() % 48);
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  long seen = 0;
  if (rnd() % 2) drain_once(&c, (int)(rnd() % 2), count_record, &seen); /* some already consumed */
  rt_consumer_fini(&c);
  damage(name, s, 1 + (int)(rnd() % 4));

  struct rt_session *opened = NULL;
  if (rt_session_open(name, &opened, err, sizeof err) == 0) {
    struct rt_consumer oc;
    rt_consumer_init(&oc, opened);
    for (int pass = 0; pass < 8; pass++) { /* bounded: damage must not make it loop */
      long n = drain_once(&oc, pass % 2, count_record, &seen);
      if (n <= 0) break;
    }
    for (uint32_t ring = 0; ring < opened->n_rings; ring++) {
      struct rt_salvage sv;
      if (rt_consumer_salvage(&oc, ring, round % 2, &sv) < 0) CHECK(oc.err[0] != 0, "round %d: salvage error has a message", round);
    }
    rt_consumer_fini(&oc);
    rt_session_close(opened);
  } else {
    CHECK(err[0] != 0, "round %d: refusal has a message", round);
  }
  rt_session_unlink(name, err, sizeof err);
  rt_session_close(s);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 300;
  pin_cpu(0);
  for (int round = 0; round < rounds; round++) fuzz_round(round);
  printf("%s - %d rounds of damaged shared memory opened, drained and salvaged\n",
         check_failures ? "not ok" : "ok", rounds);
  return CHECK_EXIT();
}
