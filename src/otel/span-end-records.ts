// A provider span's end with its attributes as typed fields (an otel:span end
// of SPAN_END_FIXED's fields, then one per attribute; one class per shape of
// attributes, shapes.ts) rather than as the `args` JSON: no keys and no JSON
// written per span. Attributes no shape fits (an array value, a key no field
// name can hold, too many) go into the JSON end record (records.ts) instead.
import { TracedEvent } from '../event';
import { keys, ShapeCache, typeOf, types, values } from './shapes';
import { fieldsOf, OTEL_PROVIDER, SPAN_END_FIXED } from './typed-classes';
import type { SpanTime } from './time';

const shapes = new ShapeCache(fieldsOf(SPAN_END_FIXED), (fields, maxStringBytes) =>
  new TracedEvent<unknown[]>(OTEL_PROVIDER, 'span', 'span_end', fields, { maxStringBytes },
    ['u64words', undefined, undefined, undefined, 'hrtime', 'hrtime']));

/**
 * Record the end of the span whose id is `spanId` (words, ids.ts) with the attributes `kv` (key, value,
 * ...: kept ones only, see attributes.ts; null: none) as typed fields.
 * Returns false, recording nothing, when no shape fits them.
 */
export function recordTypedEnd(spanId: readonly number[], name: string, statusCode: number, statusMessage: string,
  start: SpanTime, end: SpanTime, links: string, kv: readonly unknown[] | null): boolean {
  let n = 0;
  if (kv !== null) {
    if (kv.length > 2 * shapes.maxAttributes) return false;
    for (let i = 0; i < kv.length; i += 2) {
      const type = typeOf(kv[i + 1]);
      if (type === undefined) return false; // an array
      keys[n] = kv[i] as string;
      types[n] = type;
      values[n++] = kv[i + 1];
    }
  }
  const head = shapes.head;
  head[0] = spanId;
  head[1] = name;
  head[2] = statusCode;
  head[3] = statusMessage;
  head[4] = start;
  head[5] = end;
  head[6] = links;
  return shapes.record(n);
}
