// Finds and loads the compiled addon and describes its surface. Everything
// here is a thin marshalling layer over native/ring.
import * as fs from 'node:fs';
import * as path from 'node:path';

export type SessionHandle = { readonly __brand: 'ringtrace.session' };
export type ConsumerHandle = { readonly __brand: 'ringtrace.consumer' };
export type SnapshotHandle = { readonly __brand: 'ringtrace.snapshot' };
export type PeekerHandle = { readonly __brand: 'ringtrace.peeker' };

/**
 * What a full ring does: 'discard' drops the new event (a consumer drains the rings); 'overwrite'
 * moves on into the oldest sub-buffer (a flight recorder takes snapshots). Decided at creation.
 */
export type RingMode = 'discard' | 'overwrite';

export interface NativeSessionInfo {
  name: string;
  nCpus: number;
  nRings: number;
  nSub: number;
  subSize: number;
  maxPayload: number;
  clock: 'cycles' | 'monotonic';
  clockFreqHz: number;
  uuid: string;
  rseq: boolean;
  mode: RingMode;
  clockRefTicks: bigint;
  clockRefRealtimeNs: bigint;
  createdRealtimeNs: bigint;
  /** CLOCK_MONOTONIC and CLOCK_REALTIME at creation: trace files carry CLOCK_MONOTONIC ns whatever `clock` is. */
  monotonicRefNs: bigint;
  monotonicRefRealtimeNs: bigint;
  /** Why the creator chose `clock`. */
  clockWhy: string;
}

export interface NativePacket {
  /** Bytes appended to the stream file. */
  size: number;
  /** The ring's lost-event count when the packet was built. */
  lost: number;
  records: number;
  dropped: number;
  maxUnknownId: number;
  firstTs: bigint;
  lastTs: bigint;
  complete: boolean;
  /** Cycle sessions: the packet's clock pairs disagreed with the counter (a jump or stall); its times are bounded. */
  clockAnomaly?: boolean;
  /** Cycle sessions: records whose times were held within their packet's bounds. */
  clockHeld?: number;
}

export type LockHandle = { readonly __brand: 'ringtrace.lock' };

export interface NativeRingStats {
  writeOffset: number;
  consumedOffset: number;
  lost: number;
  remoteCommits: number;
  rseqAborts: number;
  cpuMismatches: number;
  /** Overwrite mode: records writers moved on over, and their bytes (0 in discard mode). */
  overwrittenRecords: number;
  overwrittenBytes: number;
}

/** One ring of a snapshot (native/ring/snapshot.h). */
export interface NativeSnapshotRing {
  /** Sub-buffers overwritten while they were copied: left out, with everything older. */
  torn: number;
  /** Sub-buffers with a record not committed (a writer inside, alive or dead): left out, with everything older. */
  openSkipped: number;
  /** Complete sub-buffers whose packet header is not valid: left out, with everything older. */
  damaged: number;
  /** The ring's counters, read after the copy. */
  lost: number;
  overwrittenRecords: number;
  overwrittenBytes: number;
  /** Packets the snapshot holds (consecutive sub-buffers; the last may be the prefix of the one being filled). */
  packets: number;
  /** Bytes of records in them. */
  bytes: number;
}

/** What a salvage did: see native/ring/consumer.h (rt_consumer_salvage). */
export type NativeSalvage =
  /** Completed: the dead record (if unsealed) is a hole counted as one lost event. pid/tid: a dead holder. */
  | { kind: 'salvaged'; subOffset: number; holeAt: number; holeBytes: number; completed: number;
    deadWriters: number; pid: number; tid: number }
  /**
   * Could not be repaired (packet header never written, several dead records, damage), dead holders only:
   * skipped, its records counted lost (a lower bound unless `exact`); `released` false: still open, only counted.
   */
  | { kind: 'abandoned'; subOffset: number; recordsLost: number; exact: boolean; released: boolean; reason: string;
    deadWriters: number; pid: number; tid: number }
  /**
   * Not now: a live thread holds a record there (pid/tid), who does cannot be known (pid 0), or it can only
   * be abandoned and is still open. `reason` says which.
   */
  | { kind: 'wait'; subOffset: number; reason: string; deadWriters: number; pid: number; tid: number };

export interface NativeChunk {
  ring: number;
  subOffset: number;
  begin: number;
  complete: boolean;
  data: Buffer;
}

/** A writer thread whose event loop beats (native/ring/writers.h), and how long ago it last did. */
export interface NativeHeartbeat {
  pid: number;
  tid: number;
  ageMs: number;
  /** The thread is dead and never cleared its beat: it ended without exiting (withDead only). */
  dead: boolean;
}

export interface NativeAddon {
  create(name: string, subSize?: number, nSub?: number, mode?: RingMode): SessionHandle;
  open(name: string): SessionHandle;
  close(handle: SessionHandle): void;
  unlink(name: string): void;
  /** Free the blocks of bytes [offset, offset + length) of an open file, keeping its size (fallocate punch hole). */
  punchHole(fd: number, offset: number, length: number): void;
  info(handle: SessionHandle): NativeSessionInfo;
  setRseq(handle: SessionHandle, enabled: boolean): boolean;
  emit(handle: SessionHandle, id: number, payload: Uint8Array): number;
  ringStats(handle: SessionHandle, ring: number): NativeRingStats;
  ringWritten(handle: SessionHandle, ring: number): boolean;
  /** Each ring's write and consumed offsets and lost count into `out`: [w0, c0, l0, w1, c1, l1, ...]. */
  ringOffsets(handle: SessionHandle, out: Float64Array): void;
  consumerCreate(handle: SessionHandle): ConsumerHandle;
  consumerNext(consumer: ConsumerHandle, ring: number, allowPartial: boolean): NativeChunk | null;
  consumerWritePacket(consumer: ConsumerHandle, ring: number, allowPartial: boolean, known: Uint8Array,
    seq: number, extraDiscarded: number, prevEnd: bigint, dropUnknown: boolean, fd: number):
    NativePacket | { unknownId: number } | null;
  /** The sub-buffer at `ring`'s read position is missing commits (see native/ring/consumer.h). */
  consumerBlocked(consumer: ConsumerHandle, ring: number): { subOffset: number; committed: number } | null;
  /**
   * Complete that sub-buffer if every thread holding a reservation in it is dead (the core checks,
   * from the session's writer table), or abandon it if it cannot be repaired; null if not blocked (or it
   * changed meanwhile). `ending`: the consumer stops for good (an open sub-buffer is counted now). Throws
   * when unsafe.
   */
  consumerSalvage(consumer: ConsumerHandle, ring: number, ending: boolean): NativeSalvage | null;
  /** Copy every ring now, without consuming (overwrite-mode sessions; any session). */
  snapshotTake(handle: SessionHandle): SnapshotHandle;
  snapshotRing(snapshot: SnapshotHandle, ring: number): NativeSnapshotRing;
  /** Chunk `index` of `ring`'s snapshot (oldest first), or null past the last. */
  snapshotChunk(snapshot: SnapshotHandle, ring: number, index: number): NativeChunk | null;
  /** As consumerWritePacket, with the ring's snapshot as the source: its next chunk, or null when none is left. */
  snapshotWritePacket(snapshot: SnapshotHandle, ring: number, allowPartial: boolean, known: Uint8Array,
    seq: number, extraDiscarded: number, prevEnd: bigint, dropUnknown: boolean, fd: number):
    NativePacket | { unknownId: number } | null;
  snapshotClose(snapshot: SnapshotHandle): void;
  /** Follow every ring from its start as data arrives, without consuming. */
  peekerCreate(handle: SessionHandle): PeekerHandle;
  /** Records committed in `ring` since the last call, up to one sub-buffer's end; null if none. Throws on damage. */
  peekerNext(peeker: PeekerHandle, ring: number): NativeChunk | null;
  /** Bytes of `ring` overwritten before the peeker saw them. */
  peekerSkipped(peeker: PeekerHandle, ring: number): number;
  consumerLock(name: string): { handle: LockHandle } | { holder: number };
  consumerUnlock(handle: LockHandle): void;
  /** Pid of the consumer holding the session (-1 if unknown), 0 if none. */
  consumerLockHolder(name: string): number;
  addProcess(handle: SessionHandle, name: string): void;
  procsPath(handle: SessionHandle): string | null;
  /** The session's selection file (which events are recorded), or null if its path is too long. */
  selectionPath(handle: SessionHandle): string | null;
  /** How many selection files were put in place so far (a change is a new number). */
  selectionGeneration(handle: SessionHandle): number;
  /** Announce a selection file just renamed into place; returns the new number. */
  selectionBump(handle: SessionHandle): number;
  /** Find or add an event class in the session's registry; returns its id. */
  registerClass(handle: SessionHandle, description: string): number;
  registryPath(handle: SessionHandle): string | null;
  registryUnlink(handle: SessionHandle): void;
  /** This thread now emits into `handle` from `staging` (context written at its start). */
  attachThread(handle: SessionHandle, staging: ArrayBuffer): void;
  detachThread(): void;
  /** Record the event staged by this thread (layout: native/addon/producer_binding.c). */
  emitStaged(): void;
  /**
   * May this process request a snapshot now (native/ring/trigger.h)? -1: no, the call is folded into the
   * next request; else how many calls were folded since the previous request.
   */
  snapshotPermit(): number;
  /** The same, whatever the interval (a thread about to die); never -1. */
  snapshotForce(): number;
  /** Count a request in this thread's session (after its record was emitted); detached: nothing. */
  snapshotPublish(): void;
  /** This thread's event loop turned now: into its writer slot (detached, or no slot: nothing). */
  heartbeat(): void;
  /** This thread's event loop is no longer tracked (its slot's beat becomes 0). */
  heartbeatClear(): void;
  /**
   * Note this thread's GC pauses in `ring` from V8's own callbacks (layout: native/addon/gc_binding.c);
   * false when the running Node does not export them (or they are already hooked).
   */
  gcHooksStart(ring: Float64Array): boolean;
  /** No more pauses noted. */
  gcHooksStop(): void;
  /** Snapshot requests apps published in the session so far. */
  snapshotRequests(handle: SessionHandle): number;
  /** The session's beating writer threads (owned slots, not known dead, beat not in the future). */
  heartbeats(handle: SessionHandle, withDead?: boolean): NativeHeartbeat[];
  firstClassId: number;
  eventHeaderSize: number;
  packetHeaderSize: number;
}

// The package's root: dist/src/native.js sits two levels below it.
const packageRoot = path.join(__dirname, '..', '..');
const prebuildsDir = path.join(packageRoot, 'prebuilds');

/**
 * Where the addon is, in this order: `RINGTRACE_ADDON` (tests use it to load a
 * missing addon, proving that the app keeps running with one warning, or a
 * separate test build); this checkout's own build, `build/Release/ringtrace.node`
 * (a development checkout, or an install that compiled from source); else the
 * prebuild for this platform shipped in `prebuilds/<platform>-<arch>/`, chosen by
 * node-gyp-build (Node-API, C library and CPU tags). Only these: never another
 * `.node` file that happens to lie in build/.
 */
export function addonPath(): string {
  const override = process.env['RINGTRACE_ADDON'];
  if (override) return override;
  const local = path.join(packageRoot, 'build', 'Release', 'ringtrace.node');
  if (fs.existsSync(local)) return local;
  const noPrebuild = `no prebuilt addon for ${process.platform}-${process.arch} in ${prebuildsDir} ` +
    'and no build/Release/ringtrace.node';
  let found: string;
  try {
    found = (require('node-gyp-build') as { path(dir: string): string }).path(packageRoot);
  } catch {
    throw new Error(noPrebuild);
  }
  if (!found.startsWith(prebuildsDir + path.sep)) throw new Error(noPrebuild);
  return found;
}

let cached: NativeAddon | undefined;

/** The addon, or a clear error saying how to build it. */
export function loadNative(): NativeAddon {
  if (cached) return cached;
  let where = 'ringtrace.node';
  try {
    where = addonPath();
    cached = require(where) as NativeAddon;
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0]; // not the require stack
    throw new Error(`ringtrace: cannot load the native addon ${where} (${why}); ` +
      'build it from source with a C/C++ toolchain (g++, make, python3): `npm rebuild ringtrace` ' +
      'in an app, `npm install` in a ringtrace checkout');
  }
  return cached;
}
