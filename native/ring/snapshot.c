/* Snapshots and peeks of rings that writers may overwrite (see snapshot.h).
 *
 * A seqlock-style read. Writers never wait for this reader; what makes a copy
 * trustworthy is that a writer changes a sub-buffer's bytes only after it has
 * reserved into the sub-buffer's next lap, and a reservation is a store to
 * write_off. So: check the lap is complete (or take the committed prefix of
 * the one being filled, as rt_consumer_next does), copy it, then an acquire
 * fence and write_off again: still no reservation past the start of the next
 * lap means no writer stored into what was copied. For that the writer's
 * reserving store must become visible before its stores into the lap: the
 * opener of a lap fences after its reservation (producer_slow.c), the others
 * store to addresses computed from the write offset they read. The fence here
 * keeps the copy's loads before the re-read (x86-64: loads are not reordered
 * with loads, a compiler barrier suffices; aarch64: dmb ishld).
 * Nothing here writes shared memory; every header and length read from it is
 * validated on the private copy. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "error.h"
#include "snapshot.h"

#define TRIES 8 /* rounds for a sub-buffer whose commits are in flight, or a prefix moving */

enum copy_result { KEPT, TORN, GONE, OPEN, DAMAGED };

/* Packet header of a copy: the one the ring's writers wrote for this lap.
 * Returns its content end (bytes; `len` for a prefix), or 0 if not valid. */
static uint32_t copied_content(const struct rt_session *s, uint32_t ring, uint64_t x, const uint8_t *copy,
                               int closed, uint64_t len) {
  struct rt_packet_header ph;
  memcpy(&ph, copy, sizeof ph);
  if (ph.magic != RT_PACKET_MAGIC || ph.packet_seq_num != x >> s->sub_shift || ph.stream_instance_id != ring ||
      ph.packet_size != s->sub_size * 8)
    return 0;
  if (!closed) return (uint32_t)len;
  uint64_t bits = ph.content_size;
  if (bits % (8 * RT_RECORD_ALIGN) || bits / 8 < RT_PACKET_HEADER_SIZE || bits / 8 > s->sub_size) return 0;
  return (uint32_t)(bits / 8);
}

/* The bytes of sub-buffer instance x that are committed now: a complete lap
 * (sub_size) or, for the one being filled, the prefix up to write_off. 0:
 * try again (commits in flight, a writer inside, or the prefix moving);
 * UINT64_MAX: a writer already reserved into x's next lap. *closed says which. */
static uint64_t committed_now(const struct rt_session *s, uint32_t ring, uint64_t x, int *closed) {
  struct rt_ring_ctl *rc = &s->rings[ring];
  /* Acquire on write_off, then on the counters: a sum covering everything up
   * to write_off means those reservations were all committed, and their
   * bytes (released by the commits) are visible to the copy that follows. */
  uint64_t w = __atomic_load_n(&rc->write_off, __ATOMIC_ACQUIRE);
  if (w > x + s->ring_size) return UINT64_MAX;
  struct rt_sub_ctl *sc = rt_sub_ctl_at(s, ring, x);
  uint64_t base = (x / s->ring_size) * s->sub_size;
  uint64_t sum = __atomic_load_n(&sc->commit_local, __ATOMIC_ACQUIRE) +
                 __atomic_load_n(&sc->commit_remote, __ATOMIC_ACQUIRE);
  *closed = w >= x + s->sub_size;
  if (*closed) {
    if (sum > base + s->sub_size) return UINT64_MAX; /* the next lap commits already */
    return sum == base + s->sub_size ? s->sub_size : 0;
  }
  uint64_t reserved = w - x;
  if (sum != base + reserved) return 0;
  /* Unchanged: no reservation slipped in between, so [0, reserved) is
   * exactly the committed prefix (as in rt_consumer_next). */
  if (__atomic_load_n(&rc->write_off, __ATOMIC_ACQUIRE) != w) return 0;
  return reserved;
}

/* Was anything reserved into x's next lap since the copy began? The fence
 * orders the copy's loads before this one (see the file comment). */
static int overwritten_since(const struct rt_session *s, uint32_t ring, uint64_t x) {
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  return __atomic_load_n(&s->rings[ring].write_off, __ATOMIC_RELAXED) > x + s->ring_size;
}

/* Copy sub-buffer instance x of `ring` to dst; on KEPT, *ch describes it. */
static enum copy_result copy_sub(const struct rt_session *s, uint32_t ring, uint64_t x, uint8_t *dst,
                                 struct rt_chunk *ch) {
  const uint8_t *sub = rt_ring_data(s, ring) + (x & s->ring_mask);
  int closed = 0;
  uint64_t len = 0;
  for (int round = 0; round < TRIES && len == 0; round++) {
    if (round >= 2) sched_yield(); /* give a writer between reserve and commit the CPU */
    len = committed_now(s, ring, x, &closed);
  }
  if (len == UINT64_MAX) return GONE;
  if (len == 0) return OPEN;
  memcpy(dst, sub, len);
  struct rt_clock_pairs clock = rt_clock_pairs_load(rt_sub_ctl_at(s, ring, x)); /* checked with the copy below */
  if (overwritten_since(s, ring, x)) return TORN;
  uint32_t end = copied_content(s, ring, x, dst, closed, len);
  if (!end) return DAMAGED;
  *ch = (struct rt_chunk){.ring = ring, .sub_off = x, .sub = dst, .begin = RT_PACKET_HEADER_SIZE, .end = end,
                          .complete = closed, .clock = clock};
  return KEPT;
}

/* The sub-buffer instances a ring holds at write offset w (> 0): the n_sub
 * up to the one being filled, or up to w when it sits on a boundary. */
static void held_range(const struct rt_session *s, uint64_t w, uint64_t *first, uint64_t *last) {
  uint64_t span = (uint64_t)(s->n_sub - 1) * s->sub_size;
  *last = (w & s->sub_mask) ? w & ~s->sub_mask : w - s->sub_size;
  *first = *last >= span ? *last - span : 0;
}

/* `size` bytes for the copies, mapped and faulted in before write_off is read
 * for them, so the copies (racing the writers) do not also wait for page
 * faults; on huge pages where the kernel gives them (transparent huge pages
 * in madvise mode): 64 MiB were populated in 5.6 ms instead of 17 (4 KiB
 * pages zeroed one fault at a time) and unmapped in 0.2 instead of 3.5 ms.
 * NULL if out of memory. */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif
#define HUGE_PAGE (2u << 20)
static uint8_t *copy_buffer(uint64_t size) {
  size_t span = size >= HUGE_PAGE ? size + HUGE_PAGE : size;
  uint8_t *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return NULL;
  uint8_t *a = m;
  if (span > size) { /* keep the huge-page aligned part */
    a = (uint8_t *)(((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (a > m) munmap(m, (size_t)(a - m));
    if (m + span > a + size) munmap(a + size, (size_t)(m + span - (a + size)));
    madvise(a, size, MADV_HUGEPAGE); /* a hint: without THP, 4 KiB pages */
  }
  if (madvise(a, size, MADV_POPULATE_WRITE)) { /* an older kernel: touch each page */
    long page = sysconf(_SC_PAGESIZE);
    for (uint64_t i = 0; i < size; i += (uint64_t)page) a[i] = 0;
  }
  return a;
}

/* Relaxed: statistics, read after the copies (never exact while writers run). */
static void read_counters(struct rt_ring_ctl *rc, struct rt_snapshot_ring *out) {
  out->lost = __atomic_load_n(&rc->lost_local, __ATOMIC_RELAXED) + __atomic_load_n(&rc->lost_remote, __ATOMIC_RELAXED);
  out->overwritten_records = __atomic_load_n(&rc->overwritten_records, __ATOMIC_RELAXED);
  out->overwritten_bytes = __atomic_load_n(&rc->overwritten_bytes, __ATOMIC_RELAXED);
}

int rt_snapshot_ring_take(const struct rt_session *s, uint32_t ring, struct rt_snapshot_ring *out, char *err,
                          size_t errlen) {
  memset(out, 0, sizeof *out);
  out->ring = ring;
  if (ring >= s->n_rings) return rt_error(err, errlen, "ring %u: no such ring (%u rings)", ring, s->n_rings);
  struct rt_ring_ctl *rc = &s->rings[ring];
  if (__atomic_load_n(&rc->write_off, __ATOMIC_RELAXED) == 0) { /* never written (most atomic rings) */
    read_counters(rc, out);
    return 0;
  }
  uint8_t *buf = copy_buffer(s->ring_size);
  out->chunks = calloc(s->n_sub, sizeof *out->chunks);
  if (!buf || !out->chunks) {
    if (buf) munmap(buf, s->ring_size);
    return rt_error(err, errlen, "ring %u: out of memory for a snapshot of %llu bytes", ring,
                    (unsigned long long)s->ring_size);
  }
  out->buf = buf;
  out->buf_size = s->ring_size;
  uint64_t x, last;
  held_range(s, __atomic_load_n(&rc->write_off, __ATOMIC_ACQUIRE), &x, &last);
  /* Oldest first: they are the ones writers overwrite next. At most two
   * rings' worth of copies, so a reader slower than the writers ends. */
  for (uint32_t budget = 2 * s->n_sub; x <= last && budget > 0; budget--) {
    struct rt_chunk ch;
    enum copy_result r = copy_sub(s, ring, x, out->buf + (uint64_t)out->n_chunks * s->sub_size, &ch);
    if (r == KEPT) {
      out->chunks[out->n_chunks++] = ch;
      x += s->sub_size;
      continue;
    }
    if (r == TORN) out->torn++;
    if (r == OPEN) out->open_skipped++;
    if (r == DAMAGED) out->damaged++;
    /* A gap: what is older is left out, so the run stays contiguous. The
     * one being filled, not readable now, only ends the run early. */
    if (!(r == OPEN && x == last)) out->n_chunks = 0;
    if (r == TORN || r == GONE) {
      /* Writers got ahead of us (the reader was descheduled, or is slower):
       * go on from the oldest sub-buffer still whole now, up to the newest. */
      uint64_t first;
      held_range(s, __atomic_load_n(&rc->write_off, __ATOMIC_ACQUIRE), &first, &last);
      x = first > x + s->sub_size ? first : x + s->sub_size;
    } else {
      x += s->sub_size;
    }
  }
  read_counters(rc, out);
  return 0;
}

void rt_snapshot_ring_free(struct rt_snapshot_ring *out) {
  if (out->buf) munmap(out->buf, out->buf_size);
  free(out->chunks);
  memset(out, 0, sizeof *out);
}

int rt_peek_next(const struct rt_session *s, uint32_t ring, uint64_t *pos, uint8_t *buf, struct rt_chunk *out,
                 uint64_t *skipped, char *err, size_t errlen) {
  if (ring >= s->n_rings) return rt_error(err, errlen, "ring %u: no such ring (%u rings)", ring, s->n_rings);
  struct rt_ring_ctl *rc = &s->rings[ring];
  for (int round = 0; round < TRIES; round++) {
    uint64_t w = __atomic_load_n(&rc->write_off, __ATOMIC_ACQUIRE), p = *pos;
    if (p > w)
      return rt_error(err, errlen, "ring %u: peek position %llu is past the write offset %llu", ring,
                      (unsigned long long)p, (unsigned long long)w);
    /* The oldest sub-buffer still whole: the previous lap of the one writers
     * open next. Anything before it was overwritten unseen. */
    uint64_t next_open = (w + s->sub_mask) & ~s->sub_mask;
    uint64_t oldest = next_open >= s->ring_size ? next_open - s->ring_size : 0;
    if (p < oldest) {
      *skipped += oldest - p;
      *pos = p = oldest;
    }
    if (p == w) return 0;
    uint64_t x = p & ~s->sub_mask;
    uint32_t begin = p - x < RT_PACKET_HEADER_SIZE ? RT_PACKET_HEADER_SIZE : (uint32_t)(p - x);
    int closed = 0;
    uint64_t len = committed_now(s, ring, x, &closed);
    if (len == UINT64_MAX) continue; /* overwritten meanwhile: skip past it next round */
    if (len == 0) {
      if (closed) return 0; /* commits in flight, or a writer died in it: wait */
      continue;             /* the prefix moved: look again */
    }
    const uint8_t *sub = rt_ring_data(s, ring) + (x & s->ring_mask);
    memcpy(buf, sub, RT_PACKET_HEADER_SIZE);
    if (len > begin) memcpy(buf + begin, sub + begin, len - begin);
    if (overwritten_since(s, ring, x)) continue;
    uint32_t end = copied_content(s, ring, x, buf, closed, len);
    if (!end || end < begin) {
      if (!closed) continue; /* a prefix always has its header: read as it was being overwritten */
      *skipped += x + s->sub_size - p;
      *pos = x + s->sub_size;
      return rt_error(err, errlen, "ring %u: sub-buffer at %llu has a bad packet header or content size; skipped",
                      ring, (unsigned long long)x);
    }
    if (end == begin) {
      if (!closed) return 0;
      *pos = x + s->sub_size; /* all of it handed out: on to the next */
      continue;
    }
    *out = (struct rt_chunk){.ring = ring, .sub_off = x, .sub = buf, .begin = begin, .end = end, .complete = closed};
    *pos = closed ? x + s->sub_size : x + end;
    return 1;
  }
  return 0;
}
