// Attribute values as OTLP AnyValues: a record's typed fields (floats as
// doubles, whatever their value), and JSON values (span fields, OpenTelemetry
// attributes) by OpenTelemetry's own rule: an integral number is an int,
// others doubles; arrays become ArrayValues, objects KeyValueLists.
import type { ProtoWriter } from '../export/protowire';
import type { OtlpTags } from './schema';

/** A float field's value that happens to be integral: still sent as a double (its field's type decides). */
export class Float {
  constructor(readonly value: number) {}
}

/** A KeyValue under `tag` (e.g. Span.attributes). */
export function writeKeyValue(w: ProtoWriter, T: OtlpTags, tag: number, key: string, v: unknown): void {
  // One-byte lengths, widened by endShort in the rare attribute of 128 bytes or more.
  w.varint(tag);
  w.reserve(1);
  const kv = w.beginShort();
  w.varint(T.kv.key);
  w.string(key);
  w.varint(T.kv.value);
  w.reserve(1);
  const any = w.beginShort();
  writeAnyValue(w, T, v);
  w.endShort(any);
  w.endShort(kv);
}

/** The fields of an AnyValue (its tag and length written by the caller); null and undefined: an empty value. */
export function writeAnyValue(w: ProtoWriter, T: OtlpTags, v: unknown): void {
  const A = T.any;
  switch (typeof v) {
    case 'string':
      w.varint(A.string_value);
      w.string(v);
      return;
    case 'number':
      if (Number.isSafeInteger(v)) {
        w.varint(A.int_value);
        w.int64(v);
      } else {
        w.varint(A.double_value);
        w.double(v);
      }
      return;
    case 'bigint':
      w.varint(A.int_value);
      w.int64(BigInt.asIntN(64, v)); // a u64 above 2^63 wraps, as int64 must
      return;
    case 'boolean':
      w.varint(A.bool_value);
      w.varint(v ? 1 : 0);
      return;
    case 'object':
      if (v === null) return;
      if (v instanceof Float) {
        w.varint(A.double_value);
        w.double(v.value);
      } else if (v instanceof Uint8Array) {
        w.varint(A.bytes_value);
        w.bytes(v);
      } else if (Array.isArray(v)) {
        w.varint(A.array_value);
        const arr = w.begin();
        for (const item of v) {
          w.varint(T.array.values);
          const one = w.begin();
          writeAnyValue(w, T, item);
          w.end(one);
        }
        w.end(arr);
      } else {
        w.varint(A.kvlist_value);
        const list = w.begin();
        const o = v as Record<string, unknown>;
        for (const k in o) writeKeyValue(w, T, T.kvlist.values, k, o[k]);
        w.end(list);
      }
      return;
    default:
      return; // undefined, functions, symbols: an empty value
  }
}
