/* ringtrace C API: declare an event class with typed fields once, emit it in
 * one call. Events go to the session named by RINGTRACE_SESSION (default
 * "default"; "off" or empty: never traced), into the same per-CPU rings and
 * the same trace as the JavaScript API's events.
 *
 *   #include "ringtrace.h"
 *   RT_EVENT(shop, request, RT_FIELD(string, method), RT_FIELD(u16, status), RT_FIELD(u64, bytes))
 *   ...
 *   rt_trace(shop, request, "GET", 200, 1234);
 *
 * Field types: i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 bool string bytes, taken
 * as int8_t ... uint64_t, double (f32 rounds it to float), double, bool,
 * const char * (UTF-8, NUL terminated; NULL records "") and, for bytes, two
 * arguments: const void *, size_t.
 * RT_EVENT defines static objects: put it in a header (each file that uses
 * the event gets its own copy, all recorded as one class) or in the .c file.
 * Names are C identifiers of at most 64 characters; pid, tid, timestamp, id
 * and cpu are reserved field names (a compile error).
 * RT_EVENT_LEVEL(provider, name, level, fields...) gives the class a level
 * (trace, debug, info, warn, error) for sessions that record only some
 * levels; RT_EVENT's classes are info.
 *
 * rt_trace never blocks on the consumer and never fails the program; a full
 * ring drops the event and counts it as lost in the trace. A class the
 * session does not select (docs/selection.md), or with tracing off, costs
 * three loads and a branch; with no session yet, a call that now and then
 * reads a coarse clock. See docs/c-api.md.
 * Build: cc -I<ringtrace>/native/include app.c <ringtrace>/native/build/libringtrace.a -lpthread */
#ifndef RINGTRACE_H
#define RINGTRACE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif
#include "ringtrace_pp.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ringtrace records are little-endian: x86-64 and aarch64 only"
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define RT_API_VERSION 2u /* 2: level, selection state */
/* Longest string field, in bytes: a longer one is cut on a UTF-8 character
 * boundary and ends with "…" (U+2026), as in the JavaScript API. */
#define RT_MAX_STRING_BYTES 1024u

/* Levels of RT_EVENT_LEVEL, lowest first. */
#define RT__LEVEL_trace 0u
#define RT__LEVEL_debug 1u
#define RT__LEVEL_info 2u
#define RT__LEVEL_warn 3u
#define RT__LEVEL_error 4u

/* An event class, defined by RT_EVENT. The library owns the fields from `state` on. */
struct rt_class {
  uint32_t api_version; /* RT_API_VERSION of the header it was compiled with */
  uint32_t level;       /* RT__LEVEL_* */
  const char *provider, *name;
  const char *fields; /* " name_:type" for each field (RT_FIELD appends '_' to names) */
  /* library: whether the session records the class, for the selection
   * generation in force: generation << 32 | class id (0: not recorded). A
   * new generation makes every class's state stale at once. */
  uint64_t state;
  uint64_t registered;  /* library: attachment serial << 32 | class id there */
  const char *desc;     /* library: the registry description */
  struct rt_class *next; /* library: the classes this process has used */
};
#define RT__STATE_UNSET 0xFFFFFFFF00000000ull /* matches no generation */

/* One record between rt__reserve and rt__commit (the library's business; emit.c asserts it fits). */
struct rt_slot {
  uint64_t opaque[12];
};

/* Called by the code RT_EVENT generates; not for direct use. */
/* The selection generation of the attached session (in its shared memory), or
 * a word that matches no class's state while there is none; tracing off: a
 * word every class's state comes to match, recorded as off. */
extern const uint32_t *rt__selection_gen;
int rt__settle(struct rt_class *cls); /* the class's state is stale: 1 if it is recorded now */
void *rt__reserve(struct rt_class *cls, uint64_t fields_size, struct rt_slot *slot);
void rt__commit(struct rt_slot *slot);
size_t rt__string_size_cut(const char *s);
uint8_t *rt__put_string_cut(uint8_t *o, const char *s, size_t stored);

/* Declare event class provider:name with its fields, in order:
 * RT_EVENT(provider, name, RT_FIELD(type, field), ...). No fields:
 * RT_EVENT(provider, name) (under -std=c11 -pedantic: RT_EVENT(provider, name,)).
 * Its level is info. */
#define RT_EVENT(provider, name, ...) \
  RT__EVENT(provider##__##name, #provider, #name, RT__LEVEL_info, __VA_ARGS__)

/* The same, at `level`: trace, debug, info, warn or error (another word does
 * not compile). A session with a `level` rule records only the classes at
 * that level or above (docs/selection.md). */
#define RT_EVENT_LEVEL(provider, name, level, ...) \
  RT__EVENT(provider##__##name, #provider, #name, RT__LEVEL_##level, __VA_ARGS__)

/* `id` is provider__name, pasted by the macros above so that neither name is
 * macro-expanded on the way. */
#define RT__EVENT(id, provider_str, name_str, level, ...)                                          \
  struct rt__names_##id {                                                                          \
    char pid_, tid_, timestamp_, id_, cpu_; /* reserved: a field of one of these names is an error */ \
    RT__MAP(RT__F_MEMBER, __VA_ARGS__)                                                             \
  };                                                                                               \
  RT__STATIC_ASSERT(sizeof(provider_str) <= 65 && sizeof(name_str) <= 65 RT__MAP(RT__F_LEN, __VA_ARGS__), \
                    "ringtrace: names are at most 64 characters");                                 \
  static struct rt_class rt_class__##id = {RT_API_VERSION, level, provider_str, name_str,          \
      "" RT__MAP(RT__F_SPEC, __VA_ARGS__), RT__STATE_UNSET, 0, NULL, NULL};                         \
  static inline void rt_trace__##id(RT__PARAMS(__VA_ARGS__)) {                                     \
    if (__builtin_expect(!rt__on(&rt_class__##id), 0)) return;                                    \
    RT__MAP(RT__F_LOCAL, __VA_ARGS__)                                                              \
    struct rt_slot rt__slot;                                                                       \
    uint8_t *rt__o = (uint8_t *)rt__reserve(&rt_class__##id, 0 RT__MAP(RT__F_SIZE, __VA_ARGS__),  \
                                            &rt__slot);                                            \
    if (__builtin_expect(!rt__o, 0)) return;                                                       \
    RT__MAP(RT__F_PUT, __VA_ARGS__)                                                                \
    (void)rt__o;                                                                                   \
    rt__commit(&rt__slot);                                                                         \
  }

/* Both names are pasted at once so that neither is macro-expanded on the way
 * (stdbool.h's bool is a macro; so may a field name be). */
#define RT_FIELD(type, field) (type##_, field##_)

/* Record one event: rt_trace(provider, name, values...); a statement. A wrong
 * number of values is a compile error, and so, in C, are a pointer for a
 * number or a number for a pointer, a pointer of the wrong type, a
 * floating-point value for an integer field and a constant out of the field's
 * range (C++ refuses the first three by itself). An int variable for a u16
 * field converts silently, as in any C call: -Wconversion reports it. */
#define rt_trace(provider, name, ...)              \
  do {                                           \
    RT__STRICT_BEGIN                             \
    (void)&rt_class__##provider##__##name; /* an undeclared event is an error */ \
    rt_trace__##provider##__##name(__VA_ARGS__); \
    RT__STRICT_END                               \
  } while (0)
#ifdef __cplusplus
#define RT__STRICT_C
#else
#define RT__STRICT_C                                                \
  _Pragma("GCC diagnostic error \"-Wint-conversion\"")             \
  _Pragma("GCC diagnostic error \"-Wincompatible-pointer-types\"")
#endif
#define RT__STRICT_BEGIN                                  \
  _Pragma("GCC diagnostic push") RT__STRICT_C             \
  _Pragma("GCC diagnostic error \"-Wfloat-conversion\"") \
  _Pragma("GCC diagnostic error \"-Woverflow\"")
#define RT__STRICT_END _Pragma("GCC diagnostic pop")

/* True when the attached session records this class (its selection and
 * level): guard the computation of costly values. */
#define rt_enabled(provider, name) rt__on(&rt_class__##provider##__##name)

/* Ask the flight recorder watching the session for a snapshot (an error
 * path, say): records ringtrace:snapshot_request (`reason`, NULL recording
 * "", cut like any string; and how many calls were folded into this one)
 * from the calling thread, then, once that record is committed, counts the
 * request in the session for the recorder to see. At most one request per
 * 100 ms per process: a call within that interval of the previous request,
 * from any thread, is folded into the next one. Returns 1 if a request was
 * made now, 0 if not (no session, tracing off, or folded). Never blocks,
 * never fails the program; not from a signal handler (as rt_trace). */
int rt_snapshot_request(const char *reason);

/* The class's state holds the decision for one selection generation: while
 * that generation is in force, deciding is three loads (the state, the
 * pointer, the generation it points to) and a compare. Relaxed: a stale
 * generation only delays a change by an event; a new one sends the event
 * to rt__settle, which reads the selection with acquire ordering. */
static inline int rt__on(struct rt_class *cls) {
  uint64_t state = __atomic_load_n(&cls->state, __ATOMIC_RELAXED);
  const uint32_t *gen = __atomic_load_n(&rt__selection_gen, __ATOMIC_RELAXED);
  if (__builtin_expect((uint32_t)(state >> 32) == __atomic_load_n(gen, __ATOMIC_RELAXED), 1))
    return (uint32_t)state != 0;
  return rt__settle(cls);
}

/* ---- what RT_EVENT expands to, per field type ---- */
#define RT__PARAMS(...) \
  RT__IF_ELSE(RT__IS_PAREN(RT__FIRST(__VA_ARGS__)))(RT__MAP(RT__F_PARAM, __VA_ARGS__))(void)
#define RT__SEP_1
#define RT__SEP_0 ,
#define RT__F_PARAM(first, type, field) RT__SEP_##first RT__PARAM_##type(field)
#define RT__F_MEMBER(first, type, field) char field;
#define RT__F_LEN(first, type, field) && sizeof(#field) <= 66
#define RT__F_SPEC(first, type, field) " " #field ":" RT__TYPE_NAME_##type
#define RT__F_LOCAL(first, type, field) RT__LOCAL_##type(field)
#define RT__F_SIZE(first, type, field) + RT__SIZE_##type(field)
#define RT__F_PUT(first, type, field) RT__PUT_##type(field)

#define RT__TYPE_NAME_i8_ "i8"
#define RT__TYPE_NAME_i16_ "i16"
#define RT__TYPE_NAME_i32_ "i32"
#define RT__TYPE_NAME_i64_ "i64"
#define RT__TYPE_NAME_u8_ "u8"
#define RT__TYPE_NAME_u16_ "u16"
#define RT__TYPE_NAME_u32_ "u32"
#define RT__TYPE_NAME_u64_ "u64"
#define RT__TYPE_NAME_f32_ "f32"
#define RT__TYPE_NAME_f64_ "f64"
#define RT__TYPE_NAME_bool_ "bool"
#define RT__TYPE_NAME_string_ "string"
#define RT__TYPE_NAME_bytes_ "bytes"

#define RT__PARAM_i8_(f) int8_t f
#define RT__PARAM_i16_(f) int16_t f
#define RT__PARAM_i32_(f) int32_t f
#define RT__PARAM_i64_(f) int64_t f
#define RT__PARAM_u8_(f) uint8_t f
#define RT__PARAM_u16_(f) uint16_t f
#define RT__PARAM_u32_(f) uint32_t f
#define RT__PARAM_u64_(f) uint64_t f
#define RT__PARAM_f32_(f) double f /* rounded to float when written, as in the JavaScript API */
#define RT__PARAM_f64_(f) double f
#define RT__PARAM_bool_(f) bool f
#define RT__PARAM_string_(f) const char *f
#define RT__PARAM_bytes_(f) const void *f, size_t f##_len

#define RT__LOCAL_i8_(f)
#define RT__LOCAL_i16_(f)
#define RT__LOCAL_i32_(f)
#define RT__LOCAL_i64_(f)
#define RT__LOCAL_u8_(f)
#define RT__LOCAL_u16_(f)
#define RT__LOCAL_u32_(f)
#define RT__LOCAL_u64_(f)
#define RT__LOCAL_f32_(f)
#define RT__LOCAL_f64_(f)
#define RT__LOCAL_bool_(f)
#define RT__LOCAL_string_(f) const size_t rt__size_##f = rt__string_size(f);
#define RT__LOCAL_bytes_(f) const size_t rt__size_##f = f ? f##_len : 0;

#define RT__SIZE_i8_(f) 1
#define RT__SIZE_i16_(f) 2
#define RT__SIZE_i32_(f) 4
#define RT__SIZE_i64_(f) 8
#define RT__SIZE_u8_(f) 1
#define RT__SIZE_u16_(f) 2
#define RT__SIZE_u32_(f) 4
#define RT__SIZE_u64_(f) 8
#define RT__SIZE_f32_(f) 4
#define RT__SIZE_f64_(f) 8
#define RT__SIZE_bool_(f) 1
#define RT__SIZE_string_(f) (uint64_t)rt__size_##f
#define RT__SIZE_bytes_(f) 4 + rt__bytes_bound(rt__size_##f)

#define RT__PUT_i8_(f) rt__o = rt__put_fixed(rt__o, &f, 1);
#define RT__PUT_i16_(f) rt__o = rt__put_fixed(rt__o, &f, 2);
#define RT__PUT_i32_(f) rt__o = rt__put_fixed(rt__o, &f, 4);
#define RT__PUT_i64_(f) rt__o = rt__put_fixed(rt__o, &f, 8);
#define RT__PUT_u8_(f) rt__o = rt__put_fixed(rt__o, &f, 1);
#define RT__PUT_u16_(f) rt__o = rt__put_fixed(rt__o, &f, 2);
#define RT__PUT_u32_(f) rt__o = rt__put_fixed(rt__o, &f, 4);
#define RT__PUT_u64_(f) rt__o = rt__put_fixed(rt__o, &f, 8);
#define RT__PUT_f32_(f) rt__o = rt__put_f32(rt__o, (float)f);
#define RT__PUT_f64_(f) rt__o = rt__put_fixed(rt__o, &f, 8);
#define RT__PUT_bool_(f) *rt__o++ = (uint8_t)((f) ? 1 : 0);
#define RT__PUT_string_(f) rt__o = rt__put_string(rt__o, f, rt__size_##f);
#define RT__PUT_bytes_(f) rt__o = rt__put_bytes(rt__o, f, rt__size_##f);

#if defined(__cplusplus)
#define RT__STATIC_ASSERT(c, m) static_assert(c, m)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define RT__STATIC_ASSERT(c, m) _Static_assert(c, m)
#else
#define RT__STATIC_ASSERT(c, m) extern char rt__static_assert[(c) ? 1 : -1]
#endif

#if !defined(__cplusplus) && !defined(__USE_XOPEN2K8)
size_t strnlen(const char *s, size_t max); /* POSIX 2008; hidden by glibc under strict -std=c11 */
#endif

/* Records are packed little-endian: each value is copied as its bytes. */
static inline uint8_t *rt__put_fixed(uint8_t *o, const void *v, size_t n) {
  memcpy(o, v, n);
  return o + n;
}

static inline uint8_t *rt__put_f32(uint8_t *o, float v) { return rt__put_fixed(o, &v, 4); }

/* Bytes a string takes in the record, its NUL included. (strnlen stops at the
 * NUL: a bound larger than the caller's array is fine, whatever GCC >= 11
 * guesses when it sees a char[32] inlined here.) */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overread"
#endif
static inline size_t rt__string_size(const char *s) {
  if (!s) return 1;
  size_t n = strnlen(s, RT_MAX_STRING_BYTES + 1);
  return __builtin_expect(n <= RT_MAX_STRING_BYTES, 1) ? n + 1 : rt__string_size_cut(s);
}
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#pragma GCC diagnostic pop
#endif

/* `stored` from rt__string_size; the string must not change in between. */
static inline uint8_t *rt__put_string(uint8_t *o, const char *s, size_t stored) {
  if (!s) {
    *o = 0;
    return o + 1;
  }
  if (__builtin_expect(s[stored - 1] != '\0', 0)) return rt__put_string_cut(o, s, stored);
  memcpy(o, s, stored);
  return o + stored;
}

/* At most 2^32: a sum of 64 of these cannot wrap, and any of them is refused by the ring. */
static inline uint64_t rt__bytes_bound(size_t n) { return n > 0xFFFFFFFFu ? 0x100000000ull : (uint64_t)n; }

static inline uint8_t *rt__put_bytes(uint8_t *o, const void *p, size_t n) {
  uint32_t len = (uint32_t)n; /* the ring refuses a record this large before we get here */
  memcpy(o, &len, 4);
  if (n) memcpy(o + 4, p, n);
  return o + 4 + n;
}

#ifdef __cplusplus
}
#endif
#endif
