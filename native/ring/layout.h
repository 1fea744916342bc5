/* Shared-memory layout of a ringtrace session: the only definition of the bytes
 * that producers (any process of the user) and the consumer agree on.
 * Change anything here => bump RT_LAYOUT_VERSION. See docs/design.md. */
#ifndef RINGTRACE_RING_LAYOUT_H
#define RINGTRACE_RING_LAYOUT_H

#include <stdint.h>

#define RT_SESSION_MAGIC 0x3130454341525452ULL /* "RTRACE01" little-endian */
#define RT_LAYOUT_VERSION 6u /* 2: consumer_mark; 3: writer table; 4: selection generation;
                               * 5: overwrite mode, snapshot requests, heartbeats;
                               * 6: clock pairs per sub-buffer, monotonic reference, clock reason */
#define RT_CACHELINE 64u
#define RT_PACKET_MAGIC 0xC1FC1FC1u /* CTF packet magic */

/* Clocks a session can stamp events with (decided once, at creation). */
enum rt_clock_kind {
  RT_CLOCK_CYCLES = 1,    /* raw invariant TSC (x86-64) / CNTVCT (arm64) */
  RT_CLOCK_MONOTONIC = 2, /* clock_gettime(CLOCK_MONOTONIC), nanoseconds */
};

/* What a writer does when its ring is full (decided once, at creation). */
enum rt_ring_mode {
  RT_MODE_DISCARD = 0,   /* drop the new event, count it lost: a consumer drains the rings */
  RT_MODE_OVERWRITE = 1, /* flight recorder: move on into the oldest sub-buffer, count what it held */
};

/* Bounds every reader enforces on a header before trusting it. */
#define RT_MIN_SUB_SIZE 4096u
#define RT_MAX_SUB_SIZE (1u << 30)
#define RT_MIN_N_SUB 2u
#define RT_MAX_N_SUB 65536u
#define RT_MAX_CPUS 4096u
#define RT_SESSION_NAME_MAX 64u
#define RT_DEFAULT_WRITER_SLOTS 1024u
#define RT_MIN_WRITER_SLOTS 1u
#define RT_MAX_WRITER_SLOTS 65536u

/* Session header, at offset 0 of the shared-memory object (one page). */
struct rt_session_header {
  uint64_t magic;
  uint32_t layout_version;
  uint32_t header_size; /* sizeof(struct rt_session_header) */
  uint32_t page_size;
  uint32_t n_cpus;  /* possible CPUs: one rseq ring each */
  uint32_t n_rings; /* 2 * n_cpus: rseq rings, then atomic (fallback) rings */
  uint32_t n_sub;   /* sub-buffers per ring, power of two */
  uint64_t sub_size; /* bytes, power of two, page multiple */
  uint64_t ring_ctl_offset; /* array of n_rings struct rt_ring_ctl */
  uint64_t sub_ctl_offset;  /* array of n_rings * n_sub struct rt_sub_ctl */
  uint64_t writers_offset;  /* struct rt_writer_table with n_writer_slots slots */
  uint64_t data_offset;     /* n_rings * n_sub * sub_size bytes, page aligned */
  uint64_t total_size;
  uint8_t uuid[16];
  uint32_t clock_kind;
  uint32_t creator_uid;
  uint64_t clock_freq_hz;        /* ticks per second (estimate; consumer may refine) */
  uint64_t clock_ref_ticks;      /* clock value sampled at ... */
  int64_t clock_ref_realtime_ns; /* ... this CLOCK_REALTIME instant */
  int64_t created_realtime_ns;
  uint32_t n_writer_slots;
  /* Which events are recorded is in the session's selection file (registry.h);
   * this counts the files put in place, so apps see a change with one load. */
  uint32_t selection_gen;
  char name[RT_SESSION_NAME_MAX];
  uint32_t mode; /* enum rt_ring_mode */
  uint32_t reserved0;
  /* Snapshots asked for by apps (JS snapshot(), C rt_snapshot_request): an
   * atomic add from any process, after the request's record is committed;
   * the flight recorder watches it. */
  uint64_t snapshot_requests;
  /* CLOCK_MONOTONIC and CLOCK_REALTIME read together at creation: trace files
   * carry CLOCK_MONOTONIC nanoseconds (cycle timestamps are converted per
   * packet, clock_map.h), placed on the calendar by this pair. */
  int64_t monotonic_ref_ns;
  int64_t monotonic_ref_realtime_ns;
  char clock_why[200]; /* why the creator chose clock_kind (NUL-terminated; shown by doctor) */
};

/* Per-ring control block. Fields written by different parties live on different
 * cache lines so producers on one CPU never bounce the consumer's line. */
struct rt_ring_ctl {
  /* Producer line. rseq rings: written ONLY by rseq sections running on the
   * owning CPU (plain stores; never an atomic RMW, which would race with them).
   * Atomic rings: written ONLY by atomic RMWs. */
  uint64_t write_off __attribute__((aligned(RT_CACHELINE))); /* free-running bytes */
  uint64_t lost_local;                                       /* rseq add on owner CPU */
  /* Remote line: atomic RMWs from any CPU (slow paths only). */
  uint64_t lost_remote __attribute__((aligned(RT_CACHELINE)));
  uint64_t remote_commits; /* number of commits that took the remote path */
  uint64_t rseq_aborts;    /* kernel-aborted critical sections (preempt/signal/migrate) */
  uint64_t cpu_mismatches; /* sections left because the thread was on another CPU */
  /* Overwrite mode: what writers moving into the oldest sub-buffer overwrote
   * (records, and bytes of those records), added once per sub-buffer opened. */
  uint64_t overwritten_records;
  uint64_t overwritten_bytes;
  /* Consumer line: written only by the consumer, read by producers. */
  uint64_t consumed_off __attribute__((aligned(RT_CACHELINE)));
  /* Free-running offset up to which records were handed out (and written):
   * kept here, not in the consumer's memory, so a consumer that takes over
   * after a crash neither repeats a prefix already written nor loses one. */
  uint64_t consumer_mark;
};

/* Cycle sessions only (else 0): the cycle counter and CLOCK_MONOTONIC read
 * together by a sub-buffer lap's opener (after its reservation) and by its
 * closer (after the reservation that closes it), so every record of the lap
 * was stamped between the two; the consumer maps the lap's cycles to
 * nanoseconds from them (clock_map.h). Relaxed stores, published by the
 * writer's commit (release) like the packet header. */
struct rt_clock_pairs {
  uint64_t open_cycles, open_ns;
  uint64_t close_cycles, close_ns;
};

/* Per sub-buffer commit counters, free-running across laps. A generation
 * (lap L) of a sub-buffer is complete when local + remote == (L + 1) * sub_size.
 * Its clock pairs share the line: written once per lap, they cost the
 * commits nothing measurable. */
struct rt_sub_ctl {
  uint64_t commit_local __attribute__((aligned(RT_CACHELINE))); /* rseq add, owner CPU only */
  uint64_t commit_remote; /* atomic add, any CPU (and the consumer's salvage) */
  struct rt_clock_pairs clock;
};

/* Writer table: one slot per writer thread, so the consumer can tell who holds
 * a reservation that is not committed, and salvage it only if that thread is
 * dead (writers.c, salvage.c). A slot is one cache line, written on the fast
 * path only by its own thread.
 *
 * The part the fast path writes: */
struct rt_claim {
  /* The reservation this thread has open, RT_CLAIM(ring, write offset before
   * it), 0 if none: stored before the reserving section (or CAS), restored
   * after the commit. */
  uint64_t open;
  /* > 0 while the thread reserves with another reservation of its own open
   * (a signal handler that emits): the outer one is not in `open` meanwhile. */
  uint64_t nested;
};
/* A claim names its ring in the top 14 bits: claim = offset + RT_CLAIM_TAG(ring),
 * so claim - RT_CLAIM_TAG(ring) is the offset again. Offsets are free-running;
 * one more than 2^50 bytes (1 PiB) past another can alias it, which can only
 * make the consumer wait for a live thread, never salvage a live one's record. */
#define RT_CLAIM_SHIFT 50u
#define RT_CLAIM_TAG(ring) (((uint64_t)(ring) + 1) << RT_CLAIM_SHIFT)

enum rt_slot_kind { RT_SLOT_FREE = 0, RT_SLOT_CLAIMING = 1, RT_SLOT_ACTIVE = 2 };
#define RT_SLOT_KIND(state) ((state) & 3u)
struct rt_writer_slot {
  struct rt_claim claim;
  /* generation << 2 | rt_slot_kind. The generation grows whenever the slot
   * changes hands, so a reader can tell its copy of the owner is consistent. */
  uint64_t state;
  uint32_t pid, tid;   /* owner thread, in its pid namespace */
  uint64_t start_time; /* its start, clock ticks after boot (proc(5) stat field 22): tells a reused tid */
  uint64_t pid_ns;     /* inode of its pid namespace: its pids mean nothing in another one */
  /* CLOCK_MONOTONIC ns when this thread's event loop last turned (0: not
   * tracked): a recorder outside the process sees a stalled loop by its age. */
  uint64_t heartbeat_ns;
  uint64_t reserved;
};
struct rt_writer_table {
  /* Threads that found no slot free (all held by live threads): they write
   * anyway, but what they hold cannot be attributed, so nothing is salvaged. */
  uint64_t unowned __attribute__((aligned(RT_CACHELINE)));
  uint64_t reserved[7];
  struct rt_writer_slot slots[]; /* n_writer_slots */
};

/* Each sub-buffer starts with a CTF packet header + context. Producers fill it
 * (opener: begin fields; closer: end fields); the consumer validates it and
 * patches events_discarded on its own copy. */
struct rt_packet_header {
  uint32_t magic; /* RT_PACKET_MAGIC */
  uint8_t uuid[16];
  uint32_t stream_id;
  uint64_t stream_instance_id; /* ring index */
  uint64_t timestamp_begin;    /* timestamp of the first record */
  uint64_t timestamp_end;      /* timestamp of the closing reservation */
  uint64_t content_size;       /* BITS, including this header */
  uint64_t packet_size;        /* BITS */
  uint64_t packet_seq_num;     /* write offset / sub_size */
  uint64_t events_discarded;   /* cumulative, written by the consumer */
  uint32_t cpu_id;
  uint32_t ring_kind; /* 0 = rseq ring, 1 = atomic ring */
};
#define RT_PACKET_HEADER_SIZE 88u

/* Each record: this header, then the payload; records start 8-byte aligned. */
struct rt_event_header {
  uint32_t id;   /* event class id */
  uint32_t size; /* header + payload bytes, before alignment padding */
  uint64_t timestamp;
};
#define RT_EVENT_HEADER_SIZE 16u
/* Class id of a hole: the record of a writer that died between reserve and
 * commit, turned into padding by the consumer's salvage. Never a real class;
 * readers skip it (it is counted in the ring's lost events). */
#define RT_HOLE_ID 0xFFFFFFFFu
#define RT_RECORD_ALIGN 8u

#define RT_STATIC_ASSERT(c, m) _Static_assert(c, m)
#ifdef __cplusplus
#undef RT_STATIC_ASSERT
#define RT_STATIC_ASSERT(c, m) static_assert(c, m)
#endif
RT_STATIC_ASSERT(sizeof(struct rt_packet_header) == RT_PACKET_HEADER_SIZE, "packet header");
RT_STATIC_ASSERT(sizeof(struct rt_event_header) == RT_EVENT_HEADER_SIZE, "event header");
RT_STATIC_ASSERT(sizeof(struct rt_ring_ctl) == 3 * RT_CACHELINE, "ring ctl");
RT_STATIC_ASSERT(sizeof(struct rt_sub_ctl) == RT_CACHELINE, "sub ctl");
RT_STATIC_ASSERT(sizeof(struct rt_session_header) <= 4096, "header fits a page");
RT_STATIC_ASSERT(sizeof(struct rt_writer_slot) == RT_CACHELINE, "writer slot");
RT_STATIC_ASSERT(sizeof(struct rt_writer_table) == RT_CACHELINE, "writer table head");

static inline uint32_t rt_record_stride(uint32_t size) {
  return (size + RT_RECORD_ALIGN - 1) & ~(RT_RECORD_ALIGN - 1);
}

#endif
