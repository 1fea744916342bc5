/* ringtrace public C API: emit events into the same per-CPU rings as the
 * JavaScript API, and read them back.
 *
 *   struct rt_session *s; char err[256];
 *   if (rt_session_open("mysession", &s, err, sizeof err)) { fprintf(stderr, "%s\n", err); }
 *   uint64_t v[3] = {1, 2, 3};
 *   rt_emit(s, EVENT_ID, v, sizeof v);      // never blocks; drops + counts when full
 *
 * Two-phase form (serialize straight into the ring):
 *   struct rt_reservation r;
 *   if (rt_reserve(s, EVENT_ID, n, &r) == RT_RESERVED) { fill(rt_payload(&r), n); rt_commit(&r); }
 *
 * Link with libringtrace.a (native/Makefile). Requires Linux; rseq via glibc >= 2.35
 * is used when registered, an atomic fallback otherwise. */
#ifndef RINGTRACE_H
#define RINGTRACE_H

#include "../ring/layout.h"
#include "../ring/session.h"
#include "../ring/producer.h"
#include "../ring/consumer.h"
#include "../ring/registry.h"
#include "../ring/packet.h"
#include "../ring/consumer_lock.h"

#endif
