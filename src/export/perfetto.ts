// Perfetto export: a perfetto.protos.Trace (TracePacket after TracePacket,
// field 1) that ui.perfetto.dev and trace_processor open.
// - One track per process (ProcessDescriptor) and per thread (ThreadDescriptor),
//   async lanes and counters as child tracks of their thread.
// - One packet sequence per thread: the first packet clears the incremental
//   state; event names, categories (the provider) and annotation names are
//   interned per sequence and sent in the packet that first uses them.
// - Timestamps: nanoseconds since the epoch (trace-time in Perfetto).
// protobufjs loads proto/perfetto_trace.proto (upstream field numbers, only
// what we use: perfetto-schema.ts) and encodes the descriptor packets. Event
// packets are written by hand (protowire.ts) with tags read from that same
// schema: per thread and class, a plan (perfetto-plan.ts) holds the constant
// bytes (type, interned name and category: perfetto-interning.ts, annotation
// names) and one op per field, so an event is encoded straight from its
// record's bytes without decoding it into JS values (perfetto-args.ts). What a
// plan does not cover (non-object span JSON, renamed instants, damaged
// records) goes through the general path, from decoded values (record-args.ts).
// Why events are encoded by hand: through decoded values (the general path
// for every event) the export ran at 0.69-0.95 M events/s; from the record's
// bytes, 2.6x that side by side (docs/benchmarks.md, Export).
// This file: the packets themselves (timestamp, sequence, flags, interned
// data, track) and the buffers they go out in.
import { DENSE_IDS, type StreamCursor } from '../trace/cursor';
import { EVENT_HEADER } from '../layout';
import { INV_TWO32, TWO32 } from '../int64';
import { BUFFER_SIZE, type OutputBuffers } from './background-writer';
import type { EndMark, TimelineSink, Track } from './model';
import { ArgsWriter, copy8 } from './perfetto-args';
import { Interning, type Sequence, sequenceOf } from './perfetto-interning';
import { makePlan } from './perfetto-plan';
import { ANNOTATION_MAX, PACKET_FIXED_MAX, PACKET_TAG, perfettoSchema, perfettoTags, SEQ_INCREMENTAL_STATE_CLEARED,
  SEQ_NEEDS_INCREMENTAL_STATE, type Tags, TYPE_COUNTER, TYPE_INSTANT, TYPE_SLICE_BEGIN, TYPE_SLICE_END,
} from './perfetto-schema';
import { ProtoWriter, putVarint, putVarint64, WIRE_LEN } from './protowire';
import { type Annotations, RecordArgs } from './record-args';
import { putWords } from './words';

export { PERFETTO_PROTO, perfettoSchema } from './perfetto-schema';

const FLUSH_AT = BUFFER_SIZE - (64 << 10); // hand a buffer on before an event outgrows it

export class PerfettoSink implements TimelineSink {
  private readonly w: ProtoWriter;
  private readonly T: Tags = perfettoTags();
  private readonly packetType = perfettoSchema().lookupType('perfetto.protos.TracePacket');
  private readonly startHi: number;
  private readonly startLo: number;
  private readonly interning = new Interning();
  private readonly keyIids: number[] = []; // the general path's annotation name iids
  private readonly args = new RecordArgs();
  private readonly encoder: ArgsWriter;

  constructor(startNs: bigint, private readonly out: OutputBuffers) {
    this.w = new ProtoWriter(out.buffer());
    this.encoder = new ArgsWriter(this.w, this.T, this.interning);
    this.startHi = Number(startNs >> 32n);
    this.startLo = Number(startNs & 0xffffffffn);
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
      const args = this.args.of(c, k); // (its spanName: see record-args.ts)
      this.general(t, ns, TYPE_INSTANT, c.cls.provider, (this.args.spanName ?? c.cls.name) + suffix, args, 0);
    } else {
      this.record(t, ns, c, k, TYPE_INSTANT);
    }
  }

  endWithout(t: Track, ns: number, why: EndMark): void {
    this.general(t, ns, TYPE_SLICE_END, undefined, undefined, this.args.mark(why), 0);
  }

  counter(t: Track, ns: number, c: StreamCursor, k: number): void {
    const seq = sequenceOf(t.thread!);
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

  // ---- the planned path: straight from the record's bytes ----

  /** An instant, slice begin or slice end from record k of c. */
  private record(t: Track, ns: number, c: StreamCursor, k: number, type: number): void {
    const seq = sequenceOf(t.thread!);
    const id = c.ids[k]!;
    const plan = (id < DENSE_IDS ? seq.plans[id] : seq.bigPlans.get(id)) ??
      makePlan(seq, c.classOf(id), id, type, this.T, this.interning);
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
      members = this.encoder.jsonMembers(seq, plan, d, args, end);
      if (members < 0) { // not a flat object: the general path parses it
        c.select(k);
        return this.general(t, ns, type, type === TYPE_SLICE_END ? undefined : c.cls.provider,
          type === TYPE_SLICE_END ? undefined : c.cls.name, this.args.of(c, k), 0);
      }
    }
    const w = this.w;
    // Room for all but interned data (written with checks): the rest writes without them.
    const room = plan.bound + members * ANNOTATION_MAX + 3 * (end - args);
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
      p = this.encoder.members(b, p, plan, d, c.view, members);
    } else {
      p = this.encoder.fields(b, p, plan, d, c.view, args, end);
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
    if (this.interning.pending) {
      w.pos = p;
      this.interning.write(w, T);
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

  /** A record the plan cannot read: decoding it raises the TraceError that names the damage. */
  private damaged(c: StreamCursor, k: number): void {
    c.select(k);
    c.values([]);
    throw new Error(`${c.stream}: at byte ${c.packet!.offset + c.at[k]!}: record does not match its class`);
  }

  // ---- the general path: decoded values ----

  private general(t: Track, ns: number, type: number, category: string | undefined, name: string | undefined,
    args: Annotations | null, value: number): void {
    const seq = sequenceOf(t.thread!);
    const nameIid = name === undefined ? 0 : this.interning.name(seq, name);
    const catIid = category === undefined ? 0 : this.interning.category(seq, category);
    const n = args ? args.length : 0;
    const keyIids = this.keyIids;
    for (let i = 0; i < n; i++) keyIids[i] = this.interning.key(seq, args!.keys[i]!);
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
    for (let i = 0; i < n; i++) this.encoder.annotation(keyIids[i]!, args!.values[i]!);
    this.packetEnd(w.pos);
  }
}
