// The bridge's record classes as the trace readers know them: the span's
// begin and end fields (records.ts makes those classes), and the classes whose
// attributes are typed fields: otel:span_event (an OpenTelemetry span event
// recorded as it is added: the span's id, the event's name and OpenTelemetry
// time, then one field per attribute), otel:span_event_json (the same with
// the attributes as one JSON object, for those no typed record fits), and an
// otel:span end whose attributes are fields (after `links`) instead of the
// `args` JSON. Field names are identifiers, attribute keys usually are not
// ('exception.type'), so a key is stored with each '.' written as '__' when
// that reads back to the same key; readers turn the names back
// (withAttributeKeys). Shared by the bridge and the readers; it loads
// nothing of OpenTelemetry.
import type { ClassDescription, Field, FieldType } from '../schema';

export const OTEL_PROVIDER = 'otel';
export const BEGIN_FIELDS = ['span_id:u64', 'parent_id:u64', 'span_name:string', 'trace_id:string', 'kind:u8',
  'scope:string'] as const;
/** `args`: the span's attributes as one JSON object; `events`, `links`: JSON arrays ('' when none). */
export const END_FIELDS = ['span_id:u64', 'span_name:string', 'status_code:u8', 'status_message:string',
  'start_unix_ns:u64', 'end_unix_ns:u64', 'args:string', 'events:string', 'links:string'] as const;
/** The SDK's default limit on a span's events (older ones are dropped first); readers apply it to these records. */
export const EVENT_COUNT_LIMIT = 128;
export const SPAN_EVENT_CLASS = 'span_event';
/** The fields every span event has, before its attributes' (the span id and time are u64, as the span's). */
export const SPAN_EVENT_FIXED = ['otel_span:u64', 'event_name:string', 'time_unix_ns:u64'] as const;
export const SPAN_EVENT_JSON_CLASS = 'span_event_json';
export const SPAN_EVENT_JSON_FIELDS = [...SPAN_EVENT_FIXED, 'dropped_attributes:u32', 'attributes:string'] as const;
/** The fields of a span's end whose attributes follow as fields of their own. */
export const SPAN_END_FIXED = ['span_id:u64', 'span_name:string', 'status_code:u8', 'status_message:string',
  'start_unix_ns:u64', 'end_unix_ns:u64', 'links:string'] as const;
const FIXED_NAMES = new Set([...SPAN_EVENT_FIXED, ...SPAN_END_FIXED].map((f) => f.slice(0, f.indexOf(':'))));

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
 * a fixed or reserved name: such attributes are recorded as JSON instead.
 */
export function fieldOfKey(key: string): string | undefined {
  const name = key.replaceAll('.', '__');
  if (!IDENT.test(name) || RESERVED.has(name) || FIXED_NAMES.has(name) || keyOfField(name) !== key) return undefined;
  return name;
}

/** Fields from `specs` ('name:type'). */
export function fieldsOf(specs: readonly string[]): Field[] {
  return specs.map((spec) => {
    const [name, type] = spec.split(':') as [string, FieldType];
    return { name, type };
  });
}
// As fields, made once: readers check classes per record.
const BEGIN = fieldsOf(BEGIN_FIELDS);
const END = fieldsOf(END_FIELDS);
const EVENT_FIXED = fieldsOf(SPAN_EVENT_FIXED);
const EVENT_JSON = fieldsOf(SPAN_EVENT_JSON_FIELDS);
const END_FIXED = fieldsOf(SPAN_END_FIXED);

/**
 * Whether `cls`'s first fields are `expected`, and it has no more unless
 * `more`: a trace's class descriptions are checked before a reader takes a
 * value's type from its place.
 */
function startsWith(cls: ClassDescription, expected: readonly Field[], more: boolean): boolean {
  const f = cls.fields;
  if (more ? f.length < expected.length : f.length !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) {
    if (f[i]!.name !== expected[i]!.name || f[i]!.type !== expected[i]!.type) return false;
  }
  return true;
}

/** Whether `cls` is the bridge's span begin. */
export function isOtelSpanBegin(cls: ClassDescription): boolean {
  return cls.provider === OTEL_PROVIDER && cls.name === 'span' && cls.kind === 'span_begin' &&
    startsWith(cls, BEGIN, false);
}

/** Whether `cls` is the bridge's span end, with its attributes as JSON or (isTypedSpanEndClass) as fields. */
export function isOtelSpanEnd(cls: ClassDescription): boolean {
  return isTypedSpanEndClass(cls) ||
    (cls.provider === OTEL_PROVIDER && cls.name === 'span' && cls.kind === 'span_end' && startsWith(cls, END, false));
}

/** Whether `cls` is a span event class as this module makes them. */
export function isSpanEventClass(cls: ClassDescription): boolean {
  return cls.provider === OTEL_PROVIDER && cls.name === SPAN_EVENT_CLASS && cls.kind === 'event' &&
    startsWith(cls, EVENT_FIXED, true);
}

/** Whether `cls` is the span event class whose attributes are JSON. */
export function isJsonSpanEventClass(cls: ClassDescription): boolean {
  return cls.provider === OTEL_PROVIDER && cls.name === SPAN_EVENT_JSON_CLASS && cls.kind === 'event' &&
    startsWith(cls, EVENT_JSON, false);
}

/** Whether `cls` is an otel:span end whose attributes are fields (from SPAN_END_FIXED.length on). */
export function isTypedSpanEndClass(cls: ClassDescription): boolean {
  return cls.provider === OTEL_PROVIDER && cls.name === 'span' && cls.kind === 'span_end' &&
    startsWith(cls, END_FIXED, true);
}

/** For a reader: a class with typed attributes has its attribute fields named by their keys again; others as they are. */
export function withAttributeKeys(cls: ClassDescription): ClassDescription {
  const from = isSpanEventClass(cls) ? SPAN_EVENT_FIXED.length : isTypedSpanEndClass(cls) ? SPAN_END_FIXED.length : -1;
  if (from < 0) return cls;
  const fields: Field[] = cls.fields.map((f, i) => (i < from ? f : { name: keyOfField(f.name), type: f.type }));
  return { ...cls, fields };
}
