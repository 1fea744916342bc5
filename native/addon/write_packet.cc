// See write_packet.h. Marshalling only: the packet is built by
// rt_packet_build (native/ring/packet.c).
#include "write_packet.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <sys/uio.h>
#include <unistd.h>

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

// Write all of iov or fail; on failure the file is cut back to `start`, so it
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

// The clock map of a cycle session's chunk: from the sub-buffer's opening
// pair to its closing one, or, while it is still open (or its closing pair is
// older: left from an earlier lap), to a pair read now, later than all its
// records (the counter is one clock on every CPU: checked at creation).
static void ChunkClockMap(const ChunkClock &clock, const rt_chunk &ch, uint64_t prev_end, rt_clock_map *map) {
  const rt_clock_pairs &p = ch.clock;  // the consumer's copy, taken with the chunk
  uint64_t close_cycles = p.close_cycles, close_ns = p.close_ns;
  if (!ch.complete || close_ns < p.open_ns) rt_clock_pair(&close_cycles, &close_ns);
  rt_clock_map_init(map, p.open_cycles, p.open_ns, close_cycles, close_ns, clock.freq_hz, prev_end);
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
    ChunkClockMap(clock, ch, a.prev_end, &clock_map);
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
  std::string copy, werr;
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
  off_t start = lseek(a.fd, 0, SEEK_END);
  if (start < 0 || WriteWhole(a.fd, start, iov, n, &werr)) {
    Napi::Error::New(env, start < 0 ? std::string("cannot write trace file: ") + strerror(errno) : werr)
        .ThrowAsJavaScriptException();  // chunk kept
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
