// Loads the compiled addon (build/Release/ringtrace.node) and describes its
// surface. Everything here is a thin marshalling layer over native/ring.
import * as path from 'node:path';

export type SessionHandle = { readonly __brand: 'ringtrace.session' };
export type ConsumerHandle = { readonly __brand: 'ringtrace.consumer' };

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
  clockRefTicks: bigint;
  clockRefRealtimeNs: bigint;
  createdRealtimeNs: bigint;
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
}

export type LockHandle = { readonly __brand: 'ringtrace.lock' };

export interface NativeRingStats {
  writeOffset: number;
  consumedOffset: number;
  lost: number;
  remoteCommits: number;
  rseqAborts: number;
  cpuMismatches: number;
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

export interface NativeAddon {
  create(name: string, subSize?: number, nSub?: number): SessionHandle;
  open(name: string): SessionHandle;
  close(handle: SessionHandle): void;
  unlink(name: string): void;
  info(handle: SessionHandle): NativeSessionInfo;
  setRseq(handle: SessionHandle, enabled: boolean): boolean;
  emit(handle: SessionHandle, id: number, payload: Uint8Array): number;
  ringStats(handle: SessionHandle, ring: number): NativeRingStats;
  ringWritten(handle: SessionHandle, ring: number): boolean;
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
  consumerLock(name: string): { handle: LockHandle } | { holder: number };
  consumerUnlock(handle: LockHandle): void;
  /** Pid of the consumer holding the session (-1 if unknown), 0 if none. */
  consumerLockHolder(name: string): number;
  addProcess(handle: SessionHandle, name: string): void;
  procsPath(handle: SessionHandle): string | null;
  /** Find or add an event class in the session's registry; returns its id. */
  registerClass(handle: SessionHandle, description: string): number;
  registryPath(handle: SessionHandle): string | null;
  registryUnlink(handle: SessionHandle): void;
  /** This thread now emits into `handle` from `staging` (context written at its start). */
  attachThread(handle: SessionHandle, staging: ArrayBuffer): void;
  detachThread(): void;
  /** Record the event staged by this thread (layout: native/addon/producer_binding.c). */
  emitStaged(): void;
  firstClassId: number;
  eventHeaderSize: number;
  packetHeaderSize: number;
}

// RINGTRACE_ADDON overrides the addon's path (tests use it to prove that an app
// whose addon cannot load keeps running, with one warning).
const addonPath = process.env['RINGTRACE_ADDON'] ??
  path.join(__dirname, '..', '..', 'build', 'Release', 'ringtrace.node');
let cached: NativeAddon | undefined;

/** The addon, or a clear error saying how to build it. */
export function loadNative(): NativeAddon {
  if (cached) return cached;
  try {
    cached = require(addonPath) as NativeAddon;
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0]; // not the require stack
    throw new Error(`ringtrace: cannot load the native addon ${addonPath} (${why}); ` +
      'run `npm install` (or `npx node-gyp rebuild`) in the ringtrace package');
  }
  return cached;
}
