// A snapshot of every ring of a session, taken without consuming anything:
// the flight recorder's read of an overwrite-mode session. The native core
// copies each ring's newest sub-buffers (native/ring/snapshot.h); this wrapper
// hands them out as CTF packets, with exactly the contract of
// Consumer.writePacket, so a TraceWriter writes a snapshot as it writes a
// drained session, or as raw records.
import { loadNative, type NativePacket, type NativeSnapshotRing, type SnapshotHandle } from './native';
import { records, type RawRecord } from './records';

/** What a trace writer needs of its packet source: Consumer and Snapshot both are one. */
export interface PacketSource {
  writePacket(ring: number, allowPartial: boolean, known: Uint8Array, seq: number, extraDiscarded: number,
    prevEnd: bigint, dropUnknown: boolean, fd: number): NativePacket | { unknownId: number } | null;
}

export class Snapshot implements PacketSource {
  private closed = false;

  constructor(private readonly handle: SnapshotHandle, readonly nRings: number) {}

  /**
   * Append the next packet of `ring`'s snapshot to a stream file (see Consumer.writePacket): the
   * packets come oldest first, consecutive; null when none is left (the last one, the committed
   * prefix of the sub-buffer being filled, only with `allowPartial`). {unknownId}: a class id
   * not in `known` and not `dropUnknown`; the packet stays, asked again.
   */
  writePacket(ring: number, allowPartial: boolean, known: Uint8Array, seq: number, extraDiscarded: number,
    prevEnd: bigint, dropUnknown: boolean, fd: number): NativePacket | { unknownId: number } | null {
    return loadNative().snapshotWritePacket(this.live(), ring, allowPartial, known, seq, extraDiscarded, prevEnd,
      dropUnknown, fd);
  }

  /** Facts of `ring`'s snapshot: what it holds, what it left out and why, the ring's counters. */
  ring(ring: number): NativeSnapshotRing {
    return loadNative().snapshotRing(this.live(), ring);
  }

  /** The records of `ring`'s snapshot, oldest first (dead writers' holes left out). */
  *records(ring: number): Generator<RawRecord> {
    const native = loadNative();
    for (let i = 0; ; i++) {
      const chunk = native.snapshotChunk(this.live(), ring, i);
      if (!chunk) return;
      yield* records(chunk.data, chunk.begin, `snapshot of ring ${ring}, sub-buffer at ${chunk.subOffset}`);
    }
  }

  /** Free the copies now (they are also freed when the object is collected). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    loadNative().snapshotClose(this.handle);
  }

  private live(): SnapshotHandle {
    if (this.closed) throw new Error('snapshot is closed');
    return this.handle;
  }
}
