// Appending one chunk of a ring to a stream file as a CTF packet, shared by
// the consumer's calls (consumer_binding.cc) and the snapshot's
// (snapshot_binding.cc), so the two write exactly the same packets.
#ifndef RINGTRACE_ADDON_WRITE_PACKET_H
#define RINGTRACE_ADDON_WRITE_PACKET_H
#include <napi.h>

#include "handles.h"

// The packet arguments of a writePacket call, from argument `known` on:
// known: Uint8Array, seq, extraDiscarded, prevEnd: bigint, dropUnknown, fd.
struct PacketArgs {
  const uint8_t *known = nullptr;
  uint32_t known_bits = 0;
  uint64_t seq = 0;
  uint64_t extra_discarded = 0;
  uint64_t prev_end = 0;
  bool drop_unknown = false;
  int fd = -1;
};
// False (with a JS TypeError pending) if the arguments are not of those types.
bool ReadPacketArgs(const Napi::CallbackInfo &info, size_t known, PacketArgs *a);

// The session clock a chunk was stamped with (copied: a snapshot outlives its session's handle).
struct ChunkClock {
  uint32_t kind = RT_CLOCK_MONOTONIC;
  uint64_t freq_hz = 1000000000u;
  static ChunkClock Of(const rt_session *s) { return {s->clock_kind, s->hdr->clock_freq_hz}; }
};

// Build the packet of `ch` (native/ring/packet.h) and append it to a.fd,
// straight from the chunk when every class is known. `lost`: the ring's lost
// events, reported and added to extra_discarded in the packet header.
// Returns {size, lost, records, dropped, firstTs, lastTs, complete, ...} with
// *written true; {unknownId} (nothing written: a class id not in `known`,
// without drop_unknown); or an empty value with a JS exception pending (a
// malformed record, a failed write: the file is cut back to where it was).
// `clock`: the chunk's session clock; the cycle clock's timestamps are
// written as CLOCK_MONOTONIC nanoseconds (native/ring/clock_map.h), and the
// result also has clockAnomaly (the packet's clock pairs disagreed with the
// counter) and clockHeld (records whose times were held within the packet).
Napi::Value WriteChunkPacket(Napi::Env env, const ChunkClock &clock, const rt_chunk &ch, const PacketArgs &a, uint64_t lost,
                             bool *written);
#endif
