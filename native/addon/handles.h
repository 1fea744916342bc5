/* Handle types shared by the addon's C and C++ halves (addon.cc and
 * consumer_binding.cc: node-addon-api marshalling of cold calls;
 * producer_binding.c: the raw Node-API hot call). */
#ifndef RINGTRACE_ADDON_HANDLES_H
#define RINGTRACE_ADDON_HANDLES_H

#include <node_api.h>
/* The core's own headers (not the public ringtrace.h C API). */
#include "session.h"
#include "producer.h"
#include "consumer.h"
#include "registry.h"
#include "packet.h"
#include "consumer_lock.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a session External points to. `s` is NULL once closed; a handle is used
 * only by the thread (Node-API environment) that opened it. */
struct rt_session_box {
  struct rt_session *s;
};

/* Adds the calls of a thread that records (attachThread, detachThread,
 * emitStaged, the snapshot requests and the heartbeat) to `exports`
 * (producer_binding.c). */
napi_status rt_producer_binding_init(napi_env env, napi_value exports);

/* Adds gcHooksStart and gcHooksStop, GC pauses from V8's own callbacks
 * (gc_binding.c), to `exports`. */
napi_status rt_gc_binding_init(napi_env env, napi_value exports);

#ifdef __cplusplus
}
#endif
#endif
