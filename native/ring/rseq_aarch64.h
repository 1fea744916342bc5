/* aarch64 rseq critical sections and cycle counter. Included by rseq.h only.
 * Same shape as the x86-64 file (see its header comment); the signature before
 * the abort label is RSEQ_SIG 0xd428bc00 (`brk #0x45e0`, traps if executed).
 * Compile-checked in CI with a cross compiler; not yet run on arm64 hardware. */
#ifndef RINGTRACE_RING_RSEQ_AARCH64_H
#define RINGTRACE_RING_RSEQ_AARCH64_H

#define RT_RSEQ_DESCRIPTOR                                                       \
  ".pushsection __rseq_cs, \"aw\"\n\t"                                        \
  ".balign 32\n\t"                                                            \
  "3:\n\t"                                                                    \
  ".long 0x0, 0x0\n\t"                                                        \
  ".quad 1f, (2f - 1f), 4f\n\t"                                               \
  ".popsection\n\t"                                                           \
  "adrp x17, 3b\n\t"                                                          \
  "add x17, x17, :lo12:3b\n\t"                                                \
  "str x17, %[rseq_cs]\n\t"

#define RT_RSEQ_ABORT_STUB                   \
  ".pushsection __rseq_failure, \"ax\"\n\t" \
  ".inst 0xd428bc00\n\t" /* RSEQ_SIG */     \
  "4:\n\t"                                  \
  "b %l[aborted]\n\t"                       \
  ".popsection\n\t"

/* Ordering: only sections on `cpu` write *word; a plain store suffices. */
static inline enum rt_rseq_result rt_rseq_cmpeq_store(struct rt_rseq_abi *rs, uint32_t cpu,
                                                      uint64_t *word, uint64_t expect,
                                                      uint64_t desired) {
  __asm__ goto(RT_RSEQ_DESCRIPTOR
               "1:\n\t"
               "ldr w17, %[cpu_id]\n\t"
               "cmp w17, %w[cpu]\n\t"
               "bne %l[mismatch]\n\t"
               "ldr x17, %[word]\n\t"
               "cmp x17, %[expect]\n\t"
               "bne %l[changed]\n\t"
               "str %[desired], %[word]\n\t" /* commit */
               "2:\n\t" RT_RSEQ_ABORT_STUB
               : /* no outputs */
               : [rseq_cs] "m"(rs->rseq_cs), [cpu_id] "m"(rs->cpu_id), [cpu] "r"(cpu),
                 [word] "m"(*word), [expect] "r"(expect), [desired] "r"(desired)
               : "memory", "cc", "x17"
               : mismatch, changed, aborted);
  return RT_RSEQ_OK;
mismatch:
  return RT_RSEQ_MISMATCH;
changed:
  return RT_RSEQ_CHANGED;
aborted:
  return RT_RSEQ_ABORTED;
}

/* rt_rseq_cmpeq_store that also reads the virtual counter into *ts between the
 * compare and the commit (see rseq_x86_64.h). `isb` keeps the counter read from
 * being speculated ahead of earlier instructions, which the Arm ARM allows. */
static inline enum rt_rseq_result rt_rseq_cmpeq_store_clock(struct rt_rseq_abi *rs, uint32_t cpu,
                                                            uint64_t *word, uint64_t expect,
                                                            uint64_t desired, uint64_t *ts) {
  __asm__ goto(RT_RSEQ_DESCRIPTOR
               "1:\n\t"
               "ldr w17, %[cpu_id]\n\t"
               "cmp w17, %w[cpu]\n\t"
               "bne %l[mismatch]\n\t"
               "ldr x17, %[word]\n\t"
               "cmp x17, %[expect]\n\t"
               "bne %l[changed]\n\t"
               "isb\n\t"
               "mrs x17, cntvct_el0\n\t"
               "str x17, %[ts]\n\t"
               "str %[desired], %[word]\n\t" /* commit */
               "2:\n\t" RT_RSEQ_ABORT_STUB
               : /* no outputs */
               : [rseq_cs] "m"(rs->rseq_cs), [cpu_id] "m"(rs->cpu_id), [cpu] "r"(cpu),
                 [word] "m"(*word), [expect] "r"(expect), [desired] "r"(desired), [ts] "m"(*ts)
               : "memory", "cc", "x17"
               : mismatch, changed, aborted);
  return RT_RSEQ_OK;
mismatch:
  return RT_RSEQ_MISMATCH;
changed:
  return RT_RSEQ_CHANGED;
aborted:
  return RT_RSEQ_ABORTED;
}

/* Ordering: the commit is a store-release (stlr), so the payload stores before
 * it are visible to a reader that acquires the new count. */
static inline enum rt_rseq_result rt_rseq_add(struct rt_rseq_abi *rs, uint32_t cpu,
                                              uint64_t *word, uint64_t count) {
  __asm__ goto(RT_RSEQ_DESCRIPTOR
               "1:\n\t"
               "ldr w17, %[cpu_id]\n\t"
               "cmp w17, %w[cpu]\n\t"
               "bne %l[mismatch]\n\t"
               "ldr x17, %[word]\n\t"
               "add x17, x17, %[count]\n\t"
               "stlr x17, %[word]\n\t" /* commit */
               "2:\n\t" RT_RSEQ_ABORT_STUB
               : /* no outputs */
               : [rseq_cs] "m"(rs->rseq_cs), [cpu_id] "m"(rs->cpu_id), [cpu] "r"(cpu),
                 [word] "Q"(*word), [count] "r"(count)
               : "memory", "cc", "x17"
               : mismatch, aborted);
  return RT_RSEQ_OK;
mismatch:
  return RT_RSEQ_MISMATCH;
aborted:
  return RT_RSEQ_ABORTED;
}

/* Virtual counter; `isb` keeps the read from being speculated before earlier
 * loads (the ring's write offset). Frequency: CNTFRQ_EL0. */
static inline uint64_t rt_arch_cycles(void) {
  uint64_t v;
  __asm__ __volatile__("isb\n\tmrs %0, cntvct_el0" : "=r"(v)::"memory");
  return v;
}
/* The ISB above already orders the read after earlier instructions (the Arm ARM
 * allows counter reads to be speculated out of order, so arm64 keeps it on the
 * rseq path too). */
static inline uint64_t rt_arch_cycles_ordered(void) { return rt_arch_cycles(); }

/* Earlier stores become visible before later ones (`dmb ishst`: a
 * store-store barrier, cheaper than a full `dmb ish`). */
static inline void rt_arch_store_fence(void) { __asm__ __volatile__("dmb ishst" ::: "memory"); }

#endif
