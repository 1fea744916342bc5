// Node-API binding of the reads that do not consume (native/ring/snapshot.h):
// a snapshot of every ring of a session, written out packet by packet like
// consumed chunks, and a peeker that follows rings as data arrives.
// Marshalling only.
#include <napi.h>

#include <string>
#include <vector>

#include "args.h"
#include "snapshot.h"
#include "write_packet.h"

namespace {

struct SnapshotBox {
  std::vector<rt_snapshot_ring> rings;
  std::vector<uint32_t> next;  // per ring: the chunk writePacket hands out next
  Napi::Reference<Napi::External<SessionBox>> session;  // keeps the mapping alive
  ChunkClock clock;                                     // what the copies were stamped with
  void Free() {
    for (auto &r : rings) rt_snapshot_ring_free(&r);
    rings.clear();
    next.clear();
  }
  ~SnapshotBox() { Free(); }
};

struct PeekerBox {
  std::vector<uint64_t> pos, skipped;  // per ring: free-running offset handed out up to, bytes skipped
  std::vector<uint8_t> buf;            // one sub-buffer: the copy a chunk points into
  Napi::Reference<Napi::External<SessionBox>> session;
};

// snapshotTake(session) -> handle: every ring copied now (rt_snapshot_ring_take).
Napi::Value SnapshotTake(const Napi::CallbackInfo &info) {
  rt_session *s = SessionArg(info, 0);
  if (!s) return {};
  auto *box = new SnapshotBox();
  box->rings.resize(s->n_rings);
  box->next.assign(s->n_rings, 0);
  for (uint32_t ring = 0; ring < s->n_rings; ring++) {
    char err[256];
    if (rt_snapshot_ring_take(s, ring, &box->rings[ring], err, sizeof err)) {
      delete box;
      Napi::Error::New(info.Env(), err).ThrowAsJavaScriptException();
      return {};
    }
  }
  box->session = Napi::Persistent(info[0].As<Napi::External<SessionBox>>());
  box->clock = ChunkClock::Of(s);
  return Napi::External<SnapshotBox>::New(info.Env(), box, [](Napi::Env, SnapshotBox *b) { delete b; });
}

// The snapshot and ring of a (snapshot, ring, ...) call; nullptr with a JS exception pending.
SnapshotBox *SnapshotRingArgs(const Napi::CallbackInfo &info, const char *usage, uint32_t *ring) {
  if (info.Length() < 2 || !info[0].IsExternal() || !info[1].IsNumber()) {
    Napi::TypeError::New(info.Env(), usage).ThrowAsJavaScriptException();
    return nullptr;
  }
  SnapshotBox *box = info[0].As<Napi::External<SnapshotBox>>().Data();
  *ring = info[1].As<Napi::Number>().Uint32Value();
  if (box->rings.empty()) {
    Napi::Error::New(info.Env(), "snapshot is closed").ThrowAsJavaScriptException();
    return nullptr;
  }
  if (*ring >= box->rings.size()) {
    Napi::RangeError::New(info.Env(), "ring index out of range").ThrowAsJavaScriptException();
    return nullptr;
  }
  return box;
}

// snapshotRing(snapshot, ring) -> {torn, openSkipped, damaged, lost, overwrittenRecords,
//                                  overwrittenBytes, packets, bytes}
Napi::Value SnapshotRing(const Napi::CallbackInfo &info) {
  uint32_t ring = 0;
  SnapshotBox *box = SnapshotRingArgs(info, "snapshotRing(snapshot, ring)", &ring);
  if (!box) return {};
  const rt_snapshot_ring &r = box->rings[ring];
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < r.n_chunks; i++) bytes += r.chunks[i].end - r.chunks[i].begin;
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("torn", static_cast<double>(r.torn));
  o.Set("openSkipped", static_cast<double>(r.open_skipped));
  o.Set("damaged", static_cast<double>(r.damaged));
  o.Set("lost", static_cast<double>(r.lost));
  o.Set("overwrittenRecords", static_cast<double>(r.overwritten_records));
  o.Set("overwrittenBytes", static_cast<double>(r.overwritten_bytes));
  o.Set("packets", r.n_chunks);
  o.Set("bytes", static_cast<double>(bytes));
  return o;
}


// snapshotChunk(snapshot, ring, index) -> {ring, subOffset, begin, complete, data} | null
Napi::Value SnapshotChunk(const Napi::CallbackInfo &info) {
  uint32_t ring = 0;
  SnapshotBox *box = SnapshotRingArgs(info, "snapshotChunk(snapshot, ring, index)", &ring);
  if (!box) return {};
  uint32_t i = info.Length() > 2 ? info[2].ToNumber().Uint32Value() : 0;
  const rt_snapshot_ring &r = box->rings[ring];
  if (i >= r.n_chunks) return info.Env().Null();
  return ChunkObject(info.Env(), r.chunks[i]);
}

// snapshotWritePacket(snapshot, ring, allowPartial, known, seq, extraDiscarded, prevEnd, dropUnknown, fd)
//   -> as consumerWritePacket: the next chunk of the ring's snapshot as one CTF packet, or null
// when none is left (or only the prefix of the sub-buffer being filled is, and allowPartial is false).
Napi::Value SnapshotWritePacket(const Napi::CallbackInfo &info) {
  uint32_t ring = 0;
  SnapshotBox *box = SnapshotRingArgs(info, "snapshotWritePacket(snapshot, ring, allowPartial, known, seq, "
                                            "extraDiscarded, prevEnd, dropUnknown, fd)", &ring);
  if (!box) return {};
  PacketArgs a;
  if (!ReadPacketArgs(info, 3, &a)) return {};
  const rt_snapshot_ring &r = box->rings[ring];
  uint32_t &next = box->next[ring];
  if (next >= r.n_chunks) return info.Env().Null();
  const rt_chunk &ch = r.chunks[next];
  if (!ch.complete && !info[2].ToBoolean().Value()) return info.Env().Null();
  bool written = false;
  Napi::Value result = WriteChunkPacket(info.Env(), box->clock, ch, a, r.lost, &written);
  if (written) next++;
  return result;
}

// snapshotClose(snapshot): frees the copies now (idempotent).
Napi::Value SnapshotClose(const Napi::CallbackInfo &info) {
  if (info.Length() > 0 && info[0].IsExternal()) info[0].As<Napi::External<SnapshotBox>>().Data()->Free();
  return info.Env().Undefined();
}

// peekerCreate(session) -> handle following every ring from its start.
Napi::Value PeekerCreate(const Napi::CallbackInfo &info) {
  rt_session *s = SessionArg(info, 0);
  if (!s) return {};
  auto *box = new PeekerBox();
  box->pos.assign(s->n_rings, 0);
  box->skipped.assign(s->n_rings, 0);
  box->buf.resize(s->sub_size);
  box->session = Napi::Persistent(info[0].As<Napi::External<SessionBox>>());
  return Napi::External<PeekerBox>::New(info.Env(), box, [](Napi::Env, PeekerBox *b) { delete b; });
}

// Peeker, its session and ring of a (peeker, ring) call; nullptr with a JS exception pending.
PeekerBox *PeekerRingArgs(const Napi::CallbackInfo &info, const char *usage, rt_session **s, uint32_t *ring) {
  if (info.Length() < 2 || !info[0].IsExternal() || !info[1].IsNumber()) {
    Napi::TypeError::New(info.Env(), usage).ThrowAsJavaScriptException();
    return nullptr;
  }
  PeekerBox *box = info[0].As<Napi::External<PeekerBox>>().Data();
  *s = box->session.Value().Data()->s;
  *ring = info[1].As<Napi::Number>().Uint32Value();
  if (!*s) {
    Napi::Error::New(info.Env(), "session is closed").ThrowAsJavaScriptException();
    return nullptr;
  }
  if (*ring >= box->pos.size()) {
    Napi::RangeError::New(info.Env(), "ring index out of range").ThrowAsJavaScriptException();
    return nullptr;
  }
  return box;
}

// peekerNext(peeker, ring) -> {ring, subOffset, begin, complete, data} | null: the records
// committed in `ring` since the last call, up to the end of one sub-buffer (rt_peek_next).
// Throws on a damaged sub-buffer, which is stepped over: the next call goes on after it.
Napi::Value PeekerNext(const Napi::CallbackInfo &info) {
  rt_session *s = nullptr;
  uint32_t ring = 0;
  PeekerBox *box = PeekerRingArgs(info, "peekerNext(peeker, ring)", &s, &ring);
  if (!box) return {};
  rt_chunk ch;
  char err[256];
  int rc = rt_peek_next(s, ring, &box->pos[ring], box->buf.data(), &ch, &box->skipped[ring], err, sizeof err);
  if (rc < 0) {
    Napi::Error::New(info.Env(), err).ThrowAsJavaScriptException();
    return {};
  }
  return rc == 0 ? info.Env().Null() : ChunkObject(info.Env(), ch);
}

// peekerSkipped(peeker, ring) -> bytes of `ring` overwritten before the peeker saw them.
Napi::Value PeekerSkipped(const Napi::CallbackInfo &info) {
  rt_session *s = nullptr;
  uint32_t ring = 0;
  PeekerBox *box = PeekerRingArgs(info, "peekerSkipped(peeker, ring)", &s, &ring);
  if (!box) return {};
  return Napi::Number::New(info.Env(), static_cast<double>(box->skipped[ring]));
}

}  // namespace

// A chunk as JS sees one (consumerNext, snapshotChunk, peekerNext): its records' bytes copied.
Napi::Value ChunkObject(Napi::Env env, const rt_chunk &ch) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("ring", ch.ring);
  o.Set("subOffset", static_cast<double>(ch.sub_off));
  o.Set("begin", ch.begin);
  o.Set("complete", ch.complete != 0);
  o.Set("data", Napi::Buffer<uint8_t>::Copy(env, ch.sub + ch.begin, ch.end - ch.begin));
  return o;
}

void RegisterSnapshot(Napi::Env env, Napi::Object exports) {
  exports.Set("snapshotTake", Napi::Function::New(env, SnapshotTake));
  exports.Set("snapshotRing", Napi::Function::New(env, SnapshotRing));
  exports.Set("snapshotChunk", Napi::Function::New(env, SnapshotChunk));
  exports.Set("snapshotWritePacket", Napi::Function::New(env, SnapshotWritePacket));
  exports.Set("snapshotClose", Napi::Function::New(env, SnapshotClose));
  exports.Set("peekerCreate", Napi::Function::New(env, PeekerCreate));
  exports.Set("peekerNext", Napi::Function::New(env, PeekerNext));
  exports.Set("peekerSkipped", Napi::Function::New(env, PeekerSkipped));
}
