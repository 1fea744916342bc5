// Perfetto export: a perfetto.protos.Trace (TracePacket after TracePacket,
// field 1) that ui.perfetto.dev and trace_processor open.
// - One track per process (ProcessDescriptor) and per thread (ThreadDescriptor),
//   async lanes and counters as child tracks of their thread.
// - One packet sequence per thread: the first packet clears the incremental
//   state; event names, categories (the provider) and annotation names are
//   interned per sequence and sent in the packet that first uses them.
// - Timestamps: nanoseconds since the epoch (trace-time in Perfetto).
// protobufjs loads proto/perfetto_trace.proto (upstream field numbers, only
// what we use) and encodes the descriptor packets; event packets go through
// ProtoWriter with field numbers read from that same schema (see protowire.ts).
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import type { FieldValue } from '../decode';
import type { Annotations, ThreadState, TimelineSink, Track } from './model';
import { ProtoWriter, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './protowire';

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
  const t = (id: number, wire: number) => id * 8 + wire;
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

const SEQ_INCREMENTAL_STATE_CLEARED = 1;
const SEQ_NEEDS_INCREMENTAL_STATE = 2;
const TYPE_SLICE_BEGIN = 1;
const TYPE_SLICE_END = 2;
const TYPE_INSTANT = 3;
const TYPE_COUNTER = 4;
const TWO32 = 4294967296;
const PACKET_TAG = 1 * 8 + WIRE_LEN; // Trace.packet
const EVENT_FIXED_MAX = 128; // an event packet without interned data and annotations, at most
const ANNOTATION_FIXED_MAX = 40; // a non-string annotation, at most

interface Interning {
  names: Map<string, number>;
  categories: Map<string, number>;
  keys: Map<string, number>;
  started: boolean;
}

export class PerfettoSink implements TimelineSink {
  private readonly w = new ProtoWriter();
  private readonly T = tags();
  private readonly packetType = perfettoSchema().lookupType('perfetto.protos.TracePacket');
  private readonly interning = new Map<ThreadState, Interning>();
  private readonly startHi: number;
  private readonly startLo: number;
  // New interned entries of the packet being written.
  private newNames: [number, string][] = [];
  private newCategories: [number, string][] = [];
  private newKeys: [number, string][] = [];
  private readonly keyIids: number[] = []; // the current event's annotation name iids

  constructor(startNs: bigint, private readonly out: (chunk: Buffer) => void) {
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

  begin(t: Track, ns: number, category: string, name: string, args: Annotations | null): void {
    this.event(t, ns, TYPE_SLICE_BEGIN, category, name, args, 0);
  }

  end(t: Track, ns: number, args: Annotations | null): void {
    this.event(t, ns, TYPE_SLICE_END, undefined, undefined, args, 0);
  }

  instant(t: Track, ns: number, category: string, name: string, args: Annotations | null): void {
    this.event(t, ns, TYPE_INSTANT, category, name, args, 0);
  }

  counter(t: Track, ns: number, value: number): void {
    this.event(t, ns, TYPE_COUNTER, undefined, undefined, null, value);
  }

  finish(): void {
    if (this.w.pos) this.out(this.w.take());
  }

  private maybeFlush(): void {
    if (this.w.pos >= 1 << 20) this.out(this.w.take());
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

  private event(t: Track, ns: number, type: number, category: string | undefined, name: string | undefined,
    args: Annotations | null, value: number): void {
    const th = t.thread!;
    let st = this.interning.get(th);
    if (!st) {
      st = { names: new Map(), categories: new Map(), keys: new Map(), started: false };
      this.interning.set(th, st);
    }
    const nameIid = name === undefined ? 0 : this.iid(st.names, name, this.newNames);
    const catIid = category === undefined ? 0 : this.iid(st.categories, category, this.newCategories);
    const n = args ? args.length : 0;
    const keyIids = this.keyIids;
    for (let i = 0; i < n; i++) keyIids[i] = this.iid(st.keys, args!.keys[i]!, this.newKeys);

    const w = this.w;
    const T = this.T;
    // Room for everything but interned data and string annotations (which check for
    // themselves; reserve again after them): the varints then skip their own checks.
    w.reserve(EVENT_FIXED_MAX);
    w.varintFast(PACKET_TAG);
    const packet = w.begin();
    // timestamp = start + ns, as two 32-bit halves (epoch ns exceed 2^53)
    const addHi = Math.floor(ns / TWO32);
    let lo = this.startLo + (ns - addHi * TWO32);
    let hi = this.startHi + addHi;
    if (lo >= TWO32) {
      lo -= TWO32;
      hi += 1;
    }
    w.varintFast(T.timestamp);
    w.varint64(hi >>> 0, lo >>> 0);
    w.varintFast(T.seq);
    w.varintFast(th.seq);
    w.varintFast(T.flags);
    w.varintFast(st.started ? SEQ_NEEDS_INCREMENTAL_STATE : SEQ_INCREMENTAL_STATE_CLEARED | SEQ_NEEDS_INCREMENTAL_STATE);
    st.started = true;
    if (this.newNames.length || this.newCategories.length || this.newKeys.length) {
      this.writeInterned();
      w.reserve(EVENT_FIXED_MAX);
    }

    w.varintFast(T.trackEvent);
    const ev = w.begin();
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
    w.end(ev);
    w.end(packet);
    this.maybeFlush();
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
    w.reserve(ANNOTATION_FIXED_MAX); // then fixed-size parts skip their checks
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
