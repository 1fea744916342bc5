// See write_packet.h. Marshalling only: the packet is built, its times
// mapped and the file appended to by the core (native/ring/packet.c,
// clock_map.c).
#include "write_packet.h"

#include <cstring>
#include <string>
#include <sys/uio.h>

bool ReadPacketArgs(const Napi::CallbackInfo &info, size_t k, PacketArgs *a) {
  if (info.Length() < k + 6 || !info[k].IsTypedArray() || !info[k + 1].IsNumber() || !info[k + 2].IsNumber() ||
      !info[k + 3].IsBigInt() || !info[k + 5].IsNumber()) {
    Napi::TypeError::New(info.Env(), "expected known: Uint8Array, seq, extraDiscarded, prevEnd: bigint, dropUnknown, fd")
        .ThrowAsJavaScriptException();
    return false;
  }
  auto known = info[k].As<Napi::Uint8Array>();
  a->known = known.Data();
  a->known_bits = static_cast<uint32_t>(known.ByteLength() * 8);
  a->seq = static_cast<uint64_t>(info[k + 1].As<Napi::Number>().Int64Value());
  a->extra_discarded = static_cast<uint64_t>(info[k + 2].As<Napi::Number>().Int64Value());
  bool lossless = false;
  a->prev_end = info[k + 3].As<Napi::BigInt>().Uint64Value(&lossless);
  a->drop_unknown = info[k + 4].ToBoolean().Value();
  a->fd = info[k + 5].As<Napi::Number>().Int32Value();
  return true;
}

Napi::Value WriteChunkPacket(Napi::Env env, const ChunkClock &clock, const rt_chunk &ch, const PacketArgs &a, uint64_t lost,
                             bool *written) {
  *written = false;
  uint64_t discarded = lost + a.extra_discarded;  // discarded so far = ring losses + caller's drops
  rt_packet_info pi;
  char err[256];
  rt_clock_map clock_map;
  rt_clock_map *map = nullptr;
  if (clock.kind == RT_CLOCK_CYCLES) {
    rt_clock_map_chunk(&clock_map, &ch, clock.freq_hz, a.prev_end);
    map = &clock_map;
  }
  if (rt_packet_build(&ch, a.known, a.known_bits, a.seq, discarded, a.prev_end, nullptr, nullptr, &pi, err,
                      sizeof err)) {
    Napi::Error::New(env, err).ThrowAsJavaScriptException();  // nothing written
    return {};
  }
  Napi::Object o = Napi::Object::New(env);
  if (pi.dropped && !a.drop_unknown) {
    o.Set("unknownId", pi.max_unknown_id);  // chunk kept: asked again later
    return o;
  }
  std::string copy;
  struct iovec iov[2];
  int n = 1;
  if (pi.dropped || pi.holes || map) {  // rebuild without undescribed records and holes, or with times mapped
    copy.resize(RT_PACKET_HEADER_SIZE + (ch.end - ch.begin));
    rt_packet_build(&ch, a.known, a.known_bits, a.seq, discarded + pi.dropped, a.prev_end, map,
                    reinterpret_cast<uint8_t *>(&copy[0]), &pi, err, sizeof err);
    iov[0] = {&copy[0], pi.size};
  } else {
    iov[0] = {&pi.header, RT_PACKET_HEADER_SIZE};
    iov[1] = {const_cast<uint8_t *>(ch.sub + ch.begin), ch.end - ch.begin};
    n = ch.end > ch.begin ? 2 : 1;
  }
  if (rt_packet_append(a.fd, iov, n, err, sizeof err)) {
    Napi::Error::New(env, err).ThrowAsJavaScriptException();  // chunk kept
    return {};
  }
  *written = true;
  o.Set("size", pi.size);
  o.Set("lost", static_cast<double>(lost));
  o.Set("records", pi.records);
  o.Set("dropped", pi.dropped);
  o.Set("firstTs", Napi::BigInt::New(env, pi.first_ts));
  o.Set("lastTs", Napi::BigInt::New(env, pi.last_ts));
  o.Set("complete", ch.complete != 0);
  if (map) {
    o.Set("clockAnomaly", map->anomaly != 0);
    o.Set("clockHeld", map->held);
  }
  return o;
}
