// Node-API binding of the native core: sessions, rings' counters, the class
// registry and the process log (the consumer's calls: consumer_binding.cc; the
// hot call: producer_binding.c). It only marshals: every decision lives in
// native/ring (C) or src/ (TypeScript). Session and consumer handles are
// Napi::External objects with finalizers, so a dropped handle cannot leak a mapping.
#include <napi.h>

#include <cerrno>
#include <fcntl.h>
#include <cstring>
#include <sys/uio.h>
#include <unistd.h>
#include <string>

#include "args.h"

rt_session *SessionArg(const Napi::CallbackInfo &info, size_t i) {
  if (info.Length() <= i || !info[i].IsExternal()) {
    Napi::TypeError::New(info.Env(), "expected a session handle").ThrowAsJavaScriptException();
    return nullptr;
  }
  rt_session *s = info[i].As<Napi::External<SessionBox>>().Data()->s;
  if (!s) Napi::Error::New(info.Env(), "session is closed").ThrowAsJavaScriptException();
  return s;
}

std::string StringArg(const Napi::CallbackInfo &info, size_t i, const char *what) {
  if (info.Length() <= i || !info[i].IsString()) {
    Napi::TypeError::New(info.Env(), std::string(what) + " must be a string")
        .ThrowAsJavaScriptException();
    return {};
  }
  return info[i].As<Napi::String>().Utf8Value();
}

namespace {

Napi::Value WrapSession(Napi::Env env, rt_session *s) {
  auto *box = new SessionBox{s};  // freed by the finalizer
  return Napi::External<SessionBox>::New(env, box, [](Napi::Env, SessionBox *b) {
    rt_session_close(b->s);
    delete b;
  });
}

// create(name, subSize, nSub, mode: 'discard' | 'overwrite' = 'discard') -> handle
Napi::Value Create(const Napi::CallbackInfo &info) {
  std::string name = StringArg(info, 0, "session name");
  if (info.Env().IsExceptionPending()) return {};
  rt_session_options opt{};
  if (info.Length() > 1 && info[1].IsNumber()) opt.sub_size = info[1].As<Napi::Number>().Int64Value();
  if (info.Length() > 2 && info[2].IsNumber()) opt.n_sub = info[2].As<Napi::Number>().Uint32Value();
  if (info.Length() > 3 && !info[3].IsUndefined()) {
    std::string mode = info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : "";
    if (mode != "discard" && mode != "overwrite") {
      Napi::TypeError::New(info.Env(), "mode must be 'discard' or 'overwrite'").ThrowAsJavaScriptException();
      return {};
    }
    opt.mode = mode == "overwrite" ? RT_MODE_OVERWRITE : RT_MODE_DISCARD;
  }
  char err[256];
  rt_session *s = nullptr;
  if (rt_session_create(name.c_str(), &opt, &s, err, sizeof err)) {
    Napi::Error::New(info.Env(), err).ThrowAsJavaScriptException();
    return {};
  }
  return WrapSession(info.Env(), s);
}

// open(name) -> handle
Napi::Value Open(const Napi::CallbackInfo &info) {
  std::string name = StringArg(info, 0, "session name");
  if (info.Env().IsExceptionPending()) return {};
  char err[256];
  rt_session *s = nullptr;
  if (rt_session_open(name.c_str(), &s, err, sizeof err)) {
    Napi::Error::New(info.Env(), err).ThrowAsJavaScriptException();
    return {};
  }
  return WrapSession(info.Env(), s);
}

// close(handle): unmaps now (idempotent); the finalizer then has nothing to do.
Napi::Value Close(const Napi::CallbackInfo &info) {
  if (info.Length() < 1 || !info[0].IsExternal()) return info.Env().Undefined();
  SessionBox *box = info[0].As<Napi::External<SessionBox>>().Data();
  rt_session_close(box->s);
  box->s = nullptr;
  return info.Env().Undefined();
}

Napi::Value Unlink(const Napi::CallbackInfo &info) {
  std::string name = StringArg(info, 0, "session name");
  if (info.Env().IsExceptionPending()) return {};
  char err[256];
  if (rt_session_unlink(name.c_str(), err, sizeof err))
    Napi::Error::New(info.Env(), err).ThrowAsJavaScriptException();
  return info.Env().Undefined();
}

// punchHole(fd, offset, length): frees the disk (or tmpfs) blocks of a file
// range that has been read, keeping the file's size and every offset after it
// (a live OTLP export with no trace kept: the recorder appends, the reader
// releases what it has sent).
Napi::Value PunchHole(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber()) {
    Napi::TypeError::New(env, "punchHole(fd, offset, length)").ThrowAsJavaScriptException();
    return {};
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  int64_t off = info[1].As<Napi::Number>().Int64Value();
  int64_t len = info[2].As<Napi::Number>().Int64Value();
  if (fd < 0 || off < 0 || len <= 0) return env.Undefined();
  if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len))
    Napi::Error::New(env, std::string("cannot release file space: ") + strerror(errno)).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value Info(const Napi::CallbackInfo &info) {
  rt_session *s = SessionArg(info, 0);
  if (!s) return {};
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  char uuid[33];
  for (int i = 0; i < 16; i++) snprintf(uuid + 2 * i, 3, "%02x", s->uuid[i]);
  o.Set("name", s->name);
  o.Set("nCpus", s->n_cpus);
  o.Set("nRings", s->n_rings);
  o.Set("nSub", s->n_sub);
  o.Set("subSize", static_cast<double>(s->sub_size));
  o.Set("maxPayload", s->max_payload);
  o.Set("clock", s->clock_kind == RT_CLOCK_CYCLES ? "cycles" : "monotonic");
  o.Set("clockFreqHz", static_cast<double>(s->hdr->clock_freq_hz));
  o.Set("uuid", uuid);
  o.Set("rseq", s->use_rseq != 0);
  o.Set("mode", s->mode == RT_MODE_OVERWRITE ? "overwrite" : "discard");
  // 64-bit values as BigInt: the CTF clock offset needs them exact.
  o.Set("clockRefTicks", Napi::BigInt::New(env, static_cast<uint64_t>(s->hdr->clock_ref_ticks)));
  o.Set("clockRefRealtimeNs", Napi::BigInt::New(env, static_cast<int64_t>(s->hdr->clock_ref_realtime_ns)));
  o.Set("createdRealtimeNs", Napi::BigInt::New(env, static_cast<int64_t>(s->hdr->created_realtime_ns)));
  // Trace files carry CLOCK_MONOTONIC ns whatever the session clock (cycles are converted per packet).
  o.Set("monotonicRefNs", Napi::BigInt::New(env, static_cast<int64_t>(s->hdr->monotonic_ref_ns)));
  o.Set("monotonicRefRealtimeNs", Napi::BigInt::New(env, static_cast<int64_t>(s->hdr->monotonic_ref_realtime_ns)));
  char why[sizeof s->hdr->clock_why + 1];
  memcpy(why, s->hdr->clock_why, sizeof s->hdr->clock_why);  // shared memory: terminate our copy
  why[sizeof s->hdr->clock_why] = 0;
  o.Set("clockWhy", std::string(why));
  return o;
}

// setRseq(handle, enabled): force the atomic fallback (tests, benchmarks).
Napi::Value SetRseq(const Napi::CallbackInfo &info) {
  rt_session *s = SessionArg(info, 0);
  if (!s) return {};
  rt_session_set_rseq(s, info.Length() > 1 && info[1].ToBoolean().Value());
  return Napi::Boolean::New(info.Env(), s->use_rseq != 0);
}

// emit(handle, id, payload: Uint8Array) -> 0 recorded, <0 discarded (counted lost).
Napi::Value Emit(const Napi::CallbackInfo &info) {
  rt_session *s = SessionArg(info, 0);
  if (!s) return {};
  if (info.Length() < 3 || !info[1].IsNumber() || !info[2].IsTypedArray()) {
    Napi::TypeError::New(info.Env(), "emit(handle, id, payload: Uint8Array)")
        .ThrowAsJavaScriptException();
    return {};
  }
  auto payload = info[2].As<Napi::Uint8Array>();
  int rc = rt_emit(s, info[1].As<Napi::Number>().Uint32Value(), payload.Data(),
                   static_cast<uint32_t>(payload.ByteLength()));
  return Napi::Number::New(info.Env(), rc);
}

// registerClass(handle, description) -> class id (same description, same id).
Napi::Value RegisterClass(const Napi::CallbackInfo &info) {
  rt_session *s = SessionArg(info, 0);
  if (!s) return {};
  std::string desc = StringArg(info, 1, "event class description");
  if (info.Env().IsExceptionPending()) return {};
  char err[512];
  uint32_t id = 0;
  if (rt_registry_register(s, desc.c_str(), &id, err, sizeof err)) {
    Napi::Error::New(info.Env(), err).ThrowAsJavaScriptException();
    return {};
  }
  return Napi::Number::New(info.Env(), id);
}

Napi::Value RegistryPath(const Napi::CallbackInfo &info) {
  rt_session *s = SessionArg(info, 0);
  if (!s) return {};
  char path[256];
  if (rt_registry_path(s, path, sizeof path)) return info.Env().Null();
  return Napi::String::New(info.Env(), path);
}

Napi::Value RegistryUnlink(const Napi::CallbackInfo &info) {
  rt_session *s = SessionArg(info, 0);
  if (!s) return {};
  char err[512];
  if (rt_registry_unlink(s, err, sizeof err))
    Napi::Error::New(info.Env(), err).ThrowAsJavaScriptException();
  return info.Env().Undefined();
}

// Read the stats of ring info[1] of session info[0]; false with a JS exception pending.
bool RingStatsArg(const Napi::CallbackInfo &info, rt_ring_stats *st) {
  rt_session *s = SessionArg(info, 0);
  if (!s) return false;
  uint32_t ring = info.Length() > 1 ? info[1].ToNumber().Uint32Value() : 0;
  if (ring >= s->n_rings) {
    Napi::RangeError::New(info.Env(), "ring index out of range").ThrowAsJavaScriptException();
    return false;
  }
  rt_ring_stats_read(s, ring, st);
  return true;
}

Napi::Value RingStats(const Napi::CallbackInfo &info) {
  rt_ring_stats st;
  if (!RingStatsArg(info, &st)) return {};
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("writeOffset", static_cast<double>(st.write_off));
  o.Set("consumedOffset", static_cast<double>(st.consumed_off));
  o.Set("lost", static_cast<double>(st.lost));
  o.Set("remoteCommits", static_cast<double>(st.remote_commits));
  o.Set("rseqAborts", static_cast<double>(st.rseq_aborts));
  o.Set("cpuMismatches", static_cast<double>(st.cpu_mismatches));
  o.Set("overwrittenRecords", static_cast<double>(st.overwritten_records));
  o.Set("overwrittenBytes", static_cast<double>(st.overwritten_bytes));
  return o;
}

// ringWritten(session, ring) -> boolean: has any producer reserved space in
// this ring yet? The consumer polls it for rings without a stream file, so
// it returns a bare boolean instead of ringStats' object (measured: building
// that object on every poll cost 11% of the consumer's CPU).
Napi::Value RingWritten(const Napi::CallbackInfo &info) {
  rt_ring_stats st;
  if (!RingStatsArg(info, &st)) return {};
  return Napi::Boolean::New(info.Env(), st.write_off != 0);
}

// ringOffsets(session, out: Float64Array(3 * nRings)): each ring's write and
// consumed offsets and lost-event count, [w0, c0, l0, w1, c1, l1, ...], in one
// call: the recorder paces its reads by how fast the rings fill (offsets stay
// below 2^53 for centuries).
Napi::Value RingOffsets(const Napi::CallbackInfo &info) {
  rt_session *s = SessionArg(info, 0);
  if (!s) return {};
  if (info.Length() < 2 || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array ||
      info[1].As<Napi::Float64Array>().ElementLength() < 3u * s->n_rings) {
    Napi::TypeError::New(info.Env(), "ringOffsets(session, Float64Array of 3 * nRings)").ThrowAsJavaScriptException();
    return {};
  }
  Napi::Float64Array out = info[1].As<Napi::Float64Array>();
  for (uint32_t ring = 0; ring < s->n_rings; ring++) {
    rt_ring_stats st;
    rt_ring_stats_read(s, ring, &st);
    out[3 * ring] = static_cast<double>(st.write_off);
    out[3 * ring + 1] = static_cast<double>(st.consumed_off);
    out[3 * ring + 2] = static_cast<double>(st.lost);
  }
  return info.Env().Undefined();
}

// addProcess(handle, name): note this thread in the session's process log.
Napi::Value AddProcess(const Napi::CallbackInfo &info) {
  rt_session *s = SessionArg(info, 0);
  if (!s) return {};
  std::string name = StringArg(info, 1, "process name");
  if (info.Env().IsExceptionPending()) return {};
  char err[512];
  if (rt_registry_add_process(s, name.c_str(), err, sizeof err))
    Napi::Error::New(info.Env(), err).ThrowAsJavaScriptException();
  return info.Env().Undefined();
}

Napi::Value ProcsPath(const Napi::CallbackInfo &info) {
  rt_session *s = SessionArg(info, 0);
  if (!s) return {};
  char path[256];
  if (rt_registry_procs_path(s, path, sizeof path)) return info.Env().Null();
  return Napi::String::New(info.Env(), path);
}

// selectionPath(handle) -> path of the session's selection file, or null if too long.
Napi::Value SelectionPath(const Napi::CallbackInfo &info) {
  rt_session *s = SessionArg(info, 0);
  if (!s) return {};
  char path[256];
  if (rt_selection_path(s, path, sizeof path)) return info.Env().Null();
  return Napi::String::New(info.Env(), path);
}

// selectionGeneration(handle) -> how many selection files were put in place (one load).
Napi::Value SelectionGeneration(const Napi::CallbackInfo &info) {
  rt_session *s = SessionArg(info, 0);
  if (!s) return {};
  return Napi::Number::New(info.Env(), rt_selection_generation(s));
}

// selectionBump(handle) -> the new generation, announcing a selection file just renamed into place.
Napi::Value SelectionBump(const Napi::CallbackInfo &info) {
  rt_session *s = SessionArg(info, 0);
  if (!s) return {};
  return Napi::Number::New(info.Env(), rt_selection_bump(s));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("create", Napi::Function::New(env, Create));
  exports.Set("open", Napi::Function::New(env, Open));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("unlink", Napi::Function::New(env, Unlink));
  exports.Set("punchHole", Napi::Function::New(env, PunchHole));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setRseq", Napi::Function::New(env, SetRseq));
  exports.Set("emit", Napi::Function::New(env, Emit));
  exports.Set("ringStats", Napi::Function::New(env, RingStats));
  exports.Set("ringWritten", Napi::Function::New(env, RingWritten));
  exports.Set("ringOffsets", Napi::Function::New(env, RingOffsets));
  RegisterConsumer(env, exports);
  RegisterSnapshot(env, exports);
  RegisterFlight(env, exports);
  exports.Set("addProcess", Napi::Function::New(env, AddProcess));
  exports.Set("procsPath", Napi::Function::New(env, ProcsPath));
  exports.Set("selectionPath", Napi::Function::New(env, SelectionPath));
  exports.Set("selectionGeneration", Napi::Function::New(env, SelectionGeneration));
  exports.Set("selectionBump", Napi::Function::New(env, SelectionBump));
  exports.Set("registerClass", Napi::Function::New(env, RegisterClass));
  exports.Set("registryPath", Napi::Function::New(env, RegistryPath));
  exports.Set("registryUnlink", Napi::Function::New(env, RegistryUnlink));
  if (rt_producer_binding_init(env, exports) != napi_ok) {
    Napi::Error::New(env, "cannot set up the producer binding").ThrowAsJavaScriptException();
    return exports;
  }
  if (rt_gc_binding_init(env, exports) != napi_ok) {
    Napi::Error::New(env, "cannot set up the GC binding").ThrowAsJavaScriptException();
    return exports;
  }
  exports.Set("firstClassId", Napi::Number::New(env, RT_FIRST_CLASS_ID));
  exports.Set("eventHeaderSize", Napi::Number::New(env, RT_EVENT_HEADER_SIZE));
  exports.Set("packetHeaderSize", Napi::Number::New(env, RT_PACKET_HEADER_SIZE));
  return exports;
}

}  // namespace

NODE_API_MODULE(ringtrace, Init)
