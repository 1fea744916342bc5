/* x86-64 rseq critical sections and cycle counter. Included by rseq.h only.
 *
 * Each section: store the address of its descriptor (__rseq_cs, 32-byte aligned,
 * writable) into rseq->rseq_cs, then start label 1, a CPU check, and a single
 * final instruction that commits (label 2 follows it). If the kernel preempts,
 * migrates or signals the thread with the IP in [1, 2), it moves the IP to the
 * abort label 4, which must be preceded by the 4-byte signature glibc registered
 * (RSEQ_SIG 0x53053053, emitted inside a `ud1` so stray execution traps).
 * Nothing in a section calls a function. */
#ifndef RINGTRACE_RING_RSEQ_X86_64_H
#define RINGTRACE_RING_RSEQ_X86_64_H

#define RT_RSEQ_DESCRIPTOR                                                       \
  ".pushsection __rseq_cs, \"aw\"\n\t"                                        \
  ".balign 32\n\t"                                                            \
  "3:\n\t"                                                                    \
  ".long 0x0, 0x0\n\t"           /* version, flags */                         \
  ".quad 1f, (2f - 1f), 4f\n\t" /* start_ip, post_commit_offset, abort_ip */ \
  ".popsection\n\t"                                                           \
  "leaq 3b(%%rip), %%rax\n\t"                                                 \
  "movq %%rax, %[rseq_cs]\n\t"

#define RT_RSEQ_ABORT_STUB                      \
  ".pushsection __rseq_failure, \"ax\"\n\t"    \
  ".byte 0x0f, 0xb9, 0x3d\n\t"                 \
  ".long 0x53053053\n\t" /* RSEQ_SIG */        \
  "4:\n\t"                                     \
  "jmp %l[aborted]\n\t"                        \
  ".popsection\n\t"

/* If still on `cpu` and *word == expect, store *word = desired.
 * Ordering: the store is a plain store by the only CPU that writes *word (every
 * writer runs on `cpu`, inside a section); other CPUs only read it. */
static inline enum rt_rseq_result rt_rseq_cmpeq_store(struct rt_rseq_abi *rs, uint32_t cpu,
                                                      uint64_t *word, uint64_t expect,
                                                      uint64_t desired) {
  __asm__ goto(RT_RSEQ_DESCRIPTOR
               "1:\n\t"
               "cmpl %[cpu], %[cpu_id]\n\t"
               "jnz %l[mismatch]\n\t"
               "cmpq %[word], %[expect]\n\t"
               "jnz %l[changed]\n\t"
               "movq %[desired], %[word]\n\t" /* commit */
               "2:\n\t" RT_RSEQ_ABORT_STUB
               : /* no outputs */
               : [rseq_cs] "m"(rs->rseq_cs), [cpu_id] "m"(rs->cpu_id), [cpu] "r"(cpu),
                 [word] "m"(*word), [expect] "r"(expect), [desired] "r"(desired)
               : "memory", "cc", "rax"
               : mismatch, changed, aborted);
  return RT_RSEQ_OK;
mismatch:
  return RT_RSEQ_MISMATCH;
changed:
  return RT_RSEQ_CHANGED;
aborted:
  return RT_RSEQ_ABORTED;
}

/* rt_rseq_cmpeq_store that also reads the TSC into *ts between the compare and
 * the commit, on `cpu`, with no preemption, migration or signal in between
 * (any of them aborts the section). The rseq rings' timestamps come from here:
 * see rt_arch_cycles below for why that keeps each ring in timestamp order. */
static inline enum rt_rseq_result rt_rseq_cmpeq_store_clock(struct rt_rseq_abi *rs, uint32_t cpu,
                                                            uint64_t *word, uint64_t expect,
                                                            uint64_t desired, uint64_t *ts) {
  __asm__ goto(RT_RSEQ_DESCRIPTOR
               "1:\n\t"
               "cmpl %[cpu], %[cpu_id]\n\t"
               "jnz %l[mismatch]\n\t"
               "cmpq %[word], %[expect]\n\t"
               "jnz %l[changed]\n\t"
               "rdtsc\n\t"
               "shlq $32, %%rdx\n\t"
               "orq %%rdx, %%rax\n\t"
               "movq %%rax, %[ts]\n\t"
               "movq %[desired], %[word]\n\t" /* commit */
               "2:\n\t" RT_RSEQ_ABORT_STUB
               : /* no outputs */
               : [rseq_cs] "m"(rs->rseq_cs), [cpu_id] "m"(rs->cpu_id), [cpu] "r"(cpu),
                 [word] "m"(*word), [expect] "r"(expect), [desired] "r"(desired), [ts] "m"(*ts)
               : "memory", "cc", "rax", "rdx"
               : mismatch, changed, aborted);
  return RT_RSEQ_OK;
mismatch:
  return RT_RSEQ_MISMATCH;
changed:
  return RT_RSEQ_CHANGED;
aborted:
  return RT_RSEQ_ABORTED;
}

/* If still on `cpu`, *word += count with one non-locked `addq` (the commit).
 * Ordering: x86-64 (TSO) never makes a store visible before older stores, and the
 * "memory" clobber keeps the compiler from sinking the payload stores below it,
 * so a reader that sees the new count (with an acquire load) sees the payload. */
static inline enum rt_rseq_result rt_rseq_add(struct rt_rseq_abi *rs, uint32_t cpu,
                                              uint64_t *word, uint64_t count) {
  __asm__ goto(RT_RSEQ_DESCRIPTOR
               "1:\n\t"
               "cmpl %[cpu], %[cpu_id]\n\t"
               "jnz %l[mismatch]\n\t"
               "addq %[count], %[word]\n\t" /* commit */
               "2:\n\t" RT_RSEQ_ABORT_STUB
               : /* no outputs */
               : [rseq_cs] "m"(rs->rseq_cs), [cpu_id] "m"(rs->cpu_id), [cpu] "r"(cpu),
                 [word] "m"(*word), [count] "r"(count)
               : "memory", "cc", "rax"
               : mismatch, aborted);
  return RT_RSEQ_OK;
mismatch:
  return RT_RSEQ_MISMATCH;
aborted:
  return RT_RSEQ_ABORTED;
}

/* Invariant TSC. The rseq rings read it inside their reserve section
 * (rt_rseq_cmpeq_store_clock), without `lfence`: the CPU may execute that rdtsc
 * before the section's load of the write offset completes, which is harmless
 * because it all runs on the ring's CPU, where all its writers run. Another
 * writer gets in only by an interrupt, exception or system call, which the CPU
 * takes at an instruction boundary (all before it retired, including that
 * writer's clock read; all after it executes after), and cannot get in inside
 * the section (the kernel aborts it); one thread's reads on one CPU come in
 * program order. So a reservation's time is never before the one it follows.
 * (Read before the section instead, the clock of a thread moved to another CPU
 * and back before its section would be that other CPU's, possibly taken before
 * the offset load completed; reading it inside costs ~0.3 ns per event.)
 * rt_arch_cycles_ordered: `lfence` first makes the CPU wait for earlier loads,
 * so the time is taken after the write offset was read. The atomic rings need
 * it: their offset may come from another CPU's store, and a read executed early
 * could predate a reservation already observed. Linux makes LFENCE
 * dispatch-serializing on AMD. Measured: 23.0 vs 11.3 ns (docs/benchmarks.md).
 * rt_arch_cycles: plain rdtsc (calibration, benchmarks).
 * Both asm statements clobber "memory", a compiler barrier: GCC and clang may
 * otherwise move loads and stores across an asm volatile. */
static inline uint64_t rt_arch_cycles_ordered(void) {
  uint32_t lo, hi;
  __asm__ __volatile__("lfence\n\trdtsc" : "=a"(lo), "=d"(hi)::"memory");
  return ((uint64_t)hi << 32) | lo;
}
static inline uint64_t rt_arch_cycles(void) {
  uint32_t lo, hi;
  __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi)::"memory");
  return ((uint64_t)hi << 32) | lo;
}

/* Earlier stores become visible before later ones. x86-64 (TSO) never
 * reorders stores with stores: only the compiler must be kept from it. */
static inline void rt_arch_store_fence(void) { __asm__ __volatile__("" ::: "memory"); }

#endif
