/* The path of one event from the code RT_EVENT generates, once rt__on found
 * the class recorded (select.c): rt__reserve finds
 * this thread's attachment and the class's id in it, reserves the record and
 * writes the context (pid, tid); the generated code writes the fields in
 * place; rt__commit seals and publishes the record. In the steady state that
 * is two calls, a few loads and compares, and the ring's own fast path
 * (native/ring/producer.h): no lock, no system call. */
#include <string.h>
#include "capi.h"
#include "producer.h"

#define CONTEXT_BYTES 8u

/* What a struct rt_slot holds between the two calls. The slot is only ever
 * read and written as this type, here (the generated code passes its address
 * and never touches its bytes), so the reservation is written in place:
 * copying it through a local cost a store-forwarding stall per event. */
struct slot_view {
  struct rt_reservation r;
  uint32_t recheck; /* the session is due for a check after this commit */
};
_Static_assert(sizeof(struct slot_view) <= sizeof(struct rt_slot), "rt_slot too small");
_Static_assert(_Alignof(struct slot_view) <= _Alignof(struct rt_slot), "rt_slot misaligned");

/* Called when an event's timestamp passed the attachment's recheck time: one
 * thread per period wins the compare-and-swap and stats the session. */
static void check_session_due(struct rt_attachment *a, uint64_t now) {
  /* Relaxed, here and on the fast path: recheck_at only elects one thread per
   * period; the check itself runs under attach.c's lock. */
  uint64_t due = __atomic_load_n(&a->recheck_at, __ATOMIC_RELAXED);
  if (now < due) return;
  if (__atomic_compare_exchange_n(&a->recheck_at, &due, now + a->recheck_ticks, 0, __ATOMIC_RELAXED,
                                  __ATOMIC_RELAXED))
    rt_capi_recheck();
}

/* The ring refused the record (full, or too large): it counted the loss. A
 * full ring must not hide a removed session, so the clock is checked here. */
__attribute__((noinline, cold)) static void *refused(struct rt_attachment *a) {
  check_session_due(a, rt_clock_read(a->s->clock_kind));
  return NULL;
}

void *rt__reserve(struct rt_class *cls, uint64_t fields_size, struct rt_slot *slot) {
  struct rt_thread_ctx *ctx = &rt_capi_thread;
  struct rt_attachment *a = ctx->att;
  /* Relaxed: a stale read only delays the switch by an event; the attachment
   * we keep using stays mapped while ctx->att points to it (attach.c). */
  if (RT_UNLIKELY(a != __atomic_load_n(&g_attachment, __ATOMIC_RELAXED))) a = rt_capi_thread_attach(ctx);
  if (RT_UNLIKELY(!a->s)) return NULL;
  /* Relaxed: the word alone says which attachment its id is for. A class
   * not yet decided in this attachment (the event raced with an attach) is
   * decided and registered now, or not recorded. */
  uint64_t reg = __atomic_load_n(&cls->registered, __ATOMIC_RELAXED);
  uint32_t id = (uint32_t)(RT_UNLIKELY((uint32_t)(reg >> 32) != a->serial) ? rt_capi_class_state(cls, a) : reg);
  if (RT_UNLIKELY(id == 0)) return NULL;
  /* fields_size is at most 64 fields of 2^32 + 4 bytes: no overflow here. A
   * record too large for the ring is refused by it and counted as lost. */
  uint64_t size = fields_size + CONTEXT_BYTES;
  struct slot_view *v = (struct slot_view *)(void *)slot;
  if (RT_UNLIKELY(rt_reserve(a->s, id, size > UINT32_MAX ? UINT32_MAX : (uint32_t)size, &v->r) != RT_RESERVED))
    return refused(a);
  v->recheck = v->r.header.timestamp >= __atomic_load_n(&a->recheck_at, __ATOMIC_RELAXED);
  uint8_t *payload = rt_payload(&v->r);
  memcpy(payload, &ctx->context, CONTEXT_BYTES);
  return payload + CONTEXT_BYTES;
}

__attribute__((noinline, cold)) static void recheck_after_commit(uint64_t now) {
  check_session_due(rt_capi_thread.att, now);
}

void rt__commit(struct rt_slot *slot) {
  const struct slot_view *v = (const struct slot_view *)(const void *)slot;
  rt_commit(&v->r);
  if (RT_UNLIKELY(v->recheck)) recheck_after_commit(v->r.header.timestamp);
}

/* Strings longer than RT_MAX_STRING_BYTES: cut on a UTF-8 character boundary
 * and marked with U+2026, as the JavaScript serializer does. */
static const char ELLIPSIS[3] = {'\xE2', '\x80', '\xA6'};

static size_t cut_point(const char *s) {
  size_t cut = RT_MAX_STRING_BYTES - sizeof ELLIPSIS;
  while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) cut--; /* not inside a character */
  return cut;
}

size_t rt__string_size_cut(const char *s) { return cut_point(s) + sizeof ELLIPSIS + 1; }

uint8_t *rt__put_string_cut(uint8_t *o, const char *s, size_t stored) {
  size_t n = strnlen(s, RT_MAX_STRING_BYTES + 1);
  if (n > RT_MAX_STRING_BYTES && stored == cut_point(s) + sizeof ELLIPSIS + 1) {
    memcpy(o, s, stored - 1 - sizeof ELLIPSIS);
    memcpy(o + stored - 1 - sizeof ELLIPSIS, ELLIPSIS, sizeof ELLIPSIS);
  } else { /* the string changed after it was measured: keep the record well formed */
    size_t keep = n < stored - 1 ? n : stored - 1;
    memcpy(o, s, keep);
    memset(o + keep, ' ', stored - 1 - keep);
  }
  o[stored - 1] = 0;
  return o + stored;
}
