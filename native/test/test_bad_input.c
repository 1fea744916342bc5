/* Bad input: sessions that are missing, foreign, truncated, of another layout
 * version, badly shaped or with a loose mode are refused with an error naming
 * the object; damaged shared state is reported by the consumer without a crash,
 * and records before the damage are still returned. */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check.h"
#include "mode.h"
#include "util.h"

#define CHECK_ERR(rc, err, text)                                                     \
  do {                                                                               \
    CHECK((rc) == -1, "expected a refusal containing '%s'", text);                   \
    CHECK(strstr((err), (text)) != NULL, "error '%s' should contain '%s'", err, text); \
  } while (0)

/* Write `len` bytes as the shm object of session `name` (mode 0600). */
static void write_raw_object(const char *name, const void *bytes, size_t len) {
  char shm[128], err[256];
  REQUIRE(rt_session_shm_name(name, shm, sizeof shm, err, sizeof err) == 0, "%s", err);
  int fd = shm_open(shm, O_RDWR | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0, "shm_open %s", shm);
  REQUIRE(fchmod(fd, 0600) == 0 && write(fd, bytes, len) == (ssize_t)len, "write %s", shm);
  close(fd);
}

static void test_missing_and_bad_names(void) {
  struct rt_session *s = NULL;
  char err[256] = "";
  CHECK_ERR(rt_session_open("no-such-session-here", &s, err, sizeof err), err,
            "no session 'no-such-session-here'");
  CHECK(strstr(err, "/dev/shm/ringtrace-") != NULL, "names the object: %s", err);
  const char *bad[] = {"", "../etc", "a/b", "-x", ".hidden", "sp ace",
                       "0123456789012345678901234567890123456789012345678901234567890123456789"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    err[0] = 0;
    CHECK(rt_session_open(bad[i], &s, err, sizeof err) == -1 && err[0], "name '%s' refused",
          bad[i]);
    CHECK(strstr(err, "session name") != NULL, "error names the problem: %s", err);
    err[0] = 0;
    CHECK(rt_session_create(bad[i], NULL, &s, err, sizeof err) == -1 && err[0],
          "create '%s' refused", bad[i]);
  }
}

static void test_foreign_truncated_uninitialized(void) {
  char name[64], err[256];
  struct rt_session *s = NULL;
  static uint8_t junk[8192];
  for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)(i * 131 + 7);

  test_session_name(name, sizeof name, "foreign");
  write_raw_object(name, junk, sizeof junk);
  CHECK_ERR(rt_session_open(name, &s, err, sizeof err), err, "is not a ringtrace session");
  CHECK(strstr(err, name) != NULL, "names the object: %s", err);
  rt_session_unlink(name, err, sizeof err);

  test_session_name(name, sizeof name, "short");
  write_raw_object(name, junk, 100);
  CHECK_ERR(rt_session_open(name, &s, err, sizeof err), err, "is truncated");
  rt_session_unlink(name, err, sizeof err);

  test_session_name(name, sizeof name, "empty");
  write_raw_object(name, junk, 0);
  CHECK_ERR(rt_session_open(name, &s, err, sizeof err), err, "is truncated");
  rt_session_unlink(name, err, sizeof err);

  static uint8_t zeros[8192];
  test_session_name(name, sizeof name, "zeros");
  write_raw_object(name, zeros, sizeof zeros);
  CHECK_ERR(rt_session_open(name, &s, err, sizeof err), err, "not initialized");
  rt_session_unlink(name, err, sizeof err);
}

/* A real session, then one header field damaged at a time: each is refused. */
typedef void (*damage_fn)(struct rt_session_header *h);
static void damage_version(struct rt_session_header *h) { h->layout_version = 99; }
static void damage_magic(struct rt_session_header *h) { h->magic ^= 1; }
static void damage_n_sub(struct rt_session_header *h) { h->n_sub = 3; }
static void damage_sub_size(struct rt_session_header *h) { h->sub_size = 12345; }
static void damage_n_cpus(struct rt_session_header *h) { h->n_cpus = 0; }
static void damage_rings(struct rt_session_header *h) { h->n_rings = h->n_cpus; }
static void damage_offset(struct rt_session_header *h) { h->data_offset += 4096; }
static void damage_total(struct rt_session_header *h) { h->total_size *= 2; }
static void damage_clock(struct rt_session_header *h) { h->clock_kind = 7; }
static void damage_name(struct rt_session_header *h) { memset(h->name, 'x', sizeof h->name); }
static void damage_bigger(struct rt_session_header *h) { h->n_sub *= 2; }
static void damage_mode(struct rt_session_header *h) { h->mode = 2; }
static void damage_mode_high(struct rt_session_header *h) { h->mode = 0x80000001u; }

static void expect_header_refused(const char *label, damage_fn damage, const char *text) {
  char name[64], err[256];
  struct rt_session *owner, *s = NULL;
  test_session_name(name, sizeof name, "hdr");
  struct rt_session_options o = {.sub_size = 4096, .n_sub = 2};
  REQUIRE(rt_session_create(name, &o, &owner, err, sizeof err) == 0, "%s", err);
  damage(owner->hdr);
  int rc = rt_session_open(name, &s, err, sizeof err);
  CHECK(rc == -1, "%s: damaged header accepted", label);
  if (rc == 0) rt_session_close(s);
  CHECK(strstr(err, text) != NULL, "%s: error '%s' should contain '%s'", label, err, text);
  CHECK(strstr(err, name) != NULL, "%s: error names the object: %s", label, err);
  rt_session_unlink(name, err, sizeof err);
  rt_session_close(owner);
}

static void test_damaged_headers(void) {
  expect_header_refused("version", damage_version, "layout version 99");
  expect_header_refused("magic", damage_magic, "not a ringtrace session");
  expect_header_refused("n_sub", damage_n_sub, "bad sub-buffer count 3");
  expect_header_refused("sub_size", damage_sub_size, "bad sub-buffer size 12345");
  expect_header_refused("n_cpus", damage_n_cpus, "bad CPU/ring count");
  expect_header_refused("n_rings", damage_rings, "bad CPU/ring count");
  expect_header_refused("offset", damage_offset, "offsets do not match");
  expect_header_refused("total", damage_total, "offsets do not match");
  expect_header_refused("clock", damage_clock, "bad clock description");
  expect_header_refused("name", damage_name, "not terminated");
  expect_header_refused("mode", damage_mode, "unknown ring mode 2");
  expect_header_refused("mode (high bit)", damage_mode_high, "unknown ring mode 2147483649");
  /* Consistent header, but the object is smaller than it claims. */
  expect_header_refused("bigger than object", damage_bigger, "offsets do not match");
}

static void test_truncated_object_and_mode(void) {
  char name[64], err[256], shm[128];
  struct rt_session *owner, *s = NULL;
  test_session_name(name, sizeof name, "trunc");
  struct rt_session_options o = {.sub_size = 4096, .n_sub = 2};
  REQUIRE(rt_session_create(name, &o, &owner, err, sizeof err) == 0, "%s", err);
  uint64_t full = owner->hdr->total_size;
  rt_session_close(owner);
  rt_session_shm_name(name, shm, sizeof shm, err, sizeof err);
  int fd = shm_open(shm, O_RDWR, 0);
  REQUIRE(fd >= 0, "reopen %s", shm);
  CHECK(ftruncate(fd, (off_t)(full - 4096)) == 0, "truncate");
  CHECK_ERR(rt_session_open(name, &s, err, sizeof err), err, "truncated or foreign");
  CHECK(ftruncate(fd, (off_t)full) == 0, "restore size");
  CHECK(rt_session_open(name, &s, err, sizeof err) == 0, "restored object opens: %s", err);
  rt_session_close(s);
  CHECK(fchmod(fd, 0644) == 0, "chmod");
  CHECK_ERR(rt_session_open(name, &s, err, sizeof err), err, "has mode 0644");
  close(fd);
  rt_session_unlink(name, err, sizeof err);

  test_session_name(name, sizeof name, "dup");
  REQUIRE(rt_session_create(name, &o, &owner, err, sizeof err) == 0, "%s", err);
  CHECK_ERR(rt_session_create(name, &o, &s, err, sizeof err), err, "already exists");
  rt_session_unlink(name, err, sizeof err);
  rt_session_close(owner);
}

static void test_bad_geometry_requests(void) {
  char err[256];
  struct rt_session *s = NULL;
  struct rt_session_options o = {.sub_size = 5000, .n_sub = 2};
  CHECK_ERR(rt_session_create("geom", &o, &s, err, sizeof err), err, "sub-buffer size 5000");
  o.sub_size = 4096;
  o.n_sub = 6;
  CHECK_ERR(rt_session_create("geom", &o, &s, err, sizeof err), err, "sub-buffer count 6");
  o.n_sub = 1;
  CHECK_ERR(rt_session_create("geom", &o, &s, err, sizeof err), err, "sub-buffer count 1");
  o.n_sub = 2;
  o.mode = 2;
  CHECK_ERR(rt_session_create("geom", &o, &s, err, sizeof err), err, "ring mode 2: must be 0 (discard) or 1 (overwrite)");
  o.mode = UINT32_MAX;
  CHECK_ERR(rt_session_create("geom", &o, &s, err, sizeof err), err, "ring mode 4294967295");
  /* Both known modes are accepted, and a session opened again reads its mode. */
  for (uint32_t mode = RT_MODE_DISCARD; mode <= RT_MODE_OVERWRITE; mode++) {
    char name[64];
    struct rt_session *other = NULL;
    test_session_name(name, sizeof name, "mode");
    o.mode = mode;
    REQUIRE(rt_session_create(name, &o, &s, err, sizeof err) == 0, "mode %u: %s", mode, err);
    REQUIRE(rt_session_open(name, &other, err, sizeof err) == 0, "%s", err);
    CHECK(s->mode == mode && other->mode == mode && other->hdr->mode == mode, "mode %u kept", mode);
    CHECK(other->full_limit == (mode == RT_MODE_OVERWRITE ? UINT64_MAX : other->ring_size), "full limit of mode %u",
          mode);
    rt_session_unlink(name, err, sizeof err);
    rt_session_close(other);
    rt_session_close(s);
  }
}

/* A session with one complete sub-buffer of 100 records (value i) and a
 * second, partly filled one, written from CPU 0. */
struct filled {
  struct rt_session *s;
  uint32_t ring;
};
static struct filled fill_session(void) {
  char name[64], err[256];
  struct filled f;
  pin_cpu(0);
  test_session_name(name, sizeof name, "cons");
  struct rt_session_options o = {.sub_size = 4096, .n_sub = 4};
  REQUIRE(rt_session_create(name, &o, &f.s, err, sizeof err) == 0, "%s", err);
  rt_session_unlink(name, err, sizeof err);
  require_expected_mode(f.s);
  f.ring = f.s->use_rseq ? 0 : f.s->n_cpus;
  for (uint64_t i = 0; i < 130; i++) {
    uint64_t v[3] = {i, i, i};
    REQUIRE(rt_emit(f.s, 1, v, sizeof v) == RT_RESERVED, "emit");
  }
  return f;
}

static int next_fails_with(struct filled *f, int allow_partial, const char *text) {
  struct rt_consumer c;
  struct rt_chunk ch;
  rt_consumer_init(&c, f->s);
  int rc = rt_consumer_next(&c, f->ring, &ch, allow_partial);
  CHECK(rc == -1, "damage not detected (rc %d)", rc);
  CHECK(strstr(c.err, text) != NULL, "error '%s' should contain '%s'", c.err, text);
  rt_consumer_fini(&c);
  return rc == -1;
}

static void test_consumer_refuses_damage(void) {
  struct filled f = fill_session();
  struct rt_sub_ctl *sc = rt_sub_ctl_at(f.s, f.ring, 0);
  uint64_t saved = sc->commit_remote;
  sc->commit_remote += 3 * f.s->sub_size; /* counters claim more than a lap */
  next_fails_with(&f, 0, "commit counters");
  sc->commit_remote = saved;

  struct rt_packet_header *ph = (struct rt_packet_header *)rt_ring_data(f.s, f.ring);
  uint32_t magic = ph->magic;
  ph->magic = 0xdeadbeef;
  next_fails_with(&f, 0, "bad header");
  ph->magic = magic;
  uint64_t content = ph->content_size;
  ph->content_size = (f.s->sub_size + 8) * 8;
  next_fails_with(&f, 0, "content size");
  ph->content_size = content;

  struct rt_ring_ctl *rc = &f.s->rings[f.ring];
  uint64_t w = rc->write_off;
  rc->write_off = w + 10 * f.s->ring_size;
  next_fails_with(&f, 0, "more than a ring ahead");
  rc->write_off = w;

  /* Undamaged again: everything is delivered. */
  struct rt_consumer c;
  rt_consumer_init(&c, f.s);
  long n = 0;
  struct rt_chunk ch;
  while (rt_consumer_next(&c, f.ring, &ch, 1) == 1) {
    uint32_t pos = ch.begin;
    struct rt_event_header ev;
    const uint8_t *p;
    char err[256];
    while (rt_chunk_next_record(&ch, &pos, &ev, &p, err, sizeof err) == 1) n++;
    rt_consumer_done(&c, &ch);
    if (!ch.complete) break;
  }
  CHECK(n == 130, "restored session delivers all 130, got %ld", n);
  rt_consumer_fini(&c);
  rt_session_close(f.s);
}

/* A malformed record stops the walk at its offset; the records before it are
 * returned intact. */
static void test_bad_record_keeps_prefix(void) {
  struct filled f = fill_session();
  struct rt_consumer c;
  rt_consumer_init(&c, f.s);
  struct rt_chunk ch;
  REQUIRE(rt_consumer_next(&c, f.ring, &ch, 0) == 1 && ch.complete, "first sub-buffer complete");
  uint32_t stride = rt_record_stride(RT_EVENT_HEADER_SIZE + 24);
  struct rt_event_header *victim = (struct rt_event_header *)(ch.sub + ch.begin + 6 * stride);
  const uint32_t bad_sizes[] = {0, 3, 1u << 20, 0xffffffffu};
  for (size_t k = 0; k < sizeof bad_sizes / sizeof *bad_sizes; k++) {
    uint32_t good = victim->size;
    victim->size = bad_sizes[k];
    uint32_t pos = ch.begin;
    struct rt_event_header ev;
    const uint8_t *p;
    char err[256] = "";
    int r, n = 0;
    uint64_t sum = 0;
    while ((r = rt_chunk_next_record(&ch, &pos, &ev, &p, err, sizeof err)) == 1) {
      uint64_t v;
      memcpy(&v, p, 8);
      sum += v;
      n++;
    }
    CHECK(r == -1 && n == 6 && sum == 0 + 1 + 2 + 3 + 4 + 5,
          "size %u: 6 intact records then an error (r %d, n %d)", bad_sizes[k], r, n);
    CHECK(strstr(err, "bad size") != NULL && strstr(err, "offset") != NULL, "error: %s", err);
    victim->size = good;
  }
  /* A misaligned or truncated walk position is refused too. */
  uint32_t pos = ch.begin + 4;
  struct rt_event_header ev;
  const uint8_t *p;
  char err[256] = "";
  CHECK(rt_chunk_next_record(&ch, &pos, &ev, &p, err, sizeof err) == -1 &&
            strstr(err, "truncated record") != NULL,
        "misaligned position refused: %s", err);
  rt_consumer_fini(&c);
  rt_session_close(f.s);
}

int main(void) {
  RUN(test_missing_and_bad_names);
  RUN(test_foreign_truncated_uninitialized);
  RUN(test_damaged_headers);
  RUN(test_truncated_object_and_mode);
  RUN(test_bad_geometry_requests);
  RUN(test_consumer_refuses_damage);
  RUN(test_bad_record_keeps_prefix);
  return CHECK_EXIT();
}
