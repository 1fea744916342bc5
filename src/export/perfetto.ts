// Perfetto export: a perfetto.protos.Trace (TracePacket after TracePacket,
// field 1) that ui.perfetto.dev and trace_processor open.
// - One track per process (ProcessDescriptor) and per thread (ThreadDescriptor),
//   async lanes and counters as child tracks of their thread.
// - One packet sequence per thread: the first packet clears the incremental
//   state; event names, categories (the provider) and annotation names are
//   interned per sequence and sent in the packet that first uses them.
// - Timestamps: nanoseconds since the epoch (trace-time in Perfetto).
// protobufjs loads proto/perfetto_trace.proto (upstream field numbers, only
// what we use) and encodes the descriptor packets. Event packets are written
// by hand (protowire.ts) with tags read from that same schema: per thread and
// class, a plan holds the constant bytes (type, interned name and category,
// annotation names) and one op per field, so an event is encoded straight
// from its record's bytes without decoding it into JS values. What a plan
// does not cover (non-object span JSON, renamed instants, damaged records)
// goes through the general path, from decoded values (record-args.ts).
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import type { FieldValue } from '../decode';
import { DENSE_IDS, type StreamCursor } from '../trace/cursor';
import { u32 } from '../trace/le';
import { EVENT_HEADER } from '../trace/reader';
import { BUFFER_SIZE, type OutputBuffers } from './background-writer';
import { FIXED_SIZE, fieldOps, OP_BOOL, OP_BYTES, OP_F32, OP_F64, OP_I16, OP_I32, OP_I64, OP_I8, OP_STRING,
  OP_U16, OP_U32, OP_U64, OP_U8 } from './field-ops';
import { FlatJson, MEMBER_DOUBLE, MEMBER_INT, MEMBER_STRING, MEMBER_TRUE } from './flat-json';
import type { EndMark, ThreadState, TimelineSink, Track } from './model';
import { ProtoWriter, putVarint, putVarint64, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './protowire';
import { type Annotations, argsFrom, hasJsonArgs, RecordArgs, spanNameAt } from './record-args';
import { copyBytes, putWords, WORD_SLACK, wordsOf } from './words';

export const PERFETTO_PROTO = path.join(__dirname, '..', '..', '..', 'proto', 'perfetto_trace.proto');

let root: protobuf.Root | undefined;
/** The shipped schema, loaded once (field names kept as in the .proto). */
export function perfettoSchema(): protobuf.Root {
  root ??= new protobuf.Root().loadSync(PERFETTO_PROTO, { keepCase: true });
  return root;
}

function fieldIds(type: string, names: string[]): Record<string, number> {
  const t = perfettoSchema().lookupType(`perfetto.protos.${type}`);
  const out: Record<string, number> = {};
  for (const n of names) {
    const f = t.fields[n];
    if (!f) throw new Error(`${PERFETTO_PROTO}: ${type} has no field ${n}`);
    out[n] = f.id;
  }
  return out;
}

/** Field tags (number << 3 | wire type) of everything the event encoder writes, from the schema. */
function tags() {
  const P = fieldIds('TracePacket', ['timestamp', 'track_event', 'trusted_packet_sequence_id', 'interned_data',
    'sequence_flags']);
  const E = fieldIds('TrackEvent', ['category_iids', 'name_iid', 'type', 'track_uuid', 'double_counter_value',
    'debug_annotations']);
  const A = fieldIds('DebugAnnotation', ['name_iid', 'bool_value', 'uint_value', 'int_value', 'double_value',
    'string_value']);
  const I = fieldIds('InternedData', ['event_categories', 'event_names', 'debug_annotation_names']);
  const t = (id: number, wire: number) => {
    // the event writer stores tags as single bytes; only double_counter_value's is written as a varint
    if (id >= 16 && id !== E['double_counter_value']) throw new Error(`${PERFETTO_PROTO}: field ${id} needs a longer tag`);
    return id * 8 + wire;
  };
  return {
    timestamp: t(P['timestamp']!, WIRE_VARINT), seq: t(P['trusted_packet_sequence_id']!, WIRE_VARINT),
    flags: t(P['sequence_flags']!, WIRE_VARINT), interned: t(P['interned_data']!, WIRE_LEN),
    trackEvent: t(P['track_event']!, WIRE_LEN),
    type: t(E['type']!, WIRE_VARINT), track: t(E['track_uuid']!, WIRE_VARINT),
    category: t(E['category_iids']!, WIRE_VARINT), name: t(E['name_iid']!, WIRE_VARINT),
    counter: t(E['double_counter_value']!, WIRE_FIXED64), annotation: t(E['debug_annotations']!, WIRE_LEN),
    aName: t(A['name_iid']!, WIRE_VARINT), aBool: t(A['bool_value']!, WIRE_VARINT),
    aUint: t(A['uint_value']!, WIRE_VARINT), aInt: t(A['int_value']!, WIRE_VARINT),
    aDouble: t(A['double_value']!, WIRE_FIXED64), aString: t(A['string_value']!, WIRE_LEN),
    categories: t(I['event_categories']!, WIRE_LEN), names: t(I['event_names']!, WIRE_LEN),
    keys: t(I['debug_annotation_names']!, WIRE_LEN),
  };
}
type Tags = ReturnType<typeof tags>;

const SEQ_INCREMENTAL_STATE_CLEARED = 1;
const SEQ_NEEDS_INCREMENTAL_STATE = 2;
const TYPE_SLICE_BEGIN = 1;
const TYPE_SLICE_END = 2;
const TYPE_INSTANT = 3;
const TYPE_COUNTER = 4;
const TWO32 = 4294967296;
const INV_TWO32 = 1 / TWO32;
const PACKET_TAG = 1 * 8 + WIRE_LEN; // Trace.packet
const PACKET_FIXED_MAX = 48; // packet tag and length, timestamp, sequence, flags, track event tag and length, track
const ANNOTATION_MAX = 24; // a non-string annotation: tag, length, name iid, value
const FLUSH_AT = BUFFER_SIZE - (64 << 10); // hand a buffer on before an event outgrows it

/** How one class's records are written on one sequence: constant bytes and one op per argument. */
interface EventPlan {
  head: Uint8Array; // TrackEvent fields after the track: type, and category and name where they belong
  headWords: Uint32Array; // the same as words (putWords)
  from: number; // index of the first argument field
  argsAt: number; // its offset in the payload (after pid, tid and the span ids: all fixed-size)
  json: boolean; // the arguments are one JSON text (span(name, fields))
  named: boolean; // a span named by its record (record-args.ts): written by the general path
  ops: Uint8Array; // typed arguments: one value op each
  keys: Uint8Array[]; // typed arguments: each annotation's name_iid field, as bytes
  keyWords: Uint32Array[]; // the same as words
  bound: number; // encoded size at most, beyond the record's own bytes
  jsonKeys: Uint8Array[]; // JSON arguments: the member names seen last at each position
  jsonKeyFields: Uint8Array[]; // and their name_iid fields
}

/** A thread's packet sequence: its interning tables and its plans. */
interface Sequence {
  id: number;
  started: boolean;
  names: Map<string, number>;
  categories: Map<string, number>;
  keys: Map<string, number>;
  plans: (EventPlan | undefined)[]; // by class id below DENSE_IDS
  bigPlans: Map<number, EventPlan>;
}

type SliceableBuffer = Buffer & { utf8Slice(start: number, end: number): string };
const HEX = Buffer.from('0123456789abcdef', 'latin1');

/** 8 bytes from src (at o) to v (at p), as two words. */
function copy8(v: DataView, p: number, src: DataView, o: number): number {
  v.setUint32(p, src.getUint32(o, true), true);
  v.setUint32(p + 4, src.getUint32(o + 4, true), true);
  return p + 8;
}

/** `tag` then v (an integer, |v| < 2^53) as int64. */
function putInt(b: Uint8Array, p: number, tag: number, v: number): number {
  b[p++] = tag;
  if (v >= 0) return putVarint(b, p, v);
  // negative int64: ten bytes, two's complement
  const hi = Math.floor(v / TWO32);
  return putVarint64(b, p, hi >>> 0, (v - hi * TWO32) >>> 0);
}

function varintBytes(v: number): number[] {
  const out: number[] = [];
  while (v >= 128) {
    out.push((v % 128) | 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

export class PerfettoSink implements TimelineSink {
  private readonly w: ProtoWriter;
  private readonly T: Tags = tags();
  private readonly packetType = perfettoSchema().lookupType('perfetto.protos.TracePacket');
  private readonly startHi: number;
  private readonly startLo: number;
  // New interned entries of the packet being written.
  private newNames: [number, string][] = [];
  private newCategories: [number, string][] = [];
  private newKeys: [number, string][] = [];
  private readonly keyIids: number[] = []; // the general path's annotation name iids
  private readonly args = new RecordArgs();
  private readonly json = new FlatJson();
  private readonly f64 = new Float64Array(1);
  private readonly f64Bytes = new Uint8Array(this.f64.buffer);

  constructor(startNs: bigint, private readonly out: OutputBuffers) {
    this.w = new ProtoWriter(out.buffer());
    this.startHi = Number(startNs >> 32n);
    this.startLo = Number(startNs & 0xffffffffn);
    if (fieldIds('Trace', ['packet'])['packet'] !== 1) throw new Error('Trace.packet must be field 1');
  }

  track(t: Track): void {
    const d: Record<string, unknown> = { uuid: t.id };
    if (t.parent) d['parent_uuid'] = t.parent.id;
    if (t.kind === 'process') d['process'] = { pid: t.pid, process_name: t.name };
    else if (t.kind === 'thread') d['thread'] = { pid: t.pid, tid: t.tid, thread_name: t.name };
    else d['name'] = t.name;
    if (t.kind === 'counter') d['counter'] = {};
    const packet: Record<string, unknown> = { track_descriptor: d };
    if (t.thread) packet['trusted_packet_sequence_id'] = t.thread.seq;
    const bytes = this.packetType.encode(this.packetType.fromObject(packet)).finish();
    this.w.tag(1, WIRE_LEN);
    this.w.bytes(bytes);
    this.maybeFlush();
  }

  begin(t: Track, ns: number, c: StreamCursor, k: number): void {
    this.record(t, ns, c, k, TYPE_SLICE_BEGIN);
  }

  end(t: Track, ns: number, c: StreamCursor, k: number): void {
    this.record(t, ns, c, k, TYPE_SLICE_END);
  }

  instant(t: Track, ns: number, c: StreamCursor, k: number, suffix: string): void {
    if (suffix) {
      c.select(k);
      this.general(t, ns, TYPE_INSTANT, c.cls.provider, c.cls.name + suffix, this.args.of(c, k), 0);
    } else {
      this.record(t, ns, c, k, TYPE_INSTANT);
    }
  }

  endWithout(t: Track, ns: number, why: EndMark): void {
    this.general(t, ns, TYPE_SLICE_END, undefined, undefined, this.args.mark(why), 0);
  }

  counter(t: Track, ns: number, c: StreamCursor, k: number): void {
    const seq = this.sequence(t.thread!);
    const o = c.at[k]! + EVENT_HEADER + 8; // the value: the first field, f64
    if (o + 8 > c.at[k]! + c.size[k]!) return this.damaged(c, k);
    const w = this.w;
    w.reserve(PACKET_FIXED_MAX + 16);
    let p = this.packetStart(seq, ns);
    const b = w.buf;
    const T = this.T;
    b[p++] = T.type;
    b[p++] = TYPE_COUNTER;
    b[p++] = T.track;
    p = putVarint(b, p, t.id);
    p = putVarint(b, p, T.counter);
    p = copy8(w.view, p, c.view, o); // IEEE 754 little-endian, as protobuf's fixed64
    this.packetEnd(p);
  }

  finish(): void {
    this.flush();
  }

  private flush(): void {
    const w = this.w;
    const full = w.buf;
    const n = w.pos;
    w.reset(this.out.buffer()); // before submit: a buffer moved to the writer is gone from here
    this.out.submit(full, n);
  }

  private maybeFlush(): void {
    if (this.w.pos >= FLUSH_AT) this.flush();
  }

  private sequence(th: ThreadState): Sequence {
    let seq = th.sinkState as Sequence | undefined;
    if (!seq) {
      seq = { id: th.seq, started: false, names: new Map(), categories: new Map(), keys: new Map(), plans: [],
        bigPlans: new Map() };
      th.sinkState = seq;
    }
    return seq;
  }

  private iid(map: Map<string, number>, s: string, fresh: [number, string][]): number {
    let id = map.get(s);
    if (id === undefined) {
      id = map.size + 1;
      map.set(s, id);
      fresh.push([id, s]);
    }
    return id;
  }

  // ---- the planned path: straight from the record's bytes ----

  private plan(seq: Sequence, c: StreamCursor, id: number, type: number): EventPlan {
    const cls = c.classOf(id);
    const T = this.T;
    const head = [T.type, type];
    if (type !== TYPE_SLICE_END) {
      head.push(T.category, ...varintBytes(this.iid(seq.categories, cls.provider, this.newCategories)));
      head.push(T.name, ...varintBytes(this.iid(seq.names, cls.name, this.newNames)));
    }
    const from = argsFrom(cls);
    const json = hasJsonArgs(cls);
    const fields = json ? [] : cls.fields.slice(from);
    const keys = fields.map((f) => Uint8Array.from([T.aName, ...varintBytes(this.iid(seq.keys, f.name, this.newKeys))]));
    const headBytes = Uint8Array.from(head);
    const plan: EventPlan = {
      head: headBytes, headWords: wordsOf(headBytes), from, argsAt: 8 + 8 * from, json, named: spanNameAt(cls) >= 0, ops: fieldOps(fields), keys,
      keyWords: keys.map(wordsOf),
      bound: PACKET_FIXED_MAX + head.length + fields.length * ANNOTATION_MAX, jsonKeys: [], jsonKeyFields: [],
    };
    if (id < DENSE_IDS) seq.plans[id] = plan;
    else seq.bigPlans.set(id, plan);
    return plan;
  }

  /** An instant, slice begin or slice end from record k of c. */
  private record(t: Track, ns: number, c: StreamCursor, k: number, type: number): void {
    const seq = this.sequence(t.thread!);
    const id = c.ids[k]!;
    const plan = (id < DENSE_IDS ? seq.plans[id] : seq.bigPlans.get(id)) ?? this.plan(seq, c, id, type);
    if (plan.named) {
      const args = this.args.of(c, k);
      return this.general(t, ns, type, type === TYPE_SLICE_END ? undefined : c.cls.provider,
        type === TYPE_SLICE_END ? undefined : this.args.spanName, args, 0);
    }
    const d = c.data;
    const end = c.at[k]! + c.size[k]!;
    const args = c.at[k]! + EVENT_HEADER + plan.argsAt;
    let members = 0;
    if (plan.json) {
      members = this.jsonMembers(seq, plan, d, args, end);
      if (members < 0) { // not a flat object: the general path parses it
        c.select(k);
        return this.general(t, ns, type, type === TYPE_SLICE_END ? undefined : c.cls.provider,
          type === TYPE_SLICE_END ? undefined : c.cls.name, this.args.of(c, k), 0);
      }
    }
    const w = this.w;
    // Room for all but interned data (written with checks): the rest writes without them.
    const room = plan.bound + members * ANNOTATION_MAX + 3 * (end - args) + WORD_SLACK;
    w.reserve(room);
    const packetAt = w.pos;
    let p = this.packetStart(seq, ns);
    if (p - packetAt > PACKET_FIXED_MAX) { // interned data came first
      w.pos = p;
      w.reserve(room);
    }
    const b = w.buf;
    b[p++] = this.T.track;
    p = putVarint(b, p, t.id);
    p = putWords(w.view, p, plan.headWords, plan.head.length);
    if (plan.json) {
      p = this.members(b, p, plan, d, c.view, members);
    } else {
      p = this.fields(b, p, plan, d, c.view, args, end);
      if (p < 0) {
        w.pos = packetAt;
        return this.damaged(c, k);
      }
    }
    this.packetEnd(p);
  }

  /**
   * TracePacket up to its track_event's first field: timestamp, sequence,
   * flags, interned data if there is any new, then the track_event tag.
   * Returns the offset to go on at; packetEnd(offset) closes both messages.
   */
  private packetStart(seq: Sequence, ns: number): number {
    const w = this.w;
    const T = this.T;
    let b = w.buf;
    let p = w.pos;
    b[p++] = PACKET_TAG;
    this.packetMark = p++; // one-byte length, widened at the end if need be (endShort)
    // timestamp = start + ns, as two 32-bit halves (epoch ns exceed 2^53)
    const addHi = Math.floor(ns * INV_TWO32); // exact: a power of two
    let lo = this.startLo + (ns - addHi * TWO32);
    let hi = this.startHi + addHi;
    if (lo >= TWO32) {
      lo -= TWO32;
      hi += 1;
    }
    b[p++] = T.timestamp;
    p = this.putTimestamp(b, p, hi >>> 0, lo >>> 0);
    b[p++] = T.seq;
    p = putVarint(b, p, seq.id);
    b[p++] = T.flags;
    b[p++] = seq.started ? SEQ_NEEDS_INCREMENTAL_STATE : SEQ_INCREMENTAL_STATE_CLEARED | SEQ_NEEDS_INCREMENTAL_STATE;
    seq.started = true;
    if (this.newNames.length || this.newCategories.length || this.newKeys.length) {
      w.pos = p;
      this.writeInterned();
      w.reserve(PACKET_FIXED_MAX);
      b = w.buf;
      p = w.pos;
    }
    b[p++] = T.trackEvent;
    this.eventMark = p++;
    return p;
  }

  private packetMark = 0;
  private eventMark = 0;
  // The varint bytes of a timestamp's bits 28 and up: they change every 2^28 ns (0.27 s).
  private upperOf = -1;
  private readonly upperBytes = new Uint8Array(12);
  private readonly upperWords = new Uint32Array(this.upperBytes.buffer);
  private upperLength = 0;

  /** A timestamp (hi:lo) as a varint: four bytes of its low 28 bits, then the cached rest. */
  private putTimestamp(b: Uint8Array, p: number, hi: number, lo: number): number {
    const upper = hi * 16 + (lo >>> 28);
    if (upper === 0) return putVarint64(b, p, hi, lo);
    if (upper !== this.upperOf) {
      this.upperOf = upper;
      this.upperLength = putVarint(this.upperBytes, 0, upper);
    }
    const v = this.w.view;
    v.setUint32(p, (lo & 127) | ((lo << 1) & 0x7f00) | ((lo << 2) & 0x7f0000) | ((lo << 3) & 0x7f000000) | 0x80808080,
      true);
    v.setUint32(p + 4, this.upperWords[0]!, true); // bits 28-63: at most 5 bytes (5 for epoch times)
    if (this.upperLength > 4) v.setUint32(p + 8, this.upperWords[1]!, true);
    return p + 4 + this.upperLength;
  }

  /** End the track event and its packet at offset p. */
  private packetEnd(p: number): void {
    const w = this.w;
    w.pos = p;
    w.endShort(this.eventMark);
    w.endShort(this.packetMark);
    if (w.pos >= FLUSH_AT) this.flush();
  }

  /** Typed arguments from d[o, end) written at b[p]; the offset after them, or -1 if the record does not hold them. */
  private fields(b: Uint8Array, p: number, plan: EventPlan, d: Buffer, dv: DataView, o: number, end: number): number {
    const T = this.T;
    const { ops, keys, keyWords } = plan;
    let v = this.w.view;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (o + FIXED_SIZE[op]! > end) return -1;
      b[p++] = T.annotation;
      const mark = p++; // one-byte length: a non-string annotation is at most ANNOTATION_MAX bytes
      const key = keys[i]!;
      p = putWords(v, p, keyWords[i]!, key.length);
      switch (op) {
        case OP_STRING: {
          let nul = o;
          let high = 0;
          for (; nul < end; nul++) {
            const ch = d[nul]!;
            if (ch === 0) break;
            high |= ch;
          }
          if (nul >= end) return -1;
          if (high >= 0x80) { // through a JS string: invalid UTF-8 becomes U+FFFD, as every other reader shows it
            this.w.pos = mark - 1; // back to the annotation's tag
            this.stringAnnotation(key, (d as SliceableBuffer).utf8Slice(o, nul));
            b = this.w.buf;
            v = this.w.view;
            p = this.w.pos;
            o = nul + 1;
            continue;
          }
          b[p++] = T.aString;
          p = putVarint(b, p, nul - o);
          p = copyBytes(b, v, p, d, dv, o, nul);
          o = nul + 1;
          p = this.closeLong(b, mark, p);
          b = this.w.buf;
          v = this.w.view;
          continue;
        }
        case OP_BYTES: {
          const n = u32(d, o);
          if (n > end - o - 4) return -1;
          b[p++] = T.aString;
          p = putVarint(b, p, 2 * n);
          for (let j = o + 4; j < o + 4 + n; j++) {
            b[p++] = HEX[d[j]! >> 4]!;
            b[p++] = HEX[d[j]! & 15]!;
          }
          o += 4 + n;
          p = this.closeLong(b, mark, p);
          b = this.w.buf;
          v = this.w.view;
          continue;
        }
        case OP_U8: p = putInt(b, p, T.aInt, d[o]!); o += 1; break;
        case OP_I8: p = putInt(b, p, T.aInt, (d[o]! << 24) >> 24); o += 1; break;
        case OP_BOOL:
          b[p++] = T.aBool;
          b[p++] = d[o] !== 0 ? 1 : 0;
          o += 1;
          break;
        case OP_U16: p = putInt(b, p, T.aInt, d[o]! | (d[o + 1]! << 8)); o += 2; break;
        case OP_I16: p = putInt(b, p, T.aInt, ((d[o]! | (d[o + 1]! << 8)) << 16) >> 16); o += 2; break;
        case OP_U32: p = putInt(b, p, T.aInt, u32(d, o)); o += 4; break;
        case OP_I32: p = putInt(b, p, T.aInt, d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24)); o += 4; break;
        case OP_F32:
          b[p++] = T.aDouble;
          p = this.putDouble(b, p, d.readFloatLE(o));
          o += 4;
          break;
        case OP_F64:
          b[p++] = T.aDouble;
          p = copy8(v, p, dv, o); // IEEE 754 little-endian, as protobuf's fixed64
          o += 8;
          break;
        case OP_U64: {
          const hi = u32(d, o + 4);
          b[p++] = hi < 0x80000000 ? T.aInt : T.aUint; // int64 where it fits, as the JS side's numbers
          p = putVarint64(b, p, hi, u32(d, o));
          o += 8;
          break;
        }
        case OP_I64: // int64's varint is the two's complement
          b[p++] = T.aInt;
          p = putVarint64(b, p, u32(d, o + 4), u32(d, o));
          o += 8;
          break;
      }
      b[mark] = p - mark - 1;
    }
    return p;
  }

  /** Close an annotation that may be 128 bytes or longer: its one-byte length at mark widens (endShort). */
  private closeLong(b: Uint8Array, mark: number, p: number): number {
    if (p - mark - 1 < 128) {
      b[mark] = p - mark - 1;
      return p;
    }
    const w = this.w;
    w.pos = p;
    w.endShort(mark);
    return w.pos;
  }

  private putDouble(b: Uint8Array, p: number, v: number): number {
    this.f64[0] = v;
    const s = this.f64Bytes;
    for (let j = 0; j < 8; j++) b[p++] = s[j]!;
    return p;
  }

  private stringAnnotation(key: Uint8Array, s: string): void {
    const w = this.w;
    w.varint(this.T.annotation);
    const m = w.begin();
    w.reserve(key.length);
    for (let j = 0; j < key.length; j++) w.buf[w.pos++] = key[j]!;
    w.varint(this.T.aString);
    w.string(s);
    w.end(m);
  }

  /**
   * Find the members of the JSON text at d[o] (NUL-terminated, before `end`)
   * and their name iids; the count (0 for no text), or -1 when the text is
   * not a flat object (the general path parses it) or is not terminated.
   */
  private jsonMembers(seq: Sequence, plan: EventPlan, d: Buffer, o: number, end: number): number {
    let nul = o;
    while (nul < end && d[nul] !== 0) nul++;
    if (nul >= end) return -1;
    if (nul === o) return 0;
    const json = this.json;
    if (!json.parse(d, o, nul)) return -1;
    const n = json.count;
    const seen = plan.jsonKeys;
    for (let j = 0; j < n; j++) {
      const ks = json.keyStart[j]!;
      const len = json.keyEnd[j]! - ks;
      const last = seen[j];
      let same = last !== undefined && last.length === len;
      for (let i = 0; same && i < len; i++) same = last![i] === d[ks + i];
      if (!same) {
        seen[j] = Uint8Array.from(d.subarray(ks, ks + len));
        const iid = this.iid(seq.keys, json.key(d, j), this.newKeys);
        plan.jsonKeyFields[j] = Uint8Array.from([this.T.aName, ...varintBytes(iid)]);
      }
    }
    return n;
  }

  /** The members found by jsonMembers, written at b[p]; returns the offset after them. */
  private members(b: Uint8Array, p: number, plan: EventPlan, d: Buffer, dv: DataView, n: number): number {
    const T = this.T;
    const json = this.json;
    let v = this.w.view;
    for (let j = 0; j < n; j++) {
      b[p++] = T.annotation;
      const mark = p++;
      const key = plan.jsonKeyFields[j]!;
      for (let i = 0; i < key.length; i++) b[p++] = key[i]!;
      const kind = json.kind[j]!;
      if (kind === MEMBER_STRING) {
        const vs = json.valStart[j]!;
        const ve = json.valEnd[j]!;
        b[p++] = T.aString;
        p = putVarint(b, p, ve - vs);
        p = copyBytes(b, v, p, d, dv, vs, ve);
        p = this.closeLong(b, mark, p);
        b = this.w.buf;
        v = this.w.view;
        continue;
      }
      if (kind === MEMBER_INT) {
        p = putInt(b, p, T.aInt, json.num[j]!);
      } else if (kind === MEMBER_DOUBLE) {
        const x = json.num[j]!;
        if (Number.isSafeInteger(x)) { // as JSON.parse's value is written on the general path
          p = putInt(b, p, T.aInt, x);
        } else {
          b[p++] = T.aDouble;
          p = this.putDouble(b, p, x);
        }
      } else { // MEMBER_TRUE, MEMBER_FALSE
        b[p++] = T.aBool;
        b[p++] = kind === MEMBER_TRUE ? 1 : 0;
      }
      b[mark] = p - mark - 1;
    }
    return p;
  }

  /** A record the plan cannot read: decoding it raises the TraceError that names the damage. */
  private damaged(c: StreamCursor, k: number): void {
    c.select(k);
    c.values([]);
    throw new Error(`${c.stream}: at byte ${c.packet!.offset + c.at[k]!}: record does not match its class`);
  }

  // ---- the general path: decoded values ----

  private general(t: Track, ns: number, type: number, category: string | undefined, name: string | undefined,
    args: Annotations | null, value: number): void {
    const seq = this.sequence(t.thread!);
    const nameIid = name === undefined ? 0 : this.iid(seq.names, name, this.newNames);
    const catIid = category === undefined ? 0 : this.iid(seq.categories, category, this.newCategories);
    const n = args ? args.length : 0;
    const keyIids = this.keyIids;
    for (let i = 0; i < n; i++) keyIids[i] = this.iid(seq.keys, args!.keys[i]!, this.newKeys);
    const w = this.w;
    const T = this.T;
    w.reserve(PACKET_FIXED_MAX + 32);
    w.pos = this.packetStart(seq, ns);
    w.reserve(PACKET_FIXED_MAX);
    w.varintFast(T.type);
    w.varintFast(type);
    w.varintFast(T.track);
    w.varintFast(t.id);
    if (catIid) {
      w.varintFast(T.category);
      w.varintFast(catIid);
    }
    if (nameIid) {
      w.varintFast(T.name);
      w.varintFast(nameIid);
    }
    if (type === TYPE_COUNTER) {
      w.varintFast(T.counter);
      w.double(value);
    }
    for (let i = 0; i < n; i++) this.annotation(keyIids[i]!, args!.values[i]!);
    this.packetEnd(w.pos);
  }

  private writeInterned(): void {
    const w = this.w;
    w.varint(this.T.interned);
    const m = w.begin();
    const entries = (tag: number, list: [number, string][]) => {
      for (const [iid, s] of list) {
        w.varint(tag);
        const e = w.begin();
        w.tag(1, WIRE_VARINT); // EventCategory / EventName / DebugAnnotationName: iid = 1, name = 2
        w.varint(iid);
        w.tag(2, WIRE_LEN);
        w.string(s);
        w.end(e);
      }
      list.length = 0;
    };
    entries(this.T.categories, this.newCategories);
    entries(this.T.names, this.newNames);
    entries(this.T.keys, this.newKeys);
    w.end(m);
  }

  private annotation(keyIid: number, v: FieldValue): void {
    const w = this.w;
    const T = this.T;
    w.reserve(ANNOTATION_MAX + 16); // then fixed-size parts skip their checks
    w.varintFast(T.annotation);
    const m = w.begin();
    w.varintFast(T.aName);
    w.varintFast(keyIid);
    switch (typeof v) {
      case 'number':
        if (Number.isSafeInteger(v)) {
          w.varintFast(T.aInt);
          w.int64(v);
        } else {
          w.varintFast(T.aDouble);
          w.double(v);
        }
        break;
      case 'bigint':
        if (v < 1n << 63n) {
          w.varintFast(T.aInt);
          w.int64(v);
        } else {
          w.varintFast(T.aUint);
          w.uint64(v);
        }
        break;
      case 'boolean':
        w.varintFast(T.aBool);
        w.varintFast(v ? 1 : 0);
        break;
      case 'string':
        w.varintFast(T.aString);
        w.string(v);
        break;
      default: // bytes: hex text
        w.varintFast(T.aString);
        w.string((v as Buffer).toString('hex'));
    }
    w.end(m);
  }
}
