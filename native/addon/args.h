// What the node-addon-api files of the addon share (addon.cc,
// consumer_binding.cc, flight_binding.cc): the handle types and argument readers.
#ifndef RINGTRACE_ADDON_ARGS_H
#define RINGTRACE_ADDON_ARGS_H
#include <napi.h>

#include <string>

#include "handles.h"

using SessionBox = rt_session_box;

struct ConsumerBox {
  rt_consumer c{};
  bool ready = false;
  Napi::Reference<Napi::External<SessionBox>> session;  // keeps the mapping alive
};

/* The open session of argument i; nullptr with a JS exception pending. */
rt_session *SessionArg(const Napi::CallbackInfo &info, size_t i);
/* String argument i; empty with a JS exception pending. */
std::string StringArg(const Napi::CallbackInfo &info, size_t i, const char *what);
/* {ring, subOffset, begin, complete, data}: a chunk's records copied into a Buffer (snapshot_binding.cc). */
Napi::Value ChunkObject(Napi::Env env, const rt_chunk &ch);
/* Adds the consumer's calls (consumer_binding.cc) to `exports`. */
void RegisterConsumer(Napi::Env env, Napi::Object exports);
/* Adds the snapshot's and the peeker's calls (snapshot_binding.cc). */
void RegisterSnapshot(Napi::Env env, Napi::Object exports);
/* Adds snapshotRequests and heartbeats (flight_binding.cc) to `exports`. */
void RegisterFlight(Napi::Env env, Napi::Object exports);
#endif
