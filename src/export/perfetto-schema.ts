// Perfetto's schema as the exporter uses it: proto/perfetto_trace.proto
// (upstream field numbers, only what ringtrace writes) loaded with protobufjs,
// the tags the hand-written event encoder stores (read from that schema, never
// typed in), and the TrackEvent constants and size bounds the encoder relies on.
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './protowire';

export const PERFETTO_PROTO = path.join(__dirname, '..', '..', '..', 'proto', 'perfetto_trace.proto');

let root: protobuf.Root | undefined;
/** The shipped schema, loaded once (field names kept as in the .proto). */
export function perfettoSchema(): protobuf.Root {
  root ??= new protobuf.Root().loadSync(PERFETTO_PROTO, { keepCase: true });
  return root;
}

export function fieldIds(type: string, names: string[]): Record<string, number> {
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
export function perfettoTags() {
  const P = fieldIds('TracePacket', ['timestamp', 'track_event', 'trusted_packet_sequence_id', 'interned_data',
    'sequence_flags']);
  const E = fieldIds('TrackEvent', ['category_iids', 'name_iid', 'type', 'track_uuid', 'double_counter_value',
    'debug_annotations']);
  const A = fieldIds('DebugAnnotation', ['name_iid', 'bool_value', 'uint_value', 'int_value', 'double_value',
    'string_value']);
  const I = fieldIds('InternedData', ['event_categories', 'event_names', 'debug_annotation_names']);
  // PACKET_TAG below is written as a constant: Trace.packet must be field 1.
  if (fieldIds('Trace', ['packet'])['packet'] !== 1) throw new Error(`${PERFETTO_PROTO}: Trace.packet must be field 1`);
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
export type Tags = ReturnType<typeof perfettoTags>;

export const SEQ_INCREMENTAL_STATE_CLEARED = 1;
export const SEQ_NEEDS_INCREMENTAL_STATE = 2;
export const TYPE_SLICE_BEGIN = 1;
export const TYPE_SLICE_END = 2;
export const TYPE_INSTANT = 3;
export const TYPE_COUNTER = 4;
export const PACKET_TAG = 1 * 8 + WIRE_LEN; // Trace.packet
export const PACKET_FIXED_MAX = 48; // packet tag and length, timestamp, sequence, flags, track event tag and length, track
export const ANNOTATION_MAX = 24; // a non-string annotation: tag, length, name iid, value
