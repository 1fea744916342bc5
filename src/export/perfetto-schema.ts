// Perfetto's schema as the exporter uses it: proto/perfetto_trace.proto
// (upstream field numbers, only what ringtrace writes) loaded with protobufjs,
// the tags the hand-written event encoder stores (read from that schema, never
// typed in: proto-tags.ts), and the TrackEvent constants and size bounds the encoder relies on.
import * as path from 'node:path';
import type * as protobuf from 'protobufjs';
import { WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './protowire';
import { ShippedProto } from './proto-tags';

export const PERFETTO_PROTO = path.join(__dirname, '..', '..', '..', 'proto', 'perfetto_trace.proto');
const proto = new ShippedProto(PERFETTO_PROTO, 'perfetto.protos');

/** The shipped schema, loaded once (field names kept as in the .proto). */
export function perfettoSchema(): protobuf.Root {
  return proto.schema();
}

const tags = <K extends string>(type: string, fields: Record<K, number>) => proto.tags(type, fields);

const V = WIRE_VARINT;
const L = WIRE_LEN;

/** Field tags (number << 3 | wire type) of everything the event encoder writes, from the schema. */
export function perfettoTags() {
  const P = tags('TracePacket', { timestamp: V, track_event: L, trusted_packet_sequence_id: V, interned_data: L,
    sequence_flags: V });
  const E = tags('TrackEvent', { category_iids: V, name_iid: V, type: V, track_uuid: V,
    double_counter_value: WIRE_FIXED64, debug_annotations: L });
  const A = tags('DebugAnnotation', { name_iid: V, bool_value: V, uint_value: V, int_value: V,
    double_value: WIRE_FIXED64, string_value: L });
  const I = tags('InternedData', { event_categories: L, event_names: L, debug_annotation_names: L });
  // PACKET_TAG below is written as a constant: Trace.packet must be field 1.
  if (tags('Trace', { packet: L }).packet !== PACKET_TAG) throw new Error(`${PERFETTO_PROTO}: Trace.packet must be field 1`);
  const one = (tag: number) => {
    // the event writer stores tags as single bytes; only double_counter_value's is written as a varint
    if (tag >= 128 && tag !== E.double_counter_value) throw new Error(`${PERFETTO_PROTO}: field ${tag >> 3} needs a longer tag`);
    return tag;
  };
  return {
    timestamp: one(P.timestamp), seq: one(P.trusted_packet_sequence_id), flags: one(P.sequence_flags),
    interned: one(P.interned_data), trackEvent: one(P.track_event),
    type: one(E.type), track: one(E.track_uuid), category: one(E.category_iids), name: one(E.name_iid),
    counter: one(E.double_counter_value), annotation: one(E.debug_annotations),
    aName: one(A.name_iid), aBool: one(A.bool_value), aUint: one(A.uint_value), aInt: one(A.int_value),
    aDouble: one(A.double_value), aString: one(A.string_value),
    categories: one(I.event_categories), names: one(I.event_names), keys: one(I.debug_annotation_names),
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
