// Node-API binding of what a flight recorder reads from a session besides its
// rings: the snapshot requests apps made (native/ring/trigger.h) and the
// event-loop heartbeats in the writer table (native/ring/writers.h).
// Marshalling only.
#include <napi.h>

#include <vector>

#include "args.h"
#include "clock.h"
#include "trigger.h"
#include "writers.h"

namespace {

// snapshotRequests(handle) -> requests published so far (exact below 2^53).
Napi::Value SnapshotRequests(const Napi::CallbackInfo &info) {
  rt_session *s = SessionArg(info, 0);
  if (!s) return {};
  return Napi::Number::New(info.Env(), static_cast<double>(rt_trigger_count(s)));
}

// heartbeats(handle, withDead?) -> [{pid, tid, ageMs, dead}]: each beating
// writer thread and how long ago (CLOCK_MONOTONIC, now) its event loop last
// turned; withDead: also threads that died with a beat (see writers.h).
Napi::Value Heartbeats(const Napi::CallbackInfo &info) {
  rt_session *s = SessionArg(info, 0);
  if (!s) return {};
  std::vector<rt_heartbeat> beats(s->n_writer_slots);  // validated at open: at most 65536
  uint64_t now = rt_monotonic_ns();
  bool with_dead = info.Length() > 1 && info[1].ToBoolean().Value();
  uint32_t n = rt_writers_heartbeats(s, now, beats.data(), s->n_writer_slots, with_dead ? 1 : 0);
  Napi::Array out = Napi::Array::New(info.Env(), n);
  for (uint32_t i = 0; i < n; i++) {
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("pid", beats[i].pid);
    o.Set("tid", beats[i].tid);
    o.Set("ageMs", static_cast<double>(now - beats[i].ns) / 1e6);
    o.Set("dead", beats[i].dead != 0);
    out.Set(i, o);
  }
  return out;
}

}  // namespace

void RegisterFlight(Napi::Env env, Napi::Object exports) {
  exports.Set("snapshotRequests", Napi::Function::New(env, SnapshotRequests));
  exports.Set("heartbeats", Napi::Function::New(env, Heartbeats));
}
