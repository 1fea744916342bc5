// A tracing session: the shared-memory rings producers write and the consumer
// drains. This wrapper owns handle lifetime and turns native chunks into records.
import { loadNative, type ConsumerHandle, type NativePacket, type NativeRingStats, type NativeSalvage,
  type NativeSessionInfo, type RingMode, type SessionHandle } from './native';
import * as fs from 'node:fs';
import { readRegistry } from './decode';
import { Peeker } from './peeker';
import { countRecords, records, type RawRecord } from './records';
import type { ClassDescription } from './schema';
import { Snapshot } from './snapshot';

export interface SessionOptions {
  /** Sub-buffer size in bytes (power of two, >= page size). Default 512 KiB. */
  subBufferSize?: number;
  /** Sub-buffers per ring (power of two, >= 2). Default 8. */
  subBuffers?: number;
  /**
   * What a full ring does. 'discard' (default): the new event is dropped and counted; a consumer
   * drains the rings. 'overwrite' (flight recorder): writers move on into the oldest sub-buffer,
   * counting what they overwrite; the rings are read with snapshot() and peeker(), never consumed.
   */
  mode?: RingMode;
}

/** A writer thread whose event loop beats into the session, and how long ago it last did (heartbeats()). */
export interface LoopHeartbeat {
  pid: number;
  tid: number;
  /** Milliseconds since its last beat (CLOCK_MONOTONIC): ~0-100 while its loop turns, growing while it is blocked. */
  ageMs: number;
  /** (withDead) The thread is dead and never cleared its beat: its process ended without exiting (a signal, a crash). */
  dead: boolean;
}

export interface ConsumedRecord extends RawRecord {
  ring: number;
}

export class Session {
  private closed = false;

  private constructor(readonly handle: SessionHandle, readonly info: NativeSessionInfo) {}

  /** Create a new session; fails if one of that name exists. */
  static create(name: string, options: SessionOptions = {}): Session {
    const native = loadNative();
    const handle = native.create(name, options.subBufferSize ?? 0, options.subBuffers ?? 0, options.mode ?? 'discard');
    return new Session(handle, native.info(handle));
  }

  /** Attach to an existing session, validating its header. */
  static open(name: string): Session {
    const native = loadNative();
    const handle = native.open(name);
    return new Session(handle, native.info(handle));
  }

  /** Remove a session's shared-memory object (mappings stay valid until closed). */
  static unlink(name: string): void {
    loadNative().unlink(name);
  }

  /** Record raw bytes as event `id` (low-level; the typed API builds on it). */
  emitRaw(id: number, payload: Uint8Array): boolean {
    return loadNative().emit(this.live(), id, payload) === 0;
  }

  /** Force the atomic fallback rings for this handle (tests and benchmarks). */
  setRseq(enabled: boolean): boolean {
    return loadNative().setRseq(this.live(), enabled);
  }

  ringStats(ring: number): NativeRingStats {
    return loadNative().ringStats(this.live(), ring);
  }

  /** Whether any producer has written to this ring yet (cheap enough to poll). */
  ringWritten(ring: number): boolean {
    return loadNative().ringWritten(this.live(), ring);
  }

  /** Each ring's write and consumed offsets and lost count into `out` (3 * nRings): [w0, c0, l0, ...]. */
  ringOffsets(out: Float64Array): void {
    loadNative().ringOffsets(this.live(), out);
  }

  /** Events dropped because a ring was full, over all rings. */
  lostEvents(): number {
    let lost = 0;
    for (let ring = 0; ring < this.info.nRings; ring++) lost += this.ringStats(ring).lost;
    return lost;
  }

  /** Path of the session's event-class registry file. */
  registryPath(): string {
    const p = loadNative().registryPath(this.live());
    if (p === null) throw new Error(`session '${this.info.name}': registry path too long`);
    return p;
  }

  /** Event classes registered so far, by id. */
  classes(): Map<number, ClassDescription> {
    const path = this.registryPath();
    return fs.existsSync(path) ? readRegistry(path) : new Map();
  }

  /** Remove the session's object and its registry (mappings stay valid until closed). */
  remove(): void {
    const native = loadNative();
    native.registryUnlink(this.live());
    try {
      native.unlink(this.info.name);
    } catch (e) {
      if (!/does not exist|No such file/.test((e as Error).message)) throw e;
    }
    // A new selection generation makes attached C programs look at the session
    // now, even those whose every event is off (docs/c-api.md).
    native.selectionBump(this.live());
  }

  consumer(): Consumer {
    return new Consumer(loadNative().consumerCreate(this.live()), this.info.nRings);
  }

  /** Copy every ring now, consuming nothing (how an overwrite-mode session is read). */
  snapshot(): Snapshot {
    return new Snapshot(loadNative().snapshotTake(this.live()), this.info.nRings);
  }

  /** Follow every ring from its start as data arrives, consuming nothing. */
  peeker(): Peeker {
    return new Peeker(loadNative().peekerCreate(this.live()), this.info.nRings);
  }

  /** Note this thread in the session's process log (for `trace-consume list`). */
  addProcess(name: string): void {
    loadNative().addProcess(this.live(), name);
  }

  procsPath(): string | null {
    return loadNative().procsPath(this.live());
  }

  /** Find or add an event class in the session's registry; returns its id. */
  registerClass(description: string): number {
    return loadNative().registerClass(this.live(), description);
  }

  /** Path of the session's selection file (which events apps record; docs/selection.md). */
  selectionPath(): string {
    const p = loadNative().selectionPath(this.live());
    if (p === null) throw new Error(`session '${this.info.name}': selection path too long`);
    return p;
  }

  /** How many selection files were put in place; bumpSelection announces a new one. */
  selectionGeneration(): number {
    return loadNative().selectionGeneration(this.live());
  }

  bumpSelection(): number {
    return loadNative().selectionBump(this.live());
  }

  /**
   * Snapshots apps asked for so far (snapshot(), rt_snapshot_request): each
   * one's ringtrace:snapshot_request record is committed before it is counted.
   */
  snapshotRequests(): number {
    return loadNative().snapshotRequests(this.live());
  }

  /**
   * The event loops beating into this session (overwrite mode: each attached
   * process's main thread, every 100 ms): threads that own a writer slot, are
   * not known to be dead, and have a beat, with its age now. `withDead`: also
   * dead threads that never cleared their beat (`dead`): a process that exits
   * clears it, so those ended on a signal or crashed.
   */
  heartbeats(withDead = false): LoopHeartbeat[] {
    return loadNative().heartbeats(this.live(), withDead);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    loadNative().close(this.handle);
  }

  private live(): SessionHandle {
    if (this.closed) throw new Error(`session '${this.info.name}' is closed`);
    return this.handle;
  }
}

export class Consumer {
  constructor(private readonly handle: ConsumerHandle, private readonly nRings: number) {}

  /** Append the next chunk of `ring` to a stream file as a CTF packet (see NativeAddon). */
  writePacket(ring: number, allowPartial: boolean, known: Uint8Array, seq: number, extraDiscarded: number,
    prevEnd: bigint, dropUnknown: boolean, fd: number): NativePacket | { unknownId: number } | null {
    return loadNative().consumerWritePacket(this.handle, ring, allowPartial, known, seq, extraDiscarded,
      prevEnd, dropUnknown, fd);
  }

  blocked(ring: number): { subOffset: number; committed: number } | null {
    return loadNative().consumerBlocked(this.handle, ring);
  }

  /** See NativeAddon.consumerSalvage: completes (or abandons) what dead writers hold; waits for live ones. */
  salvage(ring: number, ending = false): NativeSalvage | null {
    return loadNative().consumerSalvage(this.handle, ring, ending);
  }

  /**
   * Release everything available now without decoding it (benchmarks);
   * returns the bytes and the records (counted from their headers).
   */
  discard(flush: boolean): { bytes: number; records: number } {
    const native = loadNative();
    let bytes = 0;
    let n = 0;
    for (let ring = 0; ring < this.nRings; ring++) {
      for (;;) {
        const chunk = native.consumerNext(this.handle, ring, flush);
        if (!chunk) break;
        bytes += chunk.data.length;
        n += countRecords(chunk.data, chunk.begin, `ring ${ring}, sub-buffer at ${chunk.subOffset}`);
        if (!chunk.complete) break;
      }
    }
    return { bytes, records: n };
  }

  /**
   * Everything available now: complete sub-buffers, and with `flush` also the
   * committed prefix of the sub-buffers being filled.
   */
  *drain(flush: boolean): Generator<ConsumedRecord> {
    const native = loadNative();
    for (let ring = 0; ring < this.nRings; ring++) {
      for (;;) {
        const chunk = native.consumerNext(this.handle, ring, flush);
        if (!chunk) break;
        const where = `ring ${ring}, sub-buffer at ${chunk.subOffset}`;
        for (const r of records(chunk.data, chunk.begin, where)) yield { ...r, ring };
        if (!chunk.complete) break;
      }
    }
  }
}
