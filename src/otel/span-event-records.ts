// OpenTelemetry span events recorded when they are added, as records of
// their own rather than kept in the span and written at its end: an event is
// in the trace even if its span never ends, and a typed record (otel:span_event,
// event-class.ts) costs a sixth of the JSON. One typed class per shape (the
// attributes' keys in order and their kinds: string, number, boolean), made
// the first time the shape is seen. An event no shape fits (an array value, a
// key no field name can hold, more attributes than a record has fields,
// shapes past MAX_SHAPES) is recorded with its attributes as JSON
// (otel:span_event_json). Either way a span's events are its records' order.
import { TracedEvent } from '../event';
import { type Field, type FieldType, MAX_FIELDS } from '../schema';

import { fixedSize, STAGING_BYTES, STAGING_SLACK, type TrustedValue } from '../serializer';
import { JsonMembers } from '../json-writer';
import { fillAttributes, ownKeyCount } from './attributes';
import { fieldOfKey, OTEL_PROVIDER, SPAN_EVENT_CLASS, SPAN_EVENT_FIXED, SPAN_EVENT_JSON_CLASS,
  SPAN_EVENT_JSON_FIELDS } from './event-class';
import type { SpanTime } from './time';
import { parseFields } from '../schema';

/** Shapes made at most, per thread: keys made of data would otherwise make a class per event. */
export const MAX_SHAPES = 256;
/** The longest string an event keeps (UTF-8 bytes), as a span's end record: exception stacks run long. */
const MAX_STRING = 8192;
const FIXED = SPAN_EVENT_FIXED.length;
const MAX_ATTRIBUTES = MAX_FIELDS - FIXED;
const TRUSTED: readonly (TrustedValue | undefined)[] = ['hex', undefined, 'hrtime'];
const FIXED_FIELDS: Field[] = SPAN_EVENT_FIXED.map((spec) => {
  const [name, type] = spec.split(':') as [string, FieldType];
  return { name, type };
});

type EventArgs = unknown[];

interface Shape {
  keys: string[];
  types: FieldType[];
  /** null: events of this shape are kept in their span. */
  cls: TracedEvent<EventArgs> | null;
  /** emit's arguments, filled for each event. */
  args: unknown[];
}

const shapes: Shape[] = [];
let lastShape: Shape | undefined;
// This event's attributes, found by the walk over its object.
const keys: string[] = [];
const types: FieldType[] = [];
const values: unknown[] = [];

const hasOwn = Object.prototype.hasOwnProperty;

function typeOf(v: unknown): FieldType | undefined {
  const t = typeof v;
  return t === 'string' ? 'string' : t === 'number' ? 'f64' : t === 'boolean' ? 'bool' : undefined;
}

/**
 * Record the event `name` of span `spanId` (hex) at OpenTelemetry time
 * `time`, with `attributes` by the SDK's rules (attributes.ts: null and
 * undefined values, empty and `__proto__` keys and values that are no
 * attribute value are left out; past 128, dropped and counted). A getter that
 * throws throws here.
 */
export function recordSpanEvent(spanId: string, name: string, attributes: object | null, time: SpanTime): void {
  if (!recordTyped(spanId, name, attributes, time)) recordJson(spanId, name, attributes, time);
}

type JsonArgs = [string, string, SpanTime, number, JsonMembers];
let jsonClass: TracedEvent<JsonArgs> | undefined;

function recordJson(spanId: string, name: string, attributes: object | null, time: SpanTime): void {
  const cls = jsonClass ??= new TracedEvent<JsonArgs>(OTEL_PROVIDER, SPAN_EVENT_JSON_CLASS, 'event',
    parseFields('otel:span_event_json', SPAN_EVENT_JSON_FIELDS), { maxStringBytes: MAX_STRING },
    ['hex', undefined, 'hrtime', undefined, 'json']);
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

/** The event as a typed record; false when no shape fits it. */
function recordTyped(spanId: string, name: string, attributes: object | null, time: SpanTime): boolean {
  let n = 0;
  if (attributes !== null) {
    for (const key in attributes) {
      if (!hasOwn.call(attributes, key)) continue;
      const v = (attributes as Record<string, unknown>)[key];
      if (v == null || key === '' || key === '__proto__') continue;
      const type = typeOf(v);
      if (type === undefined) {
        if (Array.isArray(v)) return false; // arrays keep the SDK's rules (checked, copied) in the span's list
        continue;
      }
      if (n === MAX_ATTRIBUTES) return false;
      keys[n] = key;
      types[n] = type;
      values[n++] = v;
    }
  }
  const shape = shapeOf(n);
  const cls = shape?.cls;
  if (!cls) return false;
  if (cls.enabled) {
    const args = shape!.args;
    args[0] = spanId;
    args[1] = name;
    args[2] = time;
    for (let i = 0; i < n; i++) args[FIXED + i] = values[i];
    cls.emit(...args);
  }
  return true; // (not enabled: a session's selection left these out)
}

/** The shape of the n attributes just walked: the last one used, a known one, or a new one (undefined: no room). */
function shapeOf(n: number): Shape | undefined {
  if (lastShape !== undefined && fits(lastShape, n)) return lastShape;
  for (const s of shapes) if (fits(s, n)) return lastShape = s;
  if (shapes.length === MAX_SHAPES) return undefined;
  const s: Shape = { keys: keys.slice(0, n), types: types.slice(0, n), cls: classFor(n), args: new Array(FIXED + n) };
  shapes.push(s);
  return lastShape = s;
}

function fits(s: Shape, n: number): boolean {
  if (s.keys.length !== n) return false;
  for (let i = 0; i < n; i++) if (s.keys[i] !== keys[i] || s.types[i] !== types[i]) return false;
  return true;
}

/** The record class for the n attributes just walked, or null if a key has no field name. */
function classFor(n: number): TracedEvent<EventArgs> | null {
  const fields = FIXED_FIELDS.slice();
  let strings = 1; // the event's name
  for (let i = 0; i < n; i++) {
    const name = fieldOfKey(keys[i]!);
    if (name === undefined) return null;
    fields.push({ name, type: types[i]! });
    if (types[i] === 'string') strings++;
  }
  // Every string at its longest must fit the staging buffer with the rest.
  const maxString = Math.min(MAX_STRING, Math.floor((STAGING_BYTES - STAGING_SLACK - fixedSize(fields)) / strings) - 1);
  try {
    return new TracedEvent<EventArgs>(OTEL_PROVIDER, SPAN_EVENT_CLASS, 'event', fields, { maxStringBytes: maxString },
      TRUSTED);
  } catch {
    return null; // (cannot happen with the limits above; such events are then kept in their span)
  }
}
