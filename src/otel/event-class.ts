// The record classes of an OpenTelemetry span event recorded as it is added:
// otel:span_event, the span's id, the event's name and OpenTelemetry time,
// then one typed field per attribute; otel:span_event_json, the same with the
// attributes as one JSON object (for those no typed record fits). Field names are identifiers, attribute
// keys usually are not ('exception.type'), so a key is stored with each '.'
// written as '__' when that reads back to the same key; readers turn the
// names back (otelFieldKeys). Shared by the bridge (which writes these
// records) and the trace readers; it loads nothing of OpenTelemetry.
import type { ClassDescription, Field } from '../schema';

export const OTEL_PROVIDER = 'otel';
/** The SDK's default limit on a span's events (older ones are dropped first); readers apply it to these records. */
export const EVENT_COUNT_LIMIT = 128;
export const SPAN_EVENT_CLASS = 'span_event';
/** The fields every span event has, before its attributes' (the span id and time are u64, as the span's). */
export const SPAN_EVENT_FIXED = ['otel_span:u64', 'event_name:string', 'time_unix_ns:u64'] as const;
export const SPAN_EVENT_JSON_CLASS = 'span_event_json';
export const SPAN_EVENT_JSON_FIELDS = [...SPAN_EVENT_FIXED, 'dropped_attributes:u32', 'attributes:string'] as const;
const FIXED_NAMES = new Set(SPAN_EVENT_FIXED.map((f) => f.slice(0, f.indexOf(':'))));

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Field names the record's context and CTF use (as schema.ts reserves). */
const RESERVED = new Set(['pid', 'tid', 'timestamp', 'id', 'cpu']);

/** What a stored field name reads as: each '__' a '.'. */
export function keyOfField(name: string): string {
  return name.includes('__') ? name.replaceAll('__', '.') : name;
}

/**
 * The field name that stores attribute `key`, or undefined when none reads
 * back to it ('a__b', 'a._b', '-x', a key too long) or it would clash with
 * a fixed or reserved name: such an event is kept in its span instead.
 */
export function fieldOfKey(key: string): string | undefined {
  const name = key.replaceAll('.', '__');
  if (!IDENT.test(name) || RESERVED.has(name) || FIXED_NAMES.has(name) || keyOfField(name) !== key) return undefined;
  return name;
}

/** Whether `cls` is a span event class as this module makes them. */
export function isSpanEventClass(cls: ClassDescription): boolean {
  return cls.provider === OTEL_PROVIDER && cls.name === SPAN_EVENT_CLASS && cls.kind === 'event' &&
    cls.fields.length >= SPAN_EVENT_FIXED.length && cls.fields[0]!.name === 'otel_span';
}

/** Whether `cls` is the span event class whose attributes are JSON. */
export function isJsonSpanEventClass(cls: ClassDescription): boolean {
  return cls.provider === OTEL_PROVIDER && cls.name === SPAN_EVENT_JSON_CLASS && cls.kind === 'event' &&
    cls.fields.length === SPAN_EVENT_JSON_FIELDS.length && cls.fields[4]!.name === 'attributes';
}

/** For a reader: a span event class with its attribute fields named by their keys again (others as they are). */
export function withAttributeKeys(cls: ClassDescription): ClassDescription {
  if (!isSpanEventClass(cls)) return cls;
  const fields: Field[] = cls.fields.map((f, i) => (i < SPAN_EVENT_FIXED.length ? f
    : { name: keyOfField(f.name), type: f.type }));
  return { ...cls, fields };
}
