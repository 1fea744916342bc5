// A stream cursor: walks one stream file's records in order without
// allocating per record, so readers (view, stats, export) keep up with
// millions of events per second. Timestamps are clock ticks (u64); per event
// they are handled as Numbers relative to a base, which is exact while a
// trace spans less than 2^53 ticks (about a month at 3 GHz); beyond that the
// cursor throws rather than round.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ticksToEpochNs } from '../ctf/metadata';
import { decodeValues, fieldsObject, type FieldValue } from '../decode';
import type { ClassDescription } from '../schema';
import { u32, viewOf } from './le';
import { type ByteRange, isoNs, packets, recordedStream, TraceError, TruncatedStream, type PacketInfo,
  type Trace } from './reader';
import { TimeBase } from './timebase';
import { SIDECAR } from './writer';
import { TWO32 } from '../int64';
import { EVENT_HEADER, PACKET_HEADER } from '../layout';

// Records are read as native-endian words; traces are little-endian, as are the machines ringtrace runs on.
if (os.endianness() !== 'LE') throw new Error('ringtrace reads traces on little-endian machines only');

const NS = 1_000_000_000;
/** Class ids below this are looked up by array index (they are registry line numbers: small and dense). */
export const DENSE_IDS = 1 << 16;

// What index() found wrong with a record.
const FINE = 0;
const SHORT_HEADER = 1;
const BAD_SIZE = 2;
const UNKNOWN_CLASS = 3;
const FAR_TIMESTAMP = 4;
const BACKWARDS = 5;
const NO_CONTEXT = 6;

function damageText(why: number, size: number, id: number, hi: number, lo: number): string {
  switch (why) {
    case SHORT_HEADER: return 'truncated event header';
    case BAD_SIZE: return `bad event size ${size}`;
    case UNKNOWN_CLASS: return `event class id ${id} is not described in the trace's class list`;
    case FAR_TIMESTAMP: return 'timestamp is more than 2^53 ticks from the trace start';
    case BACKWARDS: return `timestamp ${(BigInt(hi) << 32n) | BigInt(lo)} is before the previous one`;
    default: return `event of ${size} bytes has no pid/tid context`;
  }
}
const MIN_RECORD = EVENT_HEADER + 8; // header + pid/tid context: record starts are 8 apart at least

/**
 * A cursor over one stream file. Each packet is read and indexed once: every
 * record's offset, size, class id, ticks and nanoseconds go into typed arrays,
 * validated in one tight loop, so readers either step record by record
 * (next(), as view and stats do) or take runs of records by index (export:
 * mergeRuns). Damage ends the stream: the records before it are delivered,
 * then a TraceError names the file and byte, and what the damage cost when
 * the recorder's side file says what the stream held. A file cut short is
 * damage too: its last packet's whole records are delivered.
 */
export class StreamCursor {
  /** Current record: class id, class, ticks since the trace base, cpu. */
  id = 0;
  cls!: ClassDescription;
  rel = 0;
  cpu = 0;
  /** Latest packet context seen (its events_discarded is cumulative). */
  packet: PacketInfo | undefined;

  /** The current packet's bytes and its records: record k is data[at[k], at[k] + size[k]). */
  data: Buffer = Buffer.alloc(0);
  count = 0;
  /** Index of the current record (next()), or of the first record not yet taken (mergeRuns). */
  i = 0;
  at: Int32Array = new Int32Array(0);
  size: Int32Array = new Int32Array(0);
  ids: Uint32Array = new Uint32Array(0);
  rels: Float64Array = new Float64Array(0); // ticks since the trace base
  nsIn: Float64Array = new Float64Array(0); // nanoseconds since the packet's time base
  /** The packet's bytes as a DataView, for readers that copy a word at a time. */
  view: DataView = new DataView(new ArrayBuffer(0));
  readonly time: TimeBase;

  private readonly file: string;
  private readonly fileBytes: number;
  private readonly it: Generator<{ info: PacketInfo; data: Buffer }>;
  private damage: TraceError | undefined; // found while indexing; thrown once the records before it are used
  private indexed = 0; // records of this stream indexed so far: all delivered when the damage is thrown
  private readonly recorded: { events: number; bytes: number } | undefined; // from the side file
  private lastRel = -Infinity;
  private started = false; // next() has been called
  private readonly parts = new Float64Array(2);
  // Class ids are small and dense (registry line numbers): an array index
  // instead of a Map lookup per record.
  private readonly byId: (ClassDescription | undefined)[] = [];
  /** The packet's bytes as little-endian words (x86-64, arm64): records start 8-aligned. */
  words: Uint32Array = new Uint32Array(0);

  /** `range`: only that part of a file still being recorded (its side file's totals are not final: not used). */
  constructor(private readonly trace: Trace, readonly stream: string, private readonly base: { hi: number; lo: number },
    startNs: bigint, range?: ByteRange) {
    this.file = path.join(trace.dir, stream);
    this.fileBytes = range ? range.upTo : fs.statSync(this.file).size;
    this.recorded = range ? undefined : recordedStream(trace, stream);
    this.it = packets(this.file, true, range); // a packet's records are used before the next packet is read
    this.time = new TimeBase(trace.clock, startNs);
    for (const [id, cls] of trace.classes) if (id < DENSE_IDS) this.byId[id] = cls;
  }

  /** Bytes of the stream file read so far, and its size (for progress). */
  bytesRead(): number {
    return (this.packet?.offset ?? 0) + (this.i < this.count ? this.at[this.i]! : this.packet?.contentSize ?? 0);
  }

  fileSize(): number {
    return this.fileBytes;
  }

  /** The class of an id in this trace. */
  classOf(id: number): ClassDescription {
    return (id < DENSE_IDS ? this.byId[id] : this.trace.classes.get(id))!;
  }

  /** Advance to the next record; false at the end. Throws TraceError on damage. */
  next(): boolean {
    const k = this.started ? this.i + 1 : 0;
    this.started = true;
    if (k < this.count) {
      this.select(k);
      return true;
    }
    if (!this.fill()) return false;
    this.select(0);
    return true;
  }

  /** Make record k of the current packet the current record. */
  select(k: number): void {
    this.i = k;
    this.id = this.ids[k]!;
    this.cls = this.classOf(this.id);
    this.rel = this.rels[k]!;
  }

  /**
   * Read and index the next packet that has records; false at the end of the
   * file. Throws the damage found in the previous packet (or in this file's
   * packet framing) once that packet's valid records have been used.
   */
  fill(): boolean {
    for (;;) {
      if (this.damage) {
        const e = this.damage;
        this.damage = undefined;
        this.count = 0;
        throw e;
      }
      let r: IteratorResult<{ info: PacketInfo; data: Buffer }>;
      try {
        r = this.it.next();
      } catch (e) {
        throw e instanceof TraceError ? this.counted(e) : e;
      }
      if (r.done) {
        // Cut exactly between two packets: only the recorder's count of bytes shows it.
        if (this.recorded && this.recorded.bytes > this.fileBytes) {
          throw this.counted(new TruncatedStream(this.stream, this.fileBytes, this.fileBytes
            ? 'truncated: the file ends between two packets, short of what was recorded'
            : 'truncated: the file is empty, short of what was recorded'));
        }
        return false;
      }
      const { info, data } = r.value;
      this.packet = info;
      this.data = data;
      this.cpu = info.cpu;
      const firstRecord = Math.min(info.contentSize, info.bytesInFile) - PACKET_HEADER >= EVENT_HEADER;
      const baseTicks = firstRecord ? data.readBigUInt64LE(PACKET_HEADER + 8) : info.timestampBegin;
      this.time.set(baseTicks, this.base);
      this.index(info);
      this.i = 0;
      if (this.count) return true;
    }
  }

  /** Validate and index the records of the packet just read. */
  private index(info: PacketInfo): void {
    const d = this.data;
    const content = info.contentSize;
    const present = Math.min(content, info.bytesInFile); // less if the file was cut inside the records
    const most = Math.ceil((content - PACKET_HEADER) / MIN_RECORD);
    if (this.at.length < most) {
      this.at = new Int32Array(most);
      this.size = new Int32Array(most);
      this.ids = new Uint32Array(most);
      this.rels = new Float64Array(most);
      this.nsIn = new Float64Array(most);
    }
    if (this.words.buffer !== d.buffer || this.words.length < content >> 2) {
      // packets() reads into one buffer at offset 0 of its own ArrayBuffer: records (8-aligned) read as words
      this.words = new Uint32Array(d.buffer, d.byteOffset, d.length >> 2);
      this.view = viewOf(d);
    }
    const { at, size: sizes, ids, rels, nsIn, time, words, byId } = this;
    const baseHi = this.base.hi;
    const baseLo = this.base.lo;
    let lastRel = this.lastRel;
    let n = 0;
    let pos = PACKET_HEADER;
    // What is wrong, as a code and the values its message names: the message is made after the loop
    // (a template string in it was converted for every record, TurboFan computing it ahead of its branch).
    let why = FINE;
    let badSize = 0;
    let badId = 0;
    let badHi = 0;
    let badLo = 0;
    let cut = info.bytesInFile < info.packetSize;
    while (pos < content) {
      if (content - pos < EVENT_HEADER) {
        why = SHORT_HEADER;
        break;
      }
      if (present - pos < EVENT_HEADER) break; // the file ends in this record's header (cut)
      const w = pos >> 2;
      const id = words[w]!;
      const size = words[w + 1]!;
      if (size < EVENT_HEADER || pos + size > content) {
        why = BAD_SIZE;
        badSize = size;
        cut = false;
        break;
      }
      if (pos + size > present) break; // the file ends in this record (cut)
      if ((id < DENSE_IDS ? byId[id] : this.trace.classes.get(id)) === undefined) {
        why = UNKNOWN_CLASS;
        badId = id;
        break;
      }
      const lo = words[w + 2]!;
      const hi = words[w + 3]!;
      const rel = (hi - baseHi) * TWO32 + (lo - baseLo);
      if (!(rel <= Number.MAX_SAFE_INTEGER && rel >= -Number.MAX_SAFE_INTEGER)) {
        why = FAR_TIMESTAMP;
        break;
      }
      if (rel < lastRel) {
        why = BACKWARDS;
        badHi = hi;
        badLo = lo;
        break;
      }
      if (size < EVENT_HEADER + 8) {
        why = NO_CONTEXT;
        badSize = size;
        break;
      }
      lastRel = rel;
      at[n] = pos;
      sizes[n] = size;
      ids[n] = id;
      rels[n] = rel;
      nsIn[n] = time.nsAfter(rel - time.relBase);
      n++;
      pos += (size + 7) & ~7;
    }
    this.lastRel = lastRel;
    this.count = n;
    this.indexed += n;
    if (why !== FINE) {
      this.damage = this.counted(new TraceError(this.stream, info.offset + pos,
        damageText(why, badSize, badId, badHi, badLo)));
    } else if (cut) {
      this.damage = this.counted(new TruncatedStream(this.stream, this.fileBytes, `truncated: the file ends ` +
        `${info.bytesInFile} bytes into the packet at byte ${info.offset} (of ${info.packetSize} bytes)`,
      info.offset + info.packetSize));
    }
  }

  /**
   * `e` with what the damage cost this stream: the records after it were not
   * read, and for a cut file the bytes missing. Counted against the side
   * file's totals for the stream when it has them and they fit this file.
   */
  private counted(e: TraceError): TraceError {
    const rec = this.recorded;
    const fits = rec !== undefined && rec.bytes >= this.fileBytes && rec.events >= this.indexed;
    const missing = fits ? rec.events - this.indexed : undefined;
    let note = '';
    if (e instanceof TruncatedStream) {
      if (fits) {
        note = `${rec.bytes - e.fileSize} bytes and ${missing} of the ${rec.events} events recorded in this stream ` +
          `are missing (counted from ${SIDECAR})`;
      } else {
        note = (e.declaredEnd !== undefined ? `at least ${e.declaredEnd - e.fileSize} bytes are missing`
          : 'how much is missing is unknown') +
          (rec ? ` (${SIDECAR} does not match this file)` : ` (no ${SIDECAR} to count the events)`);
      }
    } else if (missing) {
      note = `${missing} of the ${rec!.events} events recorded in this stream are not read (counted from ${SIDECAR})`;
    }
    if (!note) {
      e.missingEvents = missing;
      return e;
    }
    const problem = `${e.problem}; ${note}`;
    const out = e instanceof TruncatedStream ? new TruncatedStream(e.file, e.fileSize, problem, e.declaredEnd)
      : new TraceError(e.file, e.offset, problem);
    out.missingEvents = missing;
    return out;
  }

  /** Exact nanoseconds since the epoch. */
  epochNs(): bigint {
    return this.time.epochNs + BigInt(this.nsIn[this.i]!);
  }

  /**
   * epochNs() split into whole seconds (out[0]) and nanoseconds (out[1]) for
   * printing without BigInt arithmetic; false (out untouched) before 1970.
   */
  epochParts(out: Float64Array, k = this.i): boolean {
    const t = this.time;
    if (t.beforeEpoch) return false;
    const total = t.epochFrac + this.nsIn[k]!;
    if (total < NS) { // within the packet's first second: no division (most records)
      out[0] = t.epochSec;
      out[1] = total;
      return true;
    }
    const carry = Math.floor(total / NS);
    out[0] = t.epochSec + carry;
    out[1] = total - carry * NS;
    return true;
  }

  /** isoNs(epochNs()), without BigInt arithmetic or a Date per event. */
  epochIso(): string {
    const parts = this.parts;
    if (!this.epochParts(parts)) return isoNs(this.epochNs());
    return `${this.time.isoSecondText(parts[0]!)}${String(parts[1]! + NS).slice(1)}Z`;
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
    return this.at[this.i]! + EVENT_HEADER;
  }

  payloadEnd(): number {
    return this.at[this.i]! + this.size[this.i]!;
  }

  /** Nanoseconds since the `startNs` given to the constructor (exact integer while < 2^53). */
  sinceStartNs(k = this.i): number {
    return this.time.sinceStartNs + this.nsIn[k]!;
  }

  pid(): number {
    return u32(this.data, this.at[this.i]! + EVENT_HEADER);
  }

  tid(): number {
    return u32(this.data, this.at[this.i]! + EVENT_HEADER + 4);
  }

  /** Decode the field values into `out`, in schema order (see decodeValues); a mismatch is a TraceError. */
  values(out: FieldValue[], safeNumbers = false): FieldValue[] {
    const at = this.at[this.i]!;
    try {
      decodeValues(this.cls, this.data, at + EVENT_HEADER, at + this.size[this.i]!, out, safeNumbers);
    } catch (e) {
      throw new TraceError(this.stream, this.packet!.offset + at, (e as Error).message);
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
        if (Math.min(info.contentSize, info.bytesInFile) - PACKET_HEADER < EVENT_HEADER) continue; // no record (present)
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

/** The base the cursors of a trace share (its first timestamp, as words) and its epoch time. */
export function traceStart(trace: Trace): { base: { hi: number; lo: number }; startNs: bigint } {
  const baseTicks = traceBase(trace);
  return { base: { hi: Number(baseTicks >> 32n), lo: Number(baseTicks & 0xffffffffn) },
    startNs: ticksToEpochNs(trace.clock, baseTicks) };
}

/** Cursors over every stream, sharing one base; `startNs` is the epoch time of the base. */
export function openCursors(trace: Trace): { cursors: StreamCursor[]; startNs: bigint } {
  const { base, startNs } = traceStart(trace);
  return { cursors: trace.streams.map((s) => new StreamCursor(trace, s, base, startNs)), startNs };
}
