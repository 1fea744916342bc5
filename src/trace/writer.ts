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
import type { Consumer, Session } from '../session';

export const SIDECAR = '.ringtrace.json';
export const CLASSES_FILE = '.classes';
export const PROCESSES_FILE = '.processes';

interface Stream {
  ring: number;
  file: string;
  fd: number | undefined;
  seq: number;
  prevEnd: bigint;
  droppedUnknown: number;
  events: number;
  bytes: number;
}

export interface WriterTotals {
  events: number;
  bytes: number;
  lost: number;
  droppedUnknown: number;
  remoteCommits: number;
}

/** Create DIR (0700) or accept an empty existing one; refuse anything else. */
export function prepareOutputDir(dir: string): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (!st) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    return;
  }
  if (st.isSymbolicLink()) throw new Error(`output ${dir} is a symbolic link; refusing to follow it`);
  if (!st.isDirectory()) throw new Error(`output ${dir} exists and is not a directory`);
  if (fs.readdirSync(dir).length > 0) throw new Error(`output directory ${dir} is not empty`);
}

const O_CREATE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL |
  fs.constants.O_NOFOLLOW;

export class TraceWriter {
  private readonly streams: Stream[];
  private readonly consumer: Consumer;
  private classes = new Map<number, ClassDescription>();
  private known = new Uint8Array(0);
  private metadataClasses = -1;

  constructor(private readonly dir: string, private readonly session: Session) {
    this.consumer = session.consumer();

    const n = session.info.nCpus;
    this.streams = Array.from({ length: session.info.nRings }, (_, ring) => ({
      ring, file: ring < n ? `stream_cpu${ring}` : `stream_cpu${ring - n}_atomic`, fd: undefined,
      seq: 0, prevEnd: 0n, droppedUnknown: 0, events: 0, bytes: 0,
    }));
    this.refreshClasses();
    this.writeMetadata();
  }

  /** Write every packet available now; with `flush`, also the rings' committed prefixes. */
  drain(flush: boolean): number {
    let written = 0;
    for (const st of this.streams) {
      for (;;) {
        if (st.fd === undefined) {
          if (!this.session.ringWritten(st.ring)) break; // never written: no file
          st.fd = fs.openSync(path.join(this.dir, st.file), O_CREATE, 0o600);
        }
        let p = this.consumer.writePacket(st.ring, flush, this.known, st.seq, st.droppedUnknown, st.prevEnd,
          false, st.fd);
        if (p && 'unknownId' in p) {
          this.refreshClasses(); // a class registered since we last looked?
          p = this.consumer.writePacket(st.ring, flush, this.known, st.seq, st.droppedUnknown, st.prevEnd,
            true, st.fd);
        }
        if (!p || 'unknownId' in p) break;
        st.droppedUnknown += p.dropped;
        st.seq++;
        st.bytes += p.size;
        st.events += p.records;
        if (p.records) st.prevEnd = p.lastTs;
        written += p.records;
        if (!p.complete) break; // a prefix: the rest is not committed yet
      }
    }
    if (this.classes.size !== this.metadataClasses) this.writeMetadata();
    return written;
  }

  totals(): WriterTotals {
    let lost = 0;
    let remote = 0;
    for (const st of this.streams) {
      const rs = this.session.ringStats(st.ring);
      lost += rs.lost;
      remote += rs.remoteCommits;
    }
    const sum = (f: (s: Stream) => number) => this.streams.reduce((n, s) => n + f(s), 0);
    return { events: sum((s) => s.events), bytes: sum((s) => s.bytes), lost,
      droppedUnknown: sum((s) => s.droppedUnknown), remoteCommits: remote };
  }

  /** Final flush, metadata and side files; closes the stream files. */
  finish(extra: Record<string, unknown> = {}): WriterTotals {
    this.drain(true);
    this.writeMetadata(); // also copies the final process log
    const t = this.totals();
    const rings = this.streams.map((s) => ({ ring: s.ring, file: s.bytes ? s.file : null,
      events: s.events, bytes: s.bytes, ...this.session.ringStats(s.ring), droppedUnknown: s.droppedUnknown }));
    const info = this.session.info;
    const sidecar = {
      tool: 'ringtrace', session: info.name, uuid: info.uuid, nCpus: info.nCpus, clock: info.clock,
      clockFreqHz: info.clockFreqHz, subBufferSize: info.subSize, subBuffers: info.nSub,
      createdRealtimeNs: info.createdRealtimeNs.toString(), totals: t, rings, ...extra,
    };
    this.writeAtomically(SIDECAR, JSON.stringify(sidecar, null, 2) + '\n');
    for (const s of this.streams) {
      if (s.fd === undefined) continue;
      fs.closeSync(s.fd);
      if (!s.bytes) fs.rmSync(path.join(this.dir, s.file)); // opened, never written
    }
    return t;
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
      clock: { freq: BigInt(info.clockFreqHz), refTicks: info.clockRefTicks,
        refRealtimeNs: info.clockRefRealtimeNs },
      classes: this.classes,
      env: { tracer_name: 'ringtrace', hostname: os.hostname(), session: info.name, clock_source: info.clock },
    });
    this.writeAtomically('metadata', text);
    const lines = [...this.classes].map(([id, c]) => `${id} ${JSON.stringify(c)}`).join('\n');
    this.writeAtomically(CLASSES_FILE, lines ? lines + '\n' : '');
    this.metadataClasses = this.classes.size;
    this.copyProcesses();
  }

  /** The session's process log (pid, tid, label per attached thread), for exports' track names. */
  private copyProcesses(): void {
    const from = this.session.procsPath();
    let text: string;
    try {
      if (!from) return;
      text = fs.readFileSync(from, 'utf8');
    } catch {
      return; // no process attached yet
    }
    this.writeAtomically(PROCESSES_FILE, text);
  }

  /** Write to a hidden temporary file, then rename: readers never see half a file. */
  private writeAtomically(name: string, text: string): void {
    const tmp = path.join(this.dir, `.${name.replace(/^\./, '')}.tmp`);
    fs.rmSync(tmp, { force: true });
    const fd = fs.openSync(tmp, O_CREATE, 0o600);
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path.join(this.dir, name));
  }
}
