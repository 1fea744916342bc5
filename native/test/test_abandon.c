/* A writer killed between reserving a new sub-buffer and writing its packet
 * header leaves a sub-buffer no salvage can repair. Held only by that dead
 * writer, it is abandoned rather than left to block the ring: once closed it
 * is completed and released, its records counted lost (exactly: the dead
 * record's size is the missing bytes), and the ring delivers again; still
 * open when the consumer ends, its records are counted then. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include "small_rings.h"

#define PER_SUB 100

static struct rt_session *new_session(void) { return small_session("abandon"); }

struct seen {
  long count, out_of_order;
  uint64_t next_seq;
};
static void collect(void *ctx, const struct rt_chunk *ch, const struct rt_event_header *ev, const uint8_t *payload) {
  (void)ch, (void)ev;
  struct seen *sn = ctx;
  uint64_t v;
  memcpy(&v, payload, 8);
  if (v != sn->next_seq) sn->out_of_order++;
  sn->next_seq = v + 1;
  sn->count++;
}

/* A child (same CPU, same ring) reserves the record that opens the next
 * sub-buffer and is killed before its packet header is written: the bytes
 * where the header goes are put back as they were before the reservation
 * (zeros in the first lap, the previous lap's header later). */
static void opener_dies_before_header(const struct rt_session *s) {
  pid_t pid = fork();
  REQUIRE(pid >= 0, "fork");
  if (pid == 0) {
    uint32_t ring = ring_of_cpu0(s);
    uint64_t w = s->rings[ring].write_off;
    uint64_t next = (w + s->sub_mask) & ~s->sub_mask; /* the sub-buffer our record will open */
    uint8_t *ph = rt_ring_data(s, ring) + (next & s->ring_mask), before[RT_PACKET_HEADER_SIZE];
    memcpy(before, ph, sizeof before);
    struct rt_reservation r;
    if (rt_reserve(s, 1, PAYLOAD, &r) != RT_RESERVED || r.record != ph + RT_PACKET_HEADER_SIZE) _exit(2);
    memcpy(ph, before, sizeof before);
    raise(SIGKILL);
    _exit(3);
  }
  int status;
  REQUIRE(waitpid(pid, &status, 0) == pid, "wait");
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child killed (status %d)", status);
}

/* `warm` records written and read first (later laps: an older header lies
 * where the new one was never written). Then records up to the end of the
 * current sub-buffer (none in the first lap: the dead writer opens the ring),
 * the dead opener of the next (after padding the current one), and 150 more
 * records: 99 fill the abandoned sub-buffer. */
static void dead_opener_closed(const char *what, int warm) {
  pin_cpu(0);
  struct rt_session *s = new_session();
  uint32_t ring = ring_of_cpu0(s);
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  struct seen sn = {0};
  seq = 0;
  for (int left = warm; left > 0; left -= 50) {
    emit(s, left < 50 ? left : 50);
    CHECK(drain_once(&c, 1, collect, &sn) == (left < 50 ? left : 50), "%s: warm-up", what);
  }
  /* Fill up to the end of a sub-buffer, so the next record opens one. */
  uint64_t w = s->rings[ring].write_off;
  int to_end = (int)((s->sub_size - (w & s->sub_mask)) % s->sub_size) / 40;
  if ((w & s->sub_mask) == 0) to_end = 0; /* at a boundary already */
  emit(s, to_end);
  sn = (struct seen){.next_seq = warm};
  uint64_t base = seq;
  opener_dies_before_header(s);
  emit(s, 150);
  CHECK(drain_once(&c, 1, collect, &sn) == to_end, "%s: delivered up to the dead opener", what);
  struct rt_salvage sv;
  int rc = rt_consumer_salvage(&c, ring, 0, &sv);
  CHECK(rc == RT_SALVAGE_ABANDONED && sv.released && sv.lost_exact && sv.records_lost == PER_SUB &&
            sv.dead_writers == 1,
        "%s: abandoned, exactly %d records lost (rc %d, %llu, exact %d): %s", what, PER_SUB, rc,
        (unsigned long long)sv.records_lost, sv.lost_exact, c.err);
  char where[64];
  snprintf(where, sizeof where, "ring %u: abandoned the sub-buffer at offset %llu: 100 records lost", ring,
           (unsigned long long)sv.sub_off);
  CHECK(strstr(c.err, where) && strstr(c.err, "bad header"), "%s: message names ring, offset, count: %s", what, c.err);
  CHECK(lost(s) == PER_SUB, "%s: counted lost (%llu)", what, (unsigned long long)lost(s));
  sn.next_seq = base + PER_SUB - 1; /* the parent's records after the abandoned sub-buffer */
  CHECK(drain_once(&c, 1, collect, &sn) == 150 - (PER_SUB - 1) && sn.out_of_order == 0 && sn.next_seq == base + 150,
        "%s: the ring delivers again (%ld, next %llu)", what, sn.count, (unsigned long long)sn.next_seq);
  /* Accounting: every record the parent emitted, plus the dead one, is delivered or lost. */
  CHECK((uint64_t)sn.count + lost(s) == (uint64_t)to_end + 150 + 1, "%s: delivered %ld + lost %llu", what, sn.count,
        (unsigned long long)lost(s));
  emit(s, 300);
  CHECK(drain_once(&c, 1, collect, &sn) == 300 && sn.out_of_order == 0, "%s: ring usable afterwards", what);
  rt_consumer_fini(&c);
  rt_session_close(s);
}

static void test_dead_opener_first_lap(void) { dead_opener_closed("first lap", 0); }
static void test_dead_opener_later_lap(void) { dead_opener_closed("later lap", 437); }

/* Still open (nobody wrote enough to close it): not abandoned while producers
 * may still append; when the consumer ends, its records are counted lost. */
static void test_dead_opener_open_at_end(void) {
  pin_cpu(0);
  struct rt_session *s = new_session();
  uint32_t ring = ring_of_cpu0(s);
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  struct seen sn = {0};
  seq = 0;
  emit(s, PER_SUB);
  opener_dies_before_header(s);
  emit(s, 10);
  CHECK(drain_once(&c, 1, collect, &sn) == PER_SUB, "the full sub-buffer");
  uint64_t off, before, after;
  CHECK(rt_consumer_blocked(&c, ring, &off, &before) == 1, "blocked");
  struct rt_salvage sv;
  CHECK(rt_consumer_salvage(&c, ring, 0, &sv) == RT_SALVAGE_WAIT && strstr(c.err, "abandoned once closed"),
        "not while open: %s", c.err);
  CHECK(rt_consumer_blocked(&c, ring, &off, &after) == 1 && after == before && lost(s) == 0, "nothing changed");
  CHECK(rt_consumer_salvage(&c, ring, 1, &sv) == RT_SALVAGE_ABANDONED && !sv.released && sv.lost_exact &&
            sv.records_lost == 11,
        "ending: counted (%llu, exact %d): %s", (unsigned long long)sv.records_lost, sv.lost_exact, c.err);
  CHECK(lost(s) == 11, "lost %llu", (unsigned long long)lost(s));
  CHECK(drain_once(&c, 1, collect, &sn) == 0, "nothing handed out from it");
  CHECK((uint64_t)sn.count + lost(s) == PER_SUB + 10 + 1, "delivered %ld + lost %llu", sn.count,
        (unsigned long long)lost(s));
  rt_consumer_fini(&c);
  rt_session_close(s);
}

/* A live opener that has not yet written its header (here: stopped there) is
 * waited for, never abandoned. */
static void test_live_opener_waited_for(void) {
  pin_cpu(0);
  struct rt_session *s = new_session();
  uint32_t ring = ring_of_cpu0(s);
  struct rt_consumer c;
  rt_consumer_init(&c, s);
  seq = 0;
  emit(s, PER_SUB);
  pid_t pid = fork();
  REQUIRE(pid >= 0, "fork");
  if (pid == 0) {
    uint64_t w = s->rings[ring].write_off;
    uint8_t *ph = rt_ring_data(s, ring) + (((w + s->sub_mask) & ~s->sub_mask) & s->ring_mask);
    uint8_t before[RT_PACKET_HEADER_SIZE];
    memcpy(before, ph, sizeof before);
    struct rt_reservation r;
    if (rt_reserve(s, 1, PAYLOAD, &r) != RT_RESERVED) _exit(2);
    memcpy(ph, before, sizeof before);
    raise(SIGSTOP);
    _exit(0);
  }
  int status;
  REQUIRE(waitpid(pid, &status, WUNTRACED) == pid && WIFSTOPPED(status), "child stopped");
  emit(s, 150);
  struct seen sn = {0};
  CHECK(drain_once(&c, 1, collect, &sn) == PER_SUB, "the full sub-buffer");
  struct rt_salvage sv;
  CHECK(rt_consumer_salvage(&c, ring, 1, &sv) == RT_SALVAGE_WAIT && sv.pid == (uint32_t)pid,
        "waited for the live opener: %s", c.err);
  CHECK(lost(s) == 0, "nothing counted");
  kill(pid, SIGKILL);
  REQUIRE(waitpid(pid, &status, 0) == pid, "wait");
  CHECK(rt_consumer_salvage(&c, ring, 0, &sv) == RT_SALVAGE_ABANDONED, "abandoned once it is dead: %s", c.err);
  rt_consumer_fini(&c);
  rt_session_close(s);
}

int main(void) {
  RUN(test_dead_opener_first_lap);
  RUN(test_dead_opener_later_lap);
  RUN(test_dead_opener_open_at_end);
  RUN(test_live_opener_waited_for);
  return CHECK_EXIT();
}
