/* Session shared-memory object: create, open, validate, close (cold paths). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "error.h"
#include "rseq.h"
#include "session.h"

#define SHM_DIR "/dev/shm"


static int is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

struct geometry {
  uint64_t ring_ctl_offset, sub_ctl_offset, writers_offset, data_offset, total_size;
};

static uint64_t round_up(uint64_t v, uint64_t to) { return (v + to - 1) / to * to; }

/* The one place offsets are derived; open() recomputes them and demands equality. */
static int compute_geometry(uint32_t n_cpus, uint32_t n_sub, uint64_t sub_size, uint32_t n_writers,
                            uint32_t page, struct geometry *g) {
  uint64_t n_rings = 2ull * n_cpus;
  g->ring_ctl_offset = round_up(sizeof(struct rt_session_header), page);
  g->sub_ctl_offset = g->ring_ctl_offset + n_rings * sizeof(struct rt_ring_ctl);
  g->writers_offset = g->sub_ctl_offset + n_rings * n_sub * sizeof(struct rt_sub_ctl);
  g->data_offset = round_up(g->writers_offset + sizeof(struct rt_writer_table) +
                                (uint64_t)n_writers * sizeof(struct rt_writer_slot),
                            page);
  /* Bounds (n_cpus <= 4096, n_sub <= 65536, sub_size <= 1 GiB) keep this below 2^63
   * only up to the product; refuse anything that would overflow. */
  unsigned __int128 data = (unsigned __int128)n_rings * n_sub * sub_size;
  if (data > ((unsigned __int128)1 << 46)) return -1; /* 64 TiB: surely not a real session */
  g->total_size = g->data_offset + (uint64_t)data;
  return 0;
}

/* Parse a CPU list like "0-3" or "0,2-5,8" and return its highest CPU + 1
 * (0 if the text is not such a list). */
static uint32_t cpu_list_span(const char *text) {
  unsigned long max = 0;
  int any = 0;
  for (const char *p = text; *p && *p != '\n';) {
    char *end;
    unsigned long v = strtoul(p, &end, 10);
    if (end == p || (*end != '-' && *end != ',' && *end != '\n' && *end != '\0')) return 0;
    if (v >= RT_MAX_CPUS) return 0;
    if (v + 1 > max) max = v + 1;
    any = 1;
    p = *end == '-' || *end == ',' ? end + 1 : end;
  }
  return any ? (uint32_t)max : 0;
}

static uint32_t possible_cpus(void) {
  uint32_t n = 0;
  FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
  if (f) {
    char buf[1024];
    if (fgets(buf, sizeof buf, f)) n = cpu_list_span(buf);
    fclose(f);
  }
  if (n == 0) {
    long conf = sysconf(_SC_NPROCESSORS_CONF);
    n = conf > 0 && conf <= (long)RT_MAX_CPUS ? (uint32_t)conf : 1;
  }
  return n;
}

int rt_session_shm_name(const char *name, char *out, size_t outlen, char *err, size_t errlen) {
  size_t len = name ? strlen(name) : 0;
  if (len == 0 || len >= RT_SESSION_NAME_MAX)
    return rt_error(err, errlen, "session name must be 1..%u characters", RT_SESSION_NAME_MAX - 1);
  if (name[0] == '.' || name[0] == '-')
    return rt_error(err, errlen, "session name '%s' must not start with '.' or '-'", name);
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_' || c == '-' || c == '.';
    if (!ok)
      return rt_error(err, errlen, "session name '%s' may only contain letters, digits, '_', '-', '.'",
                  name);
  }
  snprintf(out, outlen, "/ringtrace-%u-%s", (unsigned)geteuid(), name);
  return 0;
}

/* `h` holds validated values (a private copy when opening); `map` is the mapping. */
static void fill_handle(struct rt_session *s, const struct rt_session_header *h, void *map) {
  s->hdr = map;
  s->map_size = h->total_size;
  s->rings = (struct rt_ring_ctl *)((uint8_t *)map + h->ring_ctl_offset);
  s->subs = (struct rt_sub_ctl *)((uint8_t *)map + h->sub_ctl_offset);
  s->writers = (struct rt_writer_table *)((uint8_t *)map + h->writers_offset);
  s->n_writer_slots = h->n_writer_slots;
  static uint64_t keys;
  s->writer_key = __atomic_add_fetch(&keys, 1, __ATOMIC_RELAXED);
  s->data = (uint8_t *)map + h->data_offset;
  s->n_cpus = h->n_cpus;
  s->n_rings = h->n_rings;
  s->n_sub = h->n_sub;
  s->sub_index_mask = h->n_sub - 1;
  s->sub_size = h->sub_size;
  s->sub_shift = (uint32_t)__builtin_ctzll(h->sub_size);
  s->sub_mask = h->sub_size - 1;
  s->ring_size = h->sub_size * h->n_sub;
  s->ring_mask = s->ring_size - 1;
  s->max_payload = (uint32_t)(h->sub_size - RT_PACKET_HEADER_SIZE - RT_EVENT_HEADER_SIZE);
  s->mode = h->mode;
  s->full_limit = h->mode == RT_MODE_OVERWRITE ? UINT64_MAX : s->ring_size;
  s->clock_kind = h->clock_kind;
  s->use_rseq = rt_rseq_available();
  memcpy(s->uuid, h->uuid, 16);
  memcpy(s->name, h->name, RT_SESSION_NAME_MAX);
  for (uint32_t i = 0; i < s->n_rings; i++) {
    s->views[i].data = s->data + (uint64_t)i * s->ring_size;
    s->views[i].subs = s->subs + (uint64_t)i * s->n_sub;
  }
}

/* One allocation for the handle and its per-ring views. */
static struct rt_session *alloc_handle(uint32_t n_rings) {
  struct rt_session *s = calloc(1, sizeof *s + (size_t)n_rings * sizeof(struct rt_ring_view));
  if (s) s->views = (struct rt_ring_view *)(s + 1);
  return s;
}

int rt_session_create(const char *name, const struct rt_session_options *opt,
                      struct rt_session **out, char *err, size_t errlen) {
  char shm[128];
  if (rt_session_shm_name(name, shm, sizeof shm, err, errlen)) return -1;
  uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);
  uint64_t sub_size = opt && opt->sub_size ? opt->sub_size : RT_DEFAULT_SUB_SIZE;
  uint32_t n_sub = opt && opt->n_sub ? opt->n_sub : RT_DEFAULT_N_SUB;
  uint32_t n_writers = opt && opt->n_writer_slots ? opt->n_writer_slots : RT_DEFAULT_WRITER_SLOTS;
  if (!is_pow2(sub_size) || sub_size < RT_MIN_SUB_SIZE || sub_size < page ||
      sub_size > RT_MAX_SUB_SIZE)
    return rt_error(err, errlen, "sub-buffer size %llu: must be a power of two in [%u, %u]",
                (unsigned long long)sub_size, page > RT_MIN_SUB_SIZE ? page : RT_MIN_SUB_SIZE,
                RT_MAX_SUB_SIZE);
  if (!is_pow2(n_sub) || n_sub < RT_MIN_N_SUB || n_sub > RT_MAX_N_SUB)
    return rt_error(err, errlen, "sub-buffer count %u: must be a power of two in [%u, %u]", n_sub,
                RT_MIN_N_SUB, RT_MAX_N_SUB);
  if (n_writers < RT_MIN_WRITER_SLOTS || n_writers > RT_MAX_WRITER_SLOTS)
    return rt_error(err, errlen, "writer slot count %u: must be in [%u, %u]", n_writers, RT_MIN_WRITER_SLOTS,
                    RT_MAX_WRITER_SLOTS);
  uint32_t mode = opt ? opt->mode : RT_MODE_DISCARD;
  if (mode != RT_MODE_DISCARD && mode != RT_MODE_OVERWRITE)
    return rt_error(err, errlen, "ring mode %u: must be %u (discard) or %u (overwrite)", mode, RT_MODE_DISCARD,
                    RT_MODE_OVERWRITE);
  struct rt_clock_desc clk;
  if (rt_clock_choose(opt ? opt->clock_kind : 0, &clk, err, errlen)) return -1;
  uint32_t n_cpus = possible_cpus();
  struct geometry g;
  if (compute_geometry(n_cpus, n_sub, sub_size, n_writers, page, &g))
    return rt_error(err, errlen, "session too large: %u CPUs x %u x %llu bytes", n_cpus, n_sub,
                (unsigned long long)sub_size);

  int fd = shm_open(shm, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST)
      return rt_error(err, errlen, "session '%s' already exists (%s%s)", name, SHM_DIR, shm);
    return rt_error(err, errlen, "cannot create %s%s: %s", SHM_DIR, shm, strerror(errno));
  }
  /* The umask may have narrowed the mode; make it exactly owner read/write.
   * Allocate every page now (tmpfs supports fallocate): a sparse object would
   * let a producer's first write to a page SIGBUS the traced application when
   * /dev/shm is full. Here the failure is a clear error instead. */
  int alloc_err = fchmod(fd, 0600) ? errno : 0;
  if (!alloc_err) alloc_err = posix_fallocate(fd, 0, (off_t)g.total_size);
  if (alloc_err) {
    close(fd);
    shm_unlink(shm);
    return rt_error(err, errlen, "cannot allocate %llu bytes for %s%s: %s%s",
                (unsigned long long)g.total_size, SHM_DIR, shm, strerror(alloc_err),
                alloc_err == ENOSPC ? " (is " SHM_DIR " full? try smaller or fewer sub-buffers)" : "");
  }
  /* MAP_POPULATE: fill the page tables now, so producers never take a page
   * fault on the fast path during the first lap of each ring. */
  void *map = mmap(NULL, g.total_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) {
    int e = errno;
    shm_unlink(shm);
    return rt_error(err, errlen, "cannot map %s%s: %s", SHM_DIR, shm, strerror(e));
  }
  struct rt_session_header *h = map;
  h->layout_version = RT_LAYOUT_VERSION;
  h->header_size = sizeof *h;
  h->page_size = page;
  h->n_cpus = n_cpus;
  h->n_rings = 2 * n_cpus;
  h->n_sub = n_sub;
  h->sub_size = sub_size;
  h->ring_ctl_offset = g.ring_ctl_offset;
  h->sub_ctl_offset = g.sub_ctl_offset;
  h->writers_offset = g.writers_offset;
  h->n_writer_slots = n_writers;
  h->mode = mode;
  h->data_offset = g.data_offset;
  h->total_size = g.total_size;
  if (getrandom(h->uuid, sizeof h->uuid, 0) != (ssize_t)sizeof h->uuid) {
    for (size_t i = 0; i < sizeof h->uuid; i++) h->uuid[i] = (uint8_t)rand();
  }
  h->uuid[6] = (uint8_t)((h->uuid[6] & 0x0f) | 0x40); /* RFC 4122 v4 */
  h->uuid[8] = (uint8_t)((h->uuid[8] & 0x3f) | 0x80);
  h->clock_kind = clk.kind;
  h->creator_uid = (uint32_t)geteuid();
  h->clock_freq_hz = clk.freq_hz;
  h->clock_ref_ticks = clk.ref_ticks;
  h->clock_ref_realtime_ns = clk.ref_realtime_ns;
  h->monotonic_ref_ns = clk.monotonic_ref_ns;
  h->monotonic_ref_realtime_ns = clk.monotonic_ref_realtime_ns;
  snprintf(h->clock_why, sizeof h->clock_why, "%s", clk.why);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  h->created_realtime_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
  snprintf(h->name, sizeof h->name, "%s", name);
  /* Release: an opener that sees the magic sees a fully written header. */
  __atomic_store_n(&h->magic, RT_SESSION_MAGIC, __ATOMIC_RELEASE);

  struct rt_session *s = alloc_handle(h->n_rings);
  if (!s) {
    munmap(map, g.total_size);
    shm_unlink(shm);
    return rt_error(err, errlen, "out of memory");
  }
  fill_handle(s, h, map);
  s->created = 1;
  *out = s;
  return 0;
}

int rt_session_header_check(const struct rt_session_header *h, uint64_t object_size,
                            const char *what, char *err, size_t errlen) {
  if (object_size < sizeof *h)
    return rt_error(err, errlen, "%s is truncated: %llu bytes, a session header needs %zu", what,
                (unsigned long long)object_size, sizeof *h);
  uint64_t magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE);
  if (magic == 0)
    return rt_error(err, errlen, "%s is not initialized (no magic yet, or not a session)", what);
  if (magic != RT_SESSION_MAGIC)
    return rt_error(err, errlen, "%s is not a ringtrace session (magic %016llx)", what,
                (unsigned long long)magic);
  if (h->layout_version != RT_LAYOUT_VERSION)
    return rt_error(err, errlen, "%s has layout version %u; this ringtrace reads version %u", what,
                h->layout_version, RT_LAYOUT_VERSION);
  if (h->header_size != sizeof *h)
    return rt_error(err, errlen, "%s: header size %u, expected %zu", what, h->header_size, sizeof *h);
  uint32_t page = (uint32_t)sysconf(_SC_PAGESIZE);
  if (h->page_size != page)
    return rt_error(err, errlen, "%s: page size %u, this machine uses %u", what, h->page_size, page);
  if (h->n_cpus == 0 || h->n_cpus > RT_MAX_CPUS || h->n_rings != 2 * h->n_cpus)
    return rt_error(err, errlen, "%s: bad CPU/ring count %u/%u", what, h->n_cpus, h->n_rings);
  if (!is_pow2(h->n_sub) || h->n_sub < RT_MIN_N_SUB || h->n_sub > RT_MAX_N_SUB)
    return rt_error(err, errlen, "%s: bad sub-buffer count %u", what, h->n_sub);
  if (!is_pow2(h->sub_size) || h->sub_size < RT_MIN_SUB_SIZE || h->sub_size < page ||
      h->sub_size > RT_MAX_SUB_SIZE)
    return rt_error(err, errlen, "%s: bad sub-buffer size %llu", what,
                (unsigned long long)h->sub_size);
  if (h->n_writer_slots < RT_MIN_WRITER_SLOTS || h->n_writer_slots > RT_MAX_WRITER_SLOTS)
    return rt_error(err, errlen, "%s: bad writer slot count %u", what, h->n_writer_slots);
  struct geometry g;
  if (compute_geometry(h->n_cpus, h->n_sub, h->sub_size, h->n_writer_slots, page, &g) ||
      g.ring_ctl_offset != h->ring_ctl_offset || g.sub_ctl_offset != h->sub_ctl_offset ||
      g.writers_offset != h->writers_offset || g.data_offset != h->data_offset ||
      g.total_size != h->total_size)
    return rt_error(err, errlen, "%s: region offsets do not match its geometry", what);
  if (object_size != h->total_size)
    return rt_error(err, errlen, "%s is %llu bytes but its header says %llu (truncated or foreign)",
                what, (unsigned long long)object_size, (unsigned long long)h->total_size);
  if ((h->clock_kind != RT_CLOCK_CYCLES && h->clock_kind != RT_CLOCK_MONOTONIC) ||
      h->clock_freq_hz == 0)
    return rt_error(err, errlen, "%s: bad clock description (kind %u, %llu Hz)", what, h->clock_kind,
                (unsigned long long)h->clock_freq_hz);
  if (h->mode != RT_MODE_DISCARD && h->mode != RT_MODE_OVERWRITE)
    return rt_error(err, errlen, "%s: unknown ring mode %u", what, h->mode);
  if (memchr(h->name, 0, sizeof h->name) == NULL)
    return rt_error(err, errlen, "%s: session name is not terminated", what);
  return 0;
}

int rt_session_open(const char *name, struct rt_session **out, char *err, size_t errlen) {
  char shm[128], what[160];
  if (rt_session_shm_name(name, shm, sizeof shm, err, errlen)) return -1;
  snprintf(what, sizeof what, "%s%s", SHM_DIR, shm);
  int fd = shm_open(shm, O_RDWR | O_CLOEXEC, 0);
  if (fd < 0) {
    if (errno == ENOENT) return rt_error(err, errlen, "no session '%s' (%s does not exist)", name, what);
    return rt_error(err, errlen, "cannot open %s: %s", what, strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st)) {
    int e = errno;
    close(fd);
    return rt_error(err, errlen, "cannot stat %s: %s", what, strerror(e));
  }
  const char *problem = NULL;
  char buf[96];
  if (!S_ISREG(st.st_mode))
    problem = "is not a regular file";
  else if (st.st_uid != geteuid()) {
    snprintf(buf, sizeof buf, "is owned by uid %u, not by you (uid %u)", (unsigned)st.st_uid,
             (unsigned)geteuid());
    problem = buf;
  } else if (st.st_mode & 077) {
    snprintf(buf, sizeof buf, "has mode %04o; a session must be 0600", (unsigned)(st.st_mode & 07777));
    problem = buf;
  }
  if (problem) {
    close(fd);
    return rt_error(err, errlen, "refusing %s: it %s", what, problem);
  }
  uint64_t size = (uint64_t)st.st_size;
  if (size < sizeof(struct rt_session_header)) {
    close(fd);
    return rt_session_header_check(NULL, size, what, err, errlen);
  }
  /* Map only the header first: its sizes are not trusted until checked. */
  struct rt_session_header *h = mmap(NULL, sizeof *h, PROT_READ, MAP_SHARED, fd, 0);
  if (h == MAP_FAILED) {
    int e = errno;
    close(fd);
    return rt_error(err, errlen, "cannot map %s: %s", what, strerror(e));
  }
  struct rt_session_header copy;
  memcpy(&copy, h, sizeof copy); /* validate a private copy: shm may change under us */
  munmap(h, sizeof *h);
  if (rt_session_header_check(&copy, size, what, err, errlen)) {
    close(fd);
    return -1;
  }
  /* MAP_POPULATE: no page faults in this process's fast path (see create). */
  void *map = mmap(NULL, copy.total_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) return rt_error(err, errlen, "cannot map %s: %s", what, strerror(errno));
  struct rt_session *s = alloc_handle(copy.n_rings);
  if (!s) {
    munmap(map, copy.total_size);
    return rt_error(err, errlen, "out of memory");
  }
  /* Geometry comes from the validated copy, never from the live header. */
  fill_handle(s, &copy, map);
  *out = s;
  return 0;
}

void rt_session_set_rseq(struct rt_session *s, int enabled) {
  s->use_rseq = enabled && rt_rseq_available();
}

void rt_session_close(struct rt_session *s) {
  if (!s) return;
  munmap(s->hdr, s->map_size);
  free(s);
}

int rt_session_unlink(const char *name, char *err, size_t errlen) {
  char shm[128];
  if (rt_session_shm_name(name, shm, sizeof shm, err, errlen)) return -1;
  if (shm_unlink(shm)) return rt_error(err, errlen, "cannot remove %s%s: %s", SHM_DIR, shm, strerror(errno));
  return 0;
}
