// OpenTelemetry span events recorded when they are added, as records of
// their own rather than kept in the span and written at its end: an event is
// in the trace even if its span never ends, and a typed record (otel:span_event,
// typed-classes.ts; one class per shape of attributes, shapes.ts) costs a sixth
// of the JSON. An event no shape fits (an array value, a key no field name
// can hold, more attributes than a record has fields, shapes past
// MAX_SHAPES) is recorded with its attributes as JSON (otel:span_event_json).
// Either way a span's events are its records' order.
import { TracedEvent } from '../event';
import { JsonMembers } from '../json-writer';
import { parseFields } from '../schema';
import { fillAttributes, ownKeyCount } from './attributes';
import { fieldsOf, OTEL_PROVIDER, SPAN_EVENT_CLASS, SPAN_EVENT_FIXED, SPAN_EVENT_JSON_CLASS,
  SPAN_EVENT_JSON_FIELDS } from './typed-classes';
import { keys, MAX_STRING, NOT_TYPED, ShapeCache, typeOf, types, values } from './shapes';
import type { SpanTime } from './time';

const shapes = new ShapeCache(fieldsOf(SPAN_EVENT_FIXED), (fields, maxStringBytes) =>
  new TracedEvent<unknown[]>(OTEL_PROVIDER, SPAN_EVENT_CLASS, 'event', fields, { maxStringBytes }, ['u64words',
    undefined, 'hrtime']), (i) => i); // values from the walk's `values`

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Record the event `name` of the span whose id is `spanId` (words, ids.ts)
 * at OpenTelemetry time `time`, with `attributes` by the SDK's rules
 * (attributes.ts: null and undefined values, empty and `__proto__` keys and
 * values that are no attribute value are left out; past 128, dropped and
 * counted). A getter that throws throws here.
 */
export function recordSpanEvent(spanId: readonly number[], name: string, attributes: object | null,
  time: SpanTime): void {
  if (!recordTyped(spanId, name, attributes, time)) recordJson(spanId, name, attributes, time);
}

type JsonArgs = [readonly number[], string, SpanTime, number, JsonMembers];
let jsonClass: TracedEvent<JsonArgs> | undefined;

function recordJson(spanId: readonly number[], name: string, attributes: object | null, time: SpanTime): void {
  const cls = jsonClass ??= new TracedEvent<JsonArgs>(OTEL_PROVIDER, SPAN_EVENT_JSON_CLASS, 'event',
    parseFields('otel:span_event_json', SPAN_EVENT_JSON_FIELDS), { maxStringBytes: MAX_STRING },
    ['u64words', undefined, 'hrtime', undefined, 'json']);
  if (!cls.enabled) return;
  let dropped = 0;
  let kv: unknown[] = [];
  if (attributes !== null) {
    kv = new Array<unknown>(2 * ownKeyCount(attributes)); // filled by index: its exact size (fillAttributes)
    const filled = fillAttributes(kv, 0, attributes);
    kv.length = filled.end;
    dropped = filled.dropped;
  }
  cls.emit(spanId, name, time, dropped, new JsonMembers(kv));
}

/**
 * The event as a typed record; false when no shape fits it. Its attributes
 * are compared with the last shape's as they are walked: an event of the
 * same shape as the one before stores only its values.
 */
function recordTyped(spanId: readonly number[], name: string, attributes: object | null, time: SpanTime): boolean {
  const last = shapes.last;
  let same = last !== undefined;
  let n = 0;
  if (attributes !== null) {
    for (const key in attributes) {
      if (!hasOwn.call(attributes, key)) continue;
      const v = (attributes as Record<string, unknown>)[key];
      if (v == null || key === '' || key === '__proto__') continue;
      const type = typeOf(v);
      if (type === NOT_TYPED) {
        if (Array.isArray(v)) return false; // arrays keep the SDK's rules (checked, copied): as JSON
        continue;
      }
      if (n === shapes.maxAttributes) return false;
      if (same && (last!.keys[n] !== key || last!.types[n] !== type)) same = shapes.walkedAsLast(n);
      if (!same) {
        keys[n] = key;
        types[n] = type;
      }
      values[n++] = v;
    }
  }
  if (same && n !== last!.keys.length) same = shapes.walkedAsLast(n); // fewer than the last shape's
  const shape = same ? last : shapes.find(n);
  if (shape === undefined || shape.cls === null) return false;
  shape.emit(spanId, name, time, values);
  return true;
}
