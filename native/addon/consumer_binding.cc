// Node-API binding of the consumer's calls: a consumer over a session, the
// next chunk of a ring, a chunk written to a stream file as a CTF packet,
// blocked rings and their salvage, and the session's consumer lock. Marshalling
// only (native/ring/consumer.h, packet.h, consumer_lock.h).
#include <napi.h>

#include <string>

#include "args.h"
#include "write_packet.h"

namespace {

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
  Napi::Value chunk = ChunkObject(env, ch);  // copied before the sub-buffer is released
  rt_consumer_done(&box->c, &ch);
  return chunk;
}

// consumerWritePacket(consumer, ring, allowPartial, known: Uint8Array, seq, extraDiscarded,
//                     prevEnd: bigint, dropUnknown, fd)
//   -> {records, dropped, lost, size, firstTs, lastTs, complete} | {unknownId} | null
// Appends the next chunk of `ring` to the stream file `fd` as one CTF packet
// (write_packet.h), straight from the ring when every class is known.
// Without dropUnknown, a chunk holding a class id not in `known` stays in the
// ring and {unknownId} is returned, so the caller can re-read the registry.
// The sub-buffer is released only after its packet is written.
Napi::Value ConsumerWritePacket(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  PacketArgs a;
  if (info.Length() < 9 || !info[0].IsExternal() || !info[1].IsNumber()) {
    Napi::TypeError::New(env, "consumerWritePacket(consumer, ring, allowPartial, known, seq, extraDiscarded, "
                              "prevEnd, dropUnknown, fd)").ThrowAsJavaScriptException();
    return {};
  }
  if (!ReadPacketArgs(info, 3, &a)) return {};
  ConsumerBox *box = nullptr;
  SessionBox *sbox = nullptr;
  uint32_t ring = 0;
  rt_chunk ch;
  int rc = ConsumerNextChunk(info, &box, &sbox, &ring, &ch);
  if (rc <= 0) return rc < 0 ? Napi::Value() : env.Null();
  rt_ring_stats st;
  rt_ring_stats_read(sbox->s, ring, &st);
  bool written = false;
  Napi::Value result = WriteChunkPacket(env, ChunkClock::Of(sbox->s), ch, a, st.lost, &written);
  if (written) rt_consumer_done(&box->c, &ch);
  return result;
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

}  // namespace

void RegisterConsumer(Napi::Env env, Napi::Object exports) {
  exports.Set("consumerCreate", Napi::Function::New(env, ConsumerCreate));
  exports.Set("consumerNext", Napi::Function::New(env, ConsumerNext));
  exports.Set("consumerWritePacket", Napi::Function::New(env, ConsumerWritePacket));
  exports.Set("consumerBlocked", Napi::Function::New(env, ConsumerBlocked));
  exports.Set("consumerSalvage", Napi::Function::New(env, ConsumerSalvage));
  exports.Set("consumerLock", Napi::Function::New(env, ConsumerLock));
  exports.Set("consumerUnlock", Napi::Function::New(env, ConsumerUnlock));
  exports.Set("consumerLockHolder", Napi::Function::New(env, ConsumerLockHolder));
}
