// Node-API binding of the native core. It only marshals: every decision lives in
// native/ring (C) or src/ (TypeScript). Session and consumer handles are
// Napi::External objects with finalizers, so a dropped handle cannot leak a mapping.
#include <napi.h>

#include <cerrno>
#include <cstring>
#include <sys/uio.h>
#include <unistd.h>
#include <string>

#include "handles.h"

namespace {

using SessionBox = rt_session_box;

struct ConsumerBox {
  rt_consumer c{};
  bool ready = false;
  Napi::Reference<Napi::External<SessionBox>> session;  // keeps the mapping alive
};

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

Napi::Value WrapSession(Napi::Env env, rt_session *s) {
  auto *box = new SessionBox{s};  // freed by the finalizer
  return Napi::External<SessionBox>::New(env, box, [](Napi::Env, SessionBox *b) {
    rt_session_close(b->s);
    delete b;
  });
}

// create(name, subSize, nSub) -> handle
Napi::Value Create(const Napi::CallbackInfo &info) {
  std::string name = StringArg(info, 0, "session name");
  if (info.Env().IsExceptionPending()) return {};
  rt_session_options opt{};
  if (info.Length() > 1 && info[1].IsNumber()) opt.sub_size = info[1].As<Napi::Number>().Int64Value();
  if (info.Length() > 2 && info[2].IsNumber()) opt.n_sub = info[2].As<Napi::Number>().Uint32Value();
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
  // 64-bit values as BigInt: the CTF clock offset needs them exact.
  o.Set("clockRefTicks", Napi::BigInt::New(env, static_cast<uint64_t>(s->hdr->clock_ref_ticks)));
  o.Set("clockRefRealtimeNs", Napi::BigInt::New(env, static_cast<int64_t>(s->hdr->clock_ref_realtime_ns)));
  o.Set("createdRealtimeNs", Napi::BigInt::New(env, static_cast<int64_t>(s->hdr->created_realtime_ns)));
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

Napi::Value ConsumerCreate(const Napi::CallbackInfo &info) {
  rt_session *s = SessionArg(info, 0);
  if (!s) return {};
  auto *box = new ConsumerBox();
  if (rt_consumer_init(&box->c, s)) {
    delete box;
    Napi::Error::New(info.Env(), "out of memory").ThrowAsJavaScriptException();
    return {};
  }
  box->ready = true;
  box->session = Napi::Persistent(info[0].As<Napi::External<SessionBox>>());
  return Napi::External<ConsumerBox>::New(info.Env(), box, [](Napi::Env, ConsumerBox *b) {
    rt_consumer_fini(&b->c);
    delete b;
  });
}

// Consumer, session and ring of info[0] and info[1] (their types checked by
// the caller): false with a JS exception pending (session closed, ring out of range).
static bool ConsumerRing(const Napi::CallbackInfo &info, ConsumerBox **box, SessionBox **sbox, uint32_t *ring) {
  *box = info[0].As<Napi::External<ConsumerBox>>().Data();
  *sbox = (*box)->session.Value().Data();
  if (!(*sbox)->s) {
    Napi::Error::New(info.Env(), "session is closed").ThrowAsJavaScriptException();
    return false;
  }
  *ring = info[1].As<Napi::Number>().Uint32Value();
  if (*ring >= (*sbox)->s->n_rings) {
    Napi::RangeError::New(info.Env(), "ring index out of range").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

// The next chunk of ring info[1] of consumer info[0] (info[2]: allow a
// committed prefix): 1 with *ch filled, 0 if none is ready, -1 with a JS
// exception pending (session closed, ring out of range, corrupt ring).
int ConsumerNextChunk(const Napi::CallbackInfo &info, ConsumerBox **box, SessionBox **sbox, uint32_t *ring,
                      rt_chunk *ch) {
  if (!ConsumerRing(info, box, sbox, ring)) return -1;
  int rc = rt_consumer_next(&(*box)->c, *ring, ch, info[2].ToBoolean().Value());
  if (rc < 0) Napi::Error::New(info.Env(), (*box)->c.err).ThrowAsJavaScriptException();
  return rc;
}

// consumerNext(consumer, ring, allowPartial) -> {ring, subOffset, complete, data} | null.
// The chunk bytes are copied before the sub-buffer is released to producers.
Napi::Value ConsumerNext(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsExternal() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "consumerNext(consumer, ring, allowPartial)").ThrowAsJavaScriptException();
    return {};
  }
  ConsumerBox *box = nullptr;
  SessionBox *sbox = nullptr;
  uint32_t ring = 0;
  rt_chunk ch;
  int rc = ConsumerNextChunk(info, &box, &sbox, &ring, &ch);
  if (rc <= 0) return rc < 0 ? Napi::Value() : env.Null();
  auto data = Napi::Buffer<uint8_t>::Copy(env, ch.sub + ch.begin, ch.end - ch.begin);
  rt_consumer_done(&box->c, &ch);
  Napi::Object o = Napi::Object::New(env);
  o.Set("ring", ch.ring);
  o.Set("subOffset", static_cast<double>(ch.sub_off));
  o.Set("begin", ch.begin);
  o.Set("complete", ch.complete != 0);
  o.Set("data", data);
  return o;
}

// Write all of buf or fail; on failure the file is cut back to `start`, so it
// never ends in half a packet.
static int WriteWhole(int fd, off_t start, struct iovec *iov, int n, std::string *err) {
  while (n > 0) {
    ssize_t w = writev(fd, iov, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      *err = std::string("cannot write trace file: ") + (w < 0 ? strerror(errno) : "wrote nothing");
      if (ftruncate(fd, start)) { /* the error above is what matters */ }
      return -1;
    }
    while (n > 0 && static_cast<size_t>(w) >= iov->iov_len) {
      w -= static_cast<ssize_t>(iov->iov_len);
      iov++;
      n--;
    }
    if (n > 0) {
      iov->iov_base = static_cast<uint8_t *>(iov->iov_base) + w;
      iov->iov_len -= static_cast<size_t>(w);
    }
  }
  return 0;
}

// consumerWritePacket(consumer, ring, allowPartial, known: Uint8Array, seq, extraDiscarded,
//                     prevEnd: bigint, dropUnknown, fd)
//   -> {records, dropped, lost, size, firstTs, lastTs, complete} | {unknownId} | null
// Appends the next chunk of `ring` to the stream file `fd` as one CTF packet
// (native/ring/packet.h), straight from the ring when every class is known.
// Without dropUnknown, a chunk holding a class id not in `known` stays in the
// ring and {unknownId} is returned, so the caller can re-read the registry.
// The sub-buffer is released only after its packet is written.
Napi::Value ConsumerWritePacket(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 9 || !info[0].IsExternal() || !info[1].IsNumber() || !info[3].IsTypedArray() ||
      !info[4].IsNumber() || !info[5].IsNumber() || !info[6].IsBigInt() || !info[8].IsNumber()) {
    Napi::TypeError::New(env, "consumerWritePacket(consumer, ring, allowPartial, known, seq, extraDiscarded, "
                              "prevEnd, dropUnknown, fd)").ThrowAsJavaScriptException();
    return {};
  }
  ConsumerBox *box = nullptr;
  SessionBox *sbox = nullptr;
  uint32_t ring = 0;
  rt_chunk ch;
  int rc = ConsumerNextChunk(info, &box, &sbox, &ring, &ch);
  if (rc <= 0) return rc < 0 ? Napi::Value() : env.Null();
  auto known = info[3].As<Napi::Uint8Array>();
  bool lossless = false;
  uint64_t prev_end = info[6].As<Napi::BigInt>().Uint64Value(&lossless);
  bool drop_unknown = info[7].ToBoolean().Value();
  int fd = info[8].As<Napi::Number>().Int32Value();
  rt_ring_stats st;
  rt_ring_stats_read(sbox->s, ring, &st);  // discarded so far = ring losses + caller's drops
  uint64_t discarded = st.lost + static_cast<uint64_t>(info[5].As<Napi::Number>().Int64Value());
  uint64_t seq = static_cast<uint64_t>(info[4].As<Napi::Number>().Int64Value());
  uint32_t bits = static_cast<uint32_t>(known.ByteLength() * 8);
  rt_packet_info pi;
  char err[256];
  if (rt_packet_build(&ch, known.Data(), bits, seq, discarded, prev_end, nullptr, &pi, err, sizeof err)) {
    Napi::Error::New(env, err).ThrowAsJavaScriptException();  // nothing released
    return {};
  }
  Napi::Object o = Napi::Object::New(env);
  if (pi.dropped && !drop_unknown) {
    o.Set("unknownId", pi.max_unknown_id);  // chunk not released: asked again later
    return o;
  }
  std::string copy, werr;
  struct iovec iov[2];
  int n = 1;
  if (pi.dropped || pi.holes) {  // rebuild without undescribed records and dead writers' holes
    copy.resize(RT_PACKET_HEADER_SIZE + (ch.end - ch.begin));
    rt_packet_build(&ch, known.Data(), bits, seq, discarded + pi.dropped, prev_end,
                    reinterpret_cast<uint8_t *>(&copy[0]), &pi, err, sizeof err);
    iov[0] = {&copy[0], pi.size};
  } else {
    iov[0] = {&pi.header, RT_PACKET_HEADER_SIZE};
    iov[1] = {const_cast<uint8_t *>(ch.sub + ch.begin), ch.end - ch.begin};
    n = ch.end > ch.begin ? 2 : 1;
  }
  off_t start = lseek(fd, 0, SEEK_END);
  if (start < 0 || WriteWhole(fd, start, iov, n, &werr)) {
    Napi::Error::New(env, start < 0 ? std::string("cannot write trace file: ") + strerror(errno) : werr)
        .ThrowAsJavaScriptException();  // chunk kept in the ring
    return {};
  }
  rt_consumer_done(&box->c, &ch);
  o.Set("size", pi.size);
  o.Set("lost", static_cast<double>(st.lost));
  o.Set("records", pi.records);
  o.Set("dropped", pi.dropped);
  o.Set("firstTs", Napi::BigInt::New(env, pi.first_ts));
  o.Set("lastTs", Napi::BigInt::New(env, pi.last_ts));
  o.Set("complete", ch.complete != 0);
  return o;
}

// Consumer and ring of a (consumer, ring) call; nullptr with a JS exception pending.
static ConsumerBox *ConsumerRingArgs(const Napi::CallbackInfo &info, const char *usage, uint32_t *ring) {
  if (info.Length() < 2 || !info[0].IsExternal() || !info[1].IsNumber()) {
    Napi::TypeError::New(info.Env(), usage).ThrowAsJavaScriptException();
    return nullptr;
  }
  ConsumerBox *box = nullptr;
  SessionBox *sbox = nullptr;
  return ConsumerRing(info, &box, &sbox, ring) ? box : nullptr;
}

// consumerBlocked(consumer, ring) -> {subOffset, committed} | null (see rt_consumer_blocked).
Napi::Value ConsumerBlocked(const Napi::CallbackInfo &info) {
  uint32_t ring = 0;
  ConsumerBox *box = ConsumerRingArgs(info, "consumerBlocked(consumer, ring)", &ring);
  if (!box) return {};
  uint64_t off = 0, committed = 0;
  if (!rt_consumer_blocked(&box->c, ring, &off, &committed)) return info.Env().Null();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("subOffset", static_cast<double>(off));
  o.Set("committed", static_cast<double>(committed));
  return o;
}

// consumerSalvage(consumer, ring, ending) -> {kind: 'salvaged' | 'abandoned' | 'wait', ...} | null;
// throws when it cannot be done safely (see rt_consumer_salvage).
Napi::Value ConsumerSalvage(const Napi::CallbackInfo &info) {
  uint32_t ring = 0;
  ConsumerBox *box = ConsumerRingArgs(info, "consumerSalvage(consumer, ring, ending)", &ring);
  if (!box) return {};
  bool ending = info.Length() > 2 && info[2].ToBoolean().Value();
  rt_salvage sv;
  int rc = rt_consumer_salvage(&box->c, ring, ending ? 1 : 0, &sv);
  if (rc == RT_SALVAGE_ERROR) {
    Napi::Error::New(info.Env(), box->c.err).ThrowAsJavaScriptException();
    return {};
  }
  if (rc == RT_SALVAGE_NOTHING) return info.Env().Null();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("subOffset", static_cast<double>(sv.sub_off));
  o.Set("pid", sv.pid);
  o.Set("tid", sv.tid);
  o.Set("deadWriters", sv.dead_writers);
  if (rc == RT_SALVAGE_WAIT || rc == RT_SALVAGE_ABANDONED) o.Set("reason", box->c.err);
  if (rc == RT_SALVAGE_WAIT) {
    o.Set("kind", "wait");
  } else if (rc == RT_SALVAGE_ABANDONED) {
    o.Set("kind", "abandoned");
    o.Set("recordsLost", static_cast<double>(sv.records_lost));
    o.Set("exact", sv.lost_exact != 0);
    o.Set("released", sv.released != 0);
  } else {
    o.Set("kind", "salvaged");
    o.Set("holeAt", sv.hole_at);
    o.Set("holeBytes", sv.hole_bytes);
    o.Set("completed", static_cast<double>(sv.completed));
  }
  return o;
}

struct LockBox {
  std::string name;
  int fd = -1;
};

// consumerLock(name) -> {handle} | {holder}: take the session's consumer lock.
Napi::Value ConsumerLock(const Napi::CallbackInfo &info) {
  std::string name = StringArg(info, 0, "session name");
  if (info.Env().IsExceptionPending()) return {};
  char err[512];
  int fd = -1, holder = 0;
  int rc = rt_consumer_lock(name.c_str(), &fd, &holder, err, sizeof err);
  if (rc < 0) {
    Napi::Error::New(info.Env(), err).ThrowAsJavaScriptException();
    return {};
  }
  Napi::Object o = Napi::Object::New(info.Env());
  if (rc == 1) {
    o.Set("holder", holder);
    return o;
  }
  auto *box = new LockBox{name, fd};
  o.Set("handle", Napi::External<LockBox>::New(info.Env(), box, [](Napi::Env, LockBox *b) {
    if (b->fd >= 0) rt_consumer_unlock(b->name.c_str(), b->fd);
    delete b;
  }));
  return o;
}

Napi::Value ConsumerUnlock(const Napi::CallbackInfo &info) {
  if (info.Length() < 1 || !info[0].IsExternal()) return info.Env().Undefined();
  LockBox *b = info[0].As<Napi::External<LockBox>>().Data();
  if (b->fd >= 0) rt_consumer_unlock(b->name.c_str(), b->fd);
  b->fd = -1;
  return info.Env().Undefined();
}

// consumerLockHolder(name) -> pid of the live consumer, or 0 if none.
Napi::Value ConsumerLockHolder(const Napi::CallbackInfo &info) {
  std::string name = StringArg(info, 0, "session name");
  if (info.Env().IsExceptionPending()) return {};
  char err[512];
  int holder = 0;
  int rc = rt_consumer_lock_probe(name.c_str(), &holder, err, sizeof err);
  if (rc < 0) {
    Napi::Error::New(info.Env(), err).ThrowAsJavaScriptException();
    return {};
  }
  return Napi::Number::New(info.Env(), rc == 1 ? (holder > 0 ? holder : -1) : 0);
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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("create", Napi::Function::New(env, Create));
  exports.Set("open", Napi::Function::New(env, Open));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("unlink", Napi::Function::New(env, Unlink));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("setRseq", Napi::Function::New(env, SetRseq));
  exports.Set("emit", Napi::Function::New(env, Emit));
  exports.Set("ringStats", Napi::Function::New(env, RingStats));
  exports.Set("ringWritten", Napi::Function::New(env, RingWritten));
  exports.Set("ringOffsets", Napi::Function::New(env, RingOffsets));
  exports.Set("consumerCreate", Napi::Function::New(env, ConsumerCreate));
  exports.Set("consumerNext", Napi::Function::New(env, ConsumerNext));
  exports.Set("consumerWritePacket", Napi::Function::New(env, ConsumerWritePacket));
  exports.Set("consumerBlocked", Napi::Function::New(env, ConsumerBlocked));
  exports.Set("consumerSalvage", Napi::Function::New(env, ConsumerSalvage));
  exports.Set("consumerLock", Napi::Function::New(env, ConsumerLock));
  exports.Set("consumerUnlock", Napi::Function::New(env, ConsumerUnlock));
  exports.Set("consumerLockHolder", Napi::Function::New(env, ConsumerLockHolder));
  exports.Set("addProcess", Napi::Function::New(env, AddProcess));
  exports.Set("procsPath", Napi::Function::New(env, ProcsPath));
  exports.Set("registerClass", Napi::Function::New(env, RegisterClass));
  exports.Set("registryPath", Napi::Function::New(env, RegistryPath));
  exports.Set("registryUnlink", Napi::Function::New(env, RegistryUnlink));
  if (rt_producer_binding_init(env, exports) != napi_ok) {
    Napi::Error::New(env, "cannot set up the producer binding").ThrowAsJavaScriptException();
    return exports;
  }
  exports.Set("firstClassId", Napi::Number::New(env, RT_FIRST_CLASS_ID));
  exports.Set("eventHeaderSize", Napi::Number::New(env, RT_EVENT_HEADER_SIZE));
  exports.Set("packetHeaderSize", Napi::Number::New(env, RT_PACKET_HEADER_SIZE));
  return exports;
}

}  // namespace

NODE_API_MODULE(ringtrace, Init)
