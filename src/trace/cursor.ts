// A stream cursor: walks one stream file's records in order without
// allocating per record, so readers (view, stats, export) keep up with
// millions of events per second. Timestamps are clock ticks (u64); per event
// they are handled as Numbers relative to a base, which is exact while a
// trace spans less than 2^53 ticks (about a month at 3 GHz); beyond that the
// cursor throws rather than round.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type TraceClock, ticksToEpochNs } from '../ctf/metadata';
import { decodeValues, fieldsObject, type FieldValue } from '../decode';
import type { ClassDescription } from '../schema';
import { u32 } from './le';
import { EVENT_HEADER, PACKET_HEADER, packets, TraceError, type PacketInfo, type Trace } from './reader';

const NS = 1_000_000_000;
const TWO32 = 4294967296;

/** Ticks relative to `base`, exact as a Number, or a TraceError. */
function relTicks(hi: number, lo: number, baseHi: number, baseLo: number, file: string, at: number): number {
  const rel = (hi - baseHi) * TWO32 + (lo - baseLo);
  if (!Number.isSafeInteger(rel)) throw new TraceError(file, at, 'timestamp is more than 2^53 ticks from the trace start');
  return rel;
}

/** Exact tick -> epoch-ns conversion around one base tick value (a packet's first timestamp). */
class TimeBase {
  hi = 0;
  lo = 0;
  epochNs = 0n; // exact epoch ns of the base tick
  sinceStartNs = 0; // epochNs - trace start, as a Number
  epochSec = 0; // epochNs split for fast exact printing
  epochFrac = 0;
  beforeEpoch = false;
  private secText = ''; // String(secTextOf), cached: seconds change rarely
  private secTextOf = -1;
  private rem = 0; // (base * 1e9) mod freq
  private readonly freq: number;

  constructor(private readonly clock: TraceClock, private readonly startNs: bigint) {
    this.freq = Number(clock.freq);
  }

  set(ticks: bigint): void {
    this.hi = Number(ticks >> 32n);
    this.lo = Number(ticks & 0xffffffffn);
    const scaled = (ticks - this.clock.refTicks) * 1_000_000_000n;
    this.epochNs = this.clock.refRealtimeNs + scaled / this.clock.freq;
    this.rem = Number(scaled % this.clock.freq);
    this.sinceStartNs = Number(this.epochNs - this.startNs);
    this.epochSec = Number(this.epochNs / 1_000_000_000n);
    this.epochFrac = Number(this.epochNs % 1_000_000_000n);
    this.beforeEpoch = this.epochNs < 0n;
  }

  secondsText(sec: number): string {
    if (sec !== this.secTextOf) {
      this.secTextOf = sec;
      this.secText = String(sec);
    }
    return this.secText;
  }

  /** floor(((base + rel) - ref) * 1e9 / freq) - floor((base - ref) * 1e9 / freq), exactly. */
  nsAfter(rel: number): number {
    const x = (this.rem + rel * NS) / this.freq;
    const q = Math.floor(x);
    // A double holds x to ~1e-7 ns here; near an integer (or far out) redo it with BigInt.
    if (Math.abs(x) < 1e11 && x - q > 1e-4 && q + 1 - x > 1e-4) return q;
    // rel >= 0 (records of a packet never precede its first), so BigInt division floors.
    return Number((BigInt(this.rem) + BigInt(rel) * 1_000_000_000n) / this.clock.freq);
  }
}

export class StreamCursor {
  /** Current record: class id, class, ticks since the trace base, cpu. */
  id = 0;
  cls!: ClassDescription;
  rel = 0;
  cpu = 0;
  /** Latest packet context seen (its events_discarded is cumulative). */
  packet: PacketInfo | undefined;

  private readonly file: string;
  private readonly fileBytes: number;
  private readonly it: Generator<{ info: PacketInfo; data: Buffer }>;
  private data: Buffer = Buffer.alloc(0);
  private pos = 0; // next record's offset in data
  private at = 0; // current record's offset in data
  private size = 0;
  private content = 0;
  private lastRel = -Infinity;
  private readonly time: TimeBase;
  private nsInPacket = -1; // cached nsAfter() of the current record
  private readonly parts = new Float64Array(2);

  constructor(private readonly trace: Trace, readonly stream: string, private readonly base: { hi: number; lo: number },
    startNs: bigint) {
    this.file = path.join(trace.dir, stream);
    this.fileBytes = fs.statSync(this.file).size;
    this.it = packets(this.file);
    this.time = new TimeBase(trace.clock, startNs);
  }

  /** Bytes of the stream file read so far, and its size (for progress). */
  bytesRead(): number {
    return (this.packet?.offset ?? 0) + this.pos;
  }

  fileSize(): number {
    return this.fileBytes;
  }

  /** Advance to the next record; false at the end. Throws TraceError on damage. */
  next(): boolean {
    while (this.pos >= this.content) {
      const r = this.it.next();
      if (r.done) return false;
      const { info, data } = r.value;
      this.packet = info;
      this.data = data;
      this.pos = PACKET_HEADER;
      this.content = info.contentSize;
      this.cpu = info.cpu;
      this.time.set(info.contentSize > PACKET_HEADER && info.contentSize - PACKET_HEADER >= EVENT_HEADER
        ? data.readBigUInt64LE(PACKET_HEADER + 8) : info.timestampBegin);
    }
    const d = this.data;
    const pos = this.pos;
    const at = this.packet!.offset + pos;
    if (this.content - pos < EVENT_HEADER) throw new TraceError(this.stream, at, 'truncated event header');
    const id = u32(d, pos);
    const size = u32(d, pos + 4);
    if (size < EVENT_HEADER || pos + size > this.content) throw new TraceError(this.stream, at, `bad event size ${size}`);
    const cls = this.trace.classes.get(id);
    if (!cls) throw new TraceError(this.stream, at, `event class id ${id} is not described in the trace's class list`);
    const lo = u32(d, pos + 8);
    const hi = u32(d, pos + 12);
    const rel = relTicks(hi, lo, this.base.hi, this.base.lo, this.stream, at);
    if (rel < this.lastRel) throw new TraceError(this.stream, at, `timestamp ${(BigInt(hi) << 32n) | BigInt(lo)} is before the previous one`);
    if (size < EVENT_HEADER + 8) throw new TraceError(this.stream, at, `event of ${size} bytes has no pid/tid context`);
    this.lastRel = rel;
    this.id = id;
    this.cls = cls;
    this.rel = rel;
    this.at = pos;
    this.size = size;
    this.nsInPacket = -1;
    this.pos = pos + ((size + 7) & ~7);
    return true;
  }

  private inPacketNs(): number {
    if (this.nsInPacket < 0) {
      const d = this.data;
      const rel = (u32(d, this.at + 12) - this.time.hi) * TWO32 + (u32(d, this.at + 8) - this.time.lo);
      this.nsInPacket = this.time.nsAfter(rel);
    }
    return this.nsInPacket;
  }

  /** Exact nanoseconds since the epoch. */
  epochNs(): bigint {
    return this.time.epochNs + BigInt(this.inPacketNs());
  }

  /**
   * epochNs() split into whole seconds (out[0]) and nanoseconds (out[1]) for
   * printing without BigInt arithmetic; false (out untouched) before 1970.
   */
  epochParts(out: Float64Array): boolean {
    const t = this.time;
    if (t.beforeEpoch) return false;
    const total = t.epochFrac + this.inPacketNs();
    const carry = Math.floor(total / NS);
    out[0] = t.epochSec + carry;
    out[1] = total - carry * NS;
    return true;
  }

  /** epochNs() as a decimal string, without BigInt arithmetic per event. */
  epochNsString(): string {
    const parts = this.parts;
    if (!this.epochParts(parts)) return this.epochNs().toString();
    const sec = parts[0]!;
    if (sec === 0) return String(parts[1]);
    // frac + 1e9 has exactly ten digits: drop the leading 1 instead of padding
    return this.time.secondsText(sec) + String(parts[1]! + NS).slice(1);
  }

  /** The current record's bytes: its payload (pid, tid, fields) is recordData()[payloadStart(), payloadEnd()). */
  recordData(): Buffer {
    return this.data;
  }

  payloadStart(): number {
    return this.at + EVENT_HEADER;
  }

  payloadEnd(): number {
    return this.at + this.size;
  }

  /** Nanoseconds since the `startNs` given to the constructor (exact integer while < 2^53). */
  sinceStartNs(): number {
    return this.time.sinceStartNs + this.inPacketNs();
  }

  pid(): number {
    return u32(this.data, this.at + EVENT_HEADER);
  }

  tid(): number {
    return u32(this.data, this.at + EVENT_HEADER + 4);
  }

  /** Decode the field values into `out`, in schema order (see decodeValues); a mismatch is a TraceError. */
  values(out: FieldValue[], safeNumbers = false): FieldValue[] {
    try {
      decodeValues(this.cls, this.data, this.at + EVENT_HEADER, this.at + this.size, out, safeNumbers);
    } catch (e) {
      throw new TraceError(this.stream, this.packet!.offset + this.at, (e as Error).message);
    }
    return out;
  }

  /** The fields as an object (64-bit integers as bigints). */
  fields(): Record<string, FieldValue> {
    return fieldsObject(this.cls, this.values([]));
  }
}

/** The trace's first timestamp over all streams (from each stream's first non-empty packet). */
export function traceBase(trace: Trace): bigint {
  let min: bigint | undefined;
  for (const s of trace.streams) {
    try {
      for (const { info, data } of packets(path.join(trace.dir, s))) {
        if (info.contentSize - PACKET_HEADER < EVENT_HEADER) continue;
        const ts = data.readBigUInt64LE(PACKET_HEADER + 8);
        if (min === undefined || ts < min) min = ts;
        break;
      }
    } catch {
      // a damaged stream reports its error when it is read
    }
  }
  return min ?? 0n;
}

/** Cursors over every stream, sharing one base; `startNs` is the epoch time of the base. */
export function openCursors(trace: Trace): { cursors: StreamCursor[]; startNs: bigint } {
  const baseTicks = traceBase(trace);
  const base = { hi: Number(baseTicks >> 32n), lo: Number(baseTicks & 0xffffffffn) };
  const startNs = ticksToEpochNs(trace.clock, baseTicks);
  return { cursors: trace.streams.map((s) => new StreamCursor(trace, s, base, startNs)), startNs };
}

/**
 * Visit every record of the trace in timestamp order (k-way merge of the
 * streams). A damaged stream stops at its damage: the error goes to onError
 * and the other streams continue. `visit` reads the cursor; it must not keep
 * it, and returns false to stop. `tick` (optional) runs every 65 536 records,
 * for progress reports. Returns the number of records visited.
 */
export function mergeCursors(cursors: StreamCursor[], onError: (e: Error) => void,
  visit: (c: StreamCursor) => boolean | void, tick?: (visited: number) => void): number {
  const live: StreamCursor[] = [];
  const advance = (c: StreamCursor): boolean => {
    try {
      return c.next();
    } catch (e) {
      onError(e as Error);
      return false;
    }
  };
  for (const c of cursors) if (advance(c)) live.push(c);
  let visited = 0;
  while (live.length) {
    let min = 0;
    for (let i = 1; i < live.length; i++) if (live[i]!.rel < live[min]!.rel) min = i;
    const c = live[min]!;
    if (visit(c) === false) break;
    if ((++visited & 0xffff) === 0 && tick) tick(visited);
    if (!advance(c)) live.splice(min, 1);
  }
  return visited;
}
