// Writes a session into a CTF 1.8 trace directory: one stream file per ring
// that carried data (`stream_cpu<N>`, and `stream_cpu<N>_atomic` for the
// fallback rings), the `metadata` file (rewritten atomically when new classes
// appear), and hidden side files readers of ringtrace use (`.classes`: the
// registry, `.processes`: the process log, `.ringtrace.json`: session facts
// and final counters). Packets are
// built natively from ring chunks (native/ring/packet.c); nothing is written
// half: a packet is one write, the metadata a rename.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildMetadata } from '../ctf/metadata';
import type { ClassDescription } from '../schema';
import type { NativeRingStats } from '../native';
import type { Consumer, Session } from '../session';
import { DeadWriterWatch } from './dead-writers';

export const SIDECAR = '.ringtrace.json';
export const CLASSES_FILE = '.classes';
export const PROCESSES_FILE = '.processes';
/** Registry reads in a row for one packet before undescribed records are left out (each needs a class registered anew). */
const MAX_REGISTRY_RETRIES = 16;

interface Stream {
  ring: number;
  file: string;
  fd: number | undefined;
  seq: number;
  prevEnd: bigint;
  droppedUnknown: number;
  events: number;
  bytes: number;
  /** Cycle sessions: packets with a clock anomaly, records held within bounds (native/ring/clock_map.h). */
  clockAnomalies: number;
  clockHeld: number;
}

/** Writing the trace failed (disk full, I/O error): what is written stays readable. */
export class OutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputError';
  }
}

export interface WriterTotals {
  events: number;
  bytes: number;
  lost: number;
  droppedUnknown: number;
  remoteCommits: number;
  /** Records of writers that died between reserve and commit (included in lost). */
  deadWriterRecords: number;
  /** Records of sub-buffers abandoned because dead writers left them unrepairable (included in lost). */
  abandonedRecords: number;
  /** Cycle sessions: packets whose cycle counter jumped or stalled (their times held within their bounds). */
  clockAnomalies: number;
  /** ... and records moved to stay within those bounds. */
  clockHeldRecords: number;
}

/** Create DIR (0700) or accept an empty existing one; refuse anything else. True if it created DIR. */
export function prepareOutputDir(dir: string): boolean {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (!st) {
    try {
      // parents first, then DIR itself: a recursive mkdir reports some errors (EROFS) as ENOENT
      fs.mkdirSync(path.dirname(path.resolve(dir)), { recursive: true, mode: 0o700 });
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = { EROFS: 'read-only file system', EACCES: 'permission denied', ENOSPC: 'no space left on device',
        ENOTDIR: 'a parent is not a directory' }[err.code ?? ''] ?? err.message;
      throw new Error(`cannot create output directory ${dir}: ${why}`);
    }
    return true;
  }
  if (st.isSymbolicLink()) throw new Error(`output ${dir} is a symbolic link; refusing to follow it`);
  if (!st.isDirectory()) throw new Error(`output ${dir} exists and is not a directory`);
  if (fs.readdirSync(dir).length > 0) throw new Error(`output directory ${dir} is not empty`);
  return false;
}

/** "ENOSPC: no space left on device, write" -> "No space left on device", as the native writer says it. */
function systemMessage(e: Error): string {
  const m = /^E[A-Z]+: ([^,]+)/.exec(e.message);
  return m ? m[1]!.charAt(0).toUpperCase() + m[1]!.slice(1) : e.message;
}

const O_CREATE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL |
  fs.constants.O_NOFOLLOW;

/**
 * Where packets come from: the session's consumer (record), or a snapshot's
 * copies of an overwrite-mode session (flight recorder). writePacket has
 * Consumer.writePacket's contract; ringStats gives the ring counters the
 * packets were read with.
 */
export interface WriterSource {
  writePacket: Consumer['writePacket'];
  ringStats(ring: number): NativeRingStats;
}

export class TraceWriter {
  private readonly streams: Stream[];
  private readonly consumer: Consumer;
  private readonly source: WriterSource;
  private classes = new Map<number, ClassDescription>();
  private known = new Uint8Array(0);
  private metadataClasses = -1;

  private readonly deadWriters: DeadWriterWatch;
  /** Watch for dead writers (a consumer's job; a snapshot only reads). */
  private readonly watchWriters: boolean;
  private lastWatch = 0;
  private unwritten = 0;
  private processesCopied = -1;

  /** `notice`: messages for the user (dead writers salvaged); `source`: packets other than the consumer's. */
  constructor(readonly dir: string, private readonly session: Session,
    notice: (message: string) => void = () => undefined, source?: WriterSource) {
    this.consumer = session.consumer();
    this.deadWriters = new DeadWriterWatch(this.consumer, session.info.nRings, notice);
    this.watchWriters = !source;
    this.source = source ?? { writePacket: this.consumer.writePacket.bind(this.consumer),
      ringStats: (ring) => session.ringStats(ring) };

    const n = session.info.nCpus;
    this.streams = Array.from({ length: session.info.nRings }, (_, ring) => ({
      ring, file: ring < n ? `stream_cpu${ring}` : `stream_cpu${ring - n}_atomic`, fd: undefined,
      seq: 0, prevEnd: 0n, droppedUnknown: 0, events: 0, bytes: 0, clockAnomalies: 0, clockHeld: 0,
    }));
    this.refreshClasses();
    this.writeMetadata();
  }

  /**
   * Write every packet available now; with `flush`, also the rings' committed
   * prefixes (so the trace on disk is at most one flush behind). The metadata
   * describes a class before the first packet that uses it is written: a trace
   * cut short (disk full, recorder killed) stays readable. Returns how many
   * whole sub-buffers it wrote (the recorder reads again at once after such a pass).
   */
  drain(flush: boolean): number {
    let whole = 0;
    for (const st of this.streams) {
      for (;;) {
        if (st.fd === undefined) {
          if (!this.session.ringWritten(st.ring)) break; // never written: no file
          st.fd = fs.openSync(path.join(this.dir, st.file), O_CREATE, 0o600);
        }
        let p = this.writePacket(st, flush, false);
        // A class registered since we last looked? Read the registry again and retry. The retry takes
        // the ring's committed data anew, which may now hold records of classes registered after that
        // read: records are left out (counted) only for an id the registry does not describe even
        // after a fresh read, never because a class was registered a moment after it.
        for (let tries = 0; p && 'unknownId' in p; tries++) {
          this.refreshClasses();
          if (this.classes.size !== this.metadataClasses) this.writeMetadata();
          p = this.writePacket(st, flush, !this.classes.has(p.unknownId) || tries >= MAX_REGISTRY_RETRIES);
        }
        if (!p || 'unknownId' in p) break;
        st.droppedUnknown += p.dropped;
        if (p.clockAnomaly) st.clockAnomalies++;
        st.clockHeld += p.clockHeld ?? 0;
        st.seq++;
        st.bytes += p.size;
        st.events += p.records;
        if (p.records) st.prevEnd = p.lastTs;
        if (!p.complete) break; // a prefix: the rest is not committed yet
        whole++;
      }
    }
    if (flush) this.copyProcesses(); // new processes' names, as often as the data
    const now = Date.now();
    if (this.watchWriters && now - this.lastWatch >= 250) { // a blocked ring is rare: look 4 times a second
      this.lastWatch = now;
      this.deadWriters.check(now);
    }
    return whole;
  }

  /** One packet of `st`'s ring into its file; a failed write (cut back to the last whole packet) is an OutputError. */
  private writePacket(st: Stream, flush: boolean, dropUnknown: boolean): ReturnType<Consumer['writePacket']> {
    try {
      return this.source.writePacket(st.ring, flush, this.known, st.seq, st.droppedUnknown, st.prevEnd,
        dropUnknown, st.fd!);
    } catch (e) {
      const msg = (e as Error).message;
      if (!msg.startsWith('cannot write trace file: ')) throw e;
      throw new OutputError(`cannot write ${path.join(this.dir, st.file)}: ${msg.slice('cannot write trace file: '.length)}`);
    }
  }

  /**
   * After an OutputError: stop writing (stream files closed) and count, from
   * now on, what producers still put in the rings as events that could not be
   * written (sub-buffers are released, so producers go on). Call countUnwritten
   * until the producers have detached, then finishAbandoned. Never throws.
   */
  abandon(): void {
    for (const s of this.streams) {
      if (s.fd !== undefined) fs.closeSync(s.fd);
      s.fd = undefined;
    }
    this.countUnwritten();
  }

  /** Release (unread) and count everything in the rings now; returns the count so far. */
  countUnwritten(): number {
    try {
      for (const _ of this.consumer.drain(true)) this.unwritten++;
    } catch {
      // a damaged ring: the count is a lower bound
    }
    return this.unwritten;
  }

  /** The totals after abandon(); tries to leave the side file with them and the error. Never throws. */
  finishAbandoned(error: string, extra: Record<string, unknown> = {}): { totals: WriterTotals; unwritten: number;
    sidecar: boolean } {
    this.countUnwritten();
    const totals = this.totals();
    let sidecar = true;
    try {
      this.writeSidecar(totals, { ...extra, outputError: error, unwrittenEvents: this.unwritten });
    } catch {
      sidecar = false; // the disk is still full: the trace itself is readable without it
    }
    return { totals, unwritten: this.unwritten, sidecar };
  }

  totals(): WriterTotals {
    let lost = 0;
    let remote = 0;
    for (const st of this.streams) {
      const rs = this.source.ringStats(st.ring);
      lost += rs.lost;
      remote += rs.remoteCommits;
    }
    const sum = (f: (s: Stream) => number) => this.streams.reduce((n, s) => n + f(s), 0);
    return { events: sum((s) => s.events), bytes: sum((s) => s.bytes), lost,
      droppedUnknown: sum((s) => s.droppedUnknown), remoteCommits: remote, deadWriterRecords: this.deadWriters.salvaged,
      abandonedRecords: this.deadWriters.abandoned.reduce((n, a) => n + a.records, 0),
      clockAnomalies: sum((s) => s.clockAnomalies), clockHeldRecords: sum((s) => s.clockHeld) };
  }

  /** Final flush, metadata and side files; closes the stream files. */
  finish(extra: Record<string, unknown> = {}): WriterTotals {
    this.drain(true);
    if (this.watchWriters) this.deadWriters.check(Date.now(), true); // a ring blocked by a writer that died at the end
    this.drain(true);
    this.refreshClasses(); // classes registered but never used: still described
    this.writeMetadata(); // also copies the final process log
    const t = this.totals();
    this.writeSidecar(t, extra);
    for (const s of this.streams) {
      if (s.fd === undefined) continue;
      fs.closeSync(s.fd);
      if (!s.bytes) fs.rmSync(path.join(this.dir, s.file)); // opened, never written
    }
    return t;
  }

  /** Bytes written so far to each stream file that has any (whole packets, once drain has returned). */
  streamSizes(): Record<string, number> {
    const sizes: Record<string, number> = {};
    for (const s of this.streams) if (s.bytes) sizes[s.file] = s.bytes;
    return sizes;
  }

  /** Add to the side file written by finish() (what was learned after it, e.g. what a live export sent). */
  amendSidecar(more: Record<string, unknown>): void {
    this.sidecarExtra = { ...this.sidecarExtra, ...more };
    this.writeSidecar(this.totals(), this.sidecarExtra);
  }
  private sidecarExtra: Record<string, unknown> = {};

  private writeSidecar(t: WriterTotals, extra: Record<string, unknown>): void {
    this.sidecarExtra = extra;
    const rings = this.streams.map((s) => ({ ring: s.ring, file: s.bytes ? s.file : null,
      events: s.events, bytes: s.bytes, ...this.source.ringStats(s.ring), droppedUnknown: s.droppedUnknown }));
    const info = this.session.info;
    const sidecar = {
      tool: 'ringtrace', session: info.name, uuid: info.uuid, nCpus: info.nCpus, clock: info.clock,
      clockFreqHz: info.clockFreqHz, clockWhy: info.clockWhy, timestamps: 'CLOCK_MONOTONIC ns',
      subBufferSize: info.subSize, subBuffers: info.nSub,
      createdRealtimeNs: info.createdRealtimeNs.toString(), totals: t, rings,
      abandonedSubBuffers: this.deadWriters.abandoned, ...extra,
    };
    this.writeAtomically(SIDECAR, JSON.stringify(sidecar, null, 2) + '\n');
  }

  private refreshClasses(): void {
    this.classes = this.session.classes();
    const max = Math.max(0, ...this.classes.keys());
    const known = new Uint8Array((max >> 3) + 1);
    for (const id of this.classes.keys()) known[id >> 3]! |= 1 << (id & 7);
    this.known = known;
  }

  private writeMetadata(): void {
    const info = this.session.info;
    const text = buildMetadata({
      uuid: info.uuid,
      // Packets carry CLOCK_MONOTONIC ns (a cycle session's are converted per packet: native/ring/clock_map.h).
      clock: { freq: 1_000_000_000n, refTicks: info.monotonicRefNs, refRealtimeNs: info.monotonicRefRealtimeNs },
      classes: this.classes,
      env: { tracer_name: 'ringtrace', hostname: os.hostname(), session: info.name, clock_source: info.clock },
    });
    this.writeAtomically('metadata', text);
    const lines = [...this.classes].map(([id, c]) => `${id} ${JSON.stringify(c)}`).join('\n');
    this.writeAtomically(CLASSES_FILE, lines ? lines + '\n' : '');
    this.metadataClasses = this.classes.size;
    this.copyProcesses();
  }

  /** Threads that attached to the session so far (its process log's lines). */
  attachedThreads(): number {
    const text = this.readProcesses();
    return text ? text.split('\n').filter((l) => l).length : 0;
  }

  private readProcesses(): string | undefined {
    const from = this.session.procsPath();
    try {
      return from ? fs.readFileSync(from, 'utf8') : undefined;
    } catch {
      return undefined; // no process attached yet
    }
  }

  /**
   * The session's process log (pid, tid, label per attached thread), for
   * exports' track names; when it grew (it is append-only: same size, same
   * text). A stat first: this runs every flush, mostly to find nothing new.
   */
  private copyProcesses(): void {
    const from = this.session.procsPath();
    const size = from ? fs.statSync(from, { throwIfNoEntry: false })?.size : undefined;
    if (size === undefined || size === this.processesCopied) return;
    const text = this.readProcesses();
    if (text === undefined) return;
    this.writeAtomically(PROCESSES_FILE, text);
    this.processesCopied = Buffer.byteLength(text);
  }

  /** Write to a hidden temporary file, then rename: readers never see half a file. */
  private writeAtomically(name: string, text: string): void {
    const tmp = path.join(this.dir, `.${name.replace(/^\./, '')}.tmp`);
    fs.rmSync(tmp, { force: true });
    const fd = fs.openSync(tmp, O_CREATE, 0o600);
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } catch (e) {
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true }); // the previous version stays in place
      throw new OutputError(`cannot write ${path.join(this.dir, name)}: ${systemMessage(e as Error)}`);
    }
    fs.closeSync(fd);
    fs.renameSync(tmp, path.join(this.dir, name));
  }
}
