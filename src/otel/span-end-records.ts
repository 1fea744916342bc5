// A provider span's end with its attributes as typed fields (an otel:span end
// of SPAN_END_FIXED's fields, then one per attribute; one class per shape of
// attributes, shapes.ts) rather than as the `args` JSON: no keys and no JSON
// written per span. Attributes no shape fits (an array value, a key no field
// name can hold, too many) go into the JSON end record (records.ts) instead.
import { TracedEvent } from '../event';
import { ShapeCache } from './shapes';
import { fieldsOf, OTEL_PROVIDER, SPAN_END_FIXED } from './typed-classes';
import type { SpanTime } from './time';

const shapes = new ShapeCache(fieldsOf(SPAN_END_FIXED), (fields, maxStringBytes) =>
  new TracedEvent<unknown[]>(OTEL_PROVIDER, 'span', 'span_end', fields, { maxStringBytes },
    ['u64words', undefined, undefined, undefined, 'hrtime', 'hrtime']), (i) => 2 * i + 1); // values from kv
const NO_ATTRIBUTES: readonly unknown[] = [];

/**
 * Record the end of the span whose id is `spanId` (words, ids.ts) with the attributes `kv` (key, value,
 * ...: kept ones only, see attributes.ts; null: none) as typed fields.
 * Returns false, recording nothing, when no shape fits them.
 */
export function recordTypedEnd(spanId: readonly number[], name: string, statusCode: number, statusMessage: string,
  start: SpanTime, end: SpanTime, links: string, kv: readonly unknown[] | null): boolean {
  const list = kv ?? NO_ATTRIBUTES;
  const shape = shapes.ofPairs(list);
  if (shape === undefined || shape.cls === null) return false;
  shape.emit(spanId, name, statusCode, statusMessage, start, end, links, list);
  return true;
}
