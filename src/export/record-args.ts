// A record's arguments for the timeline exports (Perfetto, Chrome): an
// event's fields, or a span record's fields after its ids; the JSON text that
// span(name, fields) records is parsed back into its members. This is the
// general, decoding path; the Perfetto export encodes the common cases
// straight from the record's bytes and comes here for the rest.
//
// Spans recorded from elsewhere (ringtrace/otel: one class for every
// OpenTelemetry span) carry their name in a `span_name` string right after
// their ids: the slice is named by it, and a string field `args` among their
// typed fields is JSON whose members become annotations (span classes made
// with spanType cannot have a field named `args`, so this is never a user's).
// Their events (otel:span_event, otel:span_event_json) are instants named by
// their `event_name` the same way.
import type { FieldValue } from '../decode';
import type { ClassDescription } from '../schema';
import type { StreamCursor } from '../trace/cursor';
import type { EndMark } from './model';
import { isJsonSpanEventClass, isSpanEventClass } from '../otel/typed-classes';

/** Annotations as parallel arrays (reused between events: sinks must not keep them). */
export interface Annotations {
  keys: string[];
  values: FieldValue[];
  length: number;
}

/** Index of the first field that is an argument: span records start with their ids. */
export function argsFrom(cls: ClassDescription): number {
  return cls.kind === 'span_begin' ? 2 : cls.kind === 'span_end' ? 1 : 0;
}

/** True when the arguments are one JSON text (span(name, fields)) rather than typed fields. */
export function hasJsonArgs(cls: ClassDescription): boolean {
  const from = argsFrom(cls);
  const f = cls.fields;
  return from > 0 && f.length === from + 1 && f[from]!.name === 'args' && f[from]!.type === 'string';
}

/**
 * The index of the field that names a record: a span record's `span_name`
 * (right after its ids), an OpenTelemetry span event's `event_name`; or -1.
 */
export function spanNameAt(cls: ClassDescription): number {
  if (isSpanEventClass(cls) || isJsonSpanEventClass(cls)) return 1;
  const from = argsFrom(cls);
  const f = cls.fields[from];
  return from > 0 && f !== undefined && f.name === 'span_name' && f.type === 'string' ? from : -1;
}

/** The object a span's JSON fields text holds; undefined when it is not a JSON object (cut, or another value). */
export function jsonObject(json: string): Record<string, unknown> | undefined {
  let obj: unknown;
  try {
    obj = JSON.parse(json);
  } catch {
    return undefined;
  }
  return obj !== null && typeof obj === 'object' && !Array.isArray(obj) ? obj as Record<string, unknown> : undefined;
}

export class RecordArgs {
  private readonly values: FieldValue[] = [];
  private readonly a: Annotations = { keys: [], values: [], length: 0 };
  /** The span name the record last given to of() carries (spanNameAt), or undefined. */
  spanName: string | undefined;

  /** The arguments of record k of c, or null if it has none; a damaged record throws its TraceError. */
  of(c: StreamCursor, k: number): Annotations | null {
    c.select(k);
    const cls = c.cls;
    const v = c.values(this.values, true);
    const from = argsFrom(cls);
    this.spanName = undefined;
    if (hasJsonArgs(cls)) return this.json(v[from] as string, 0);
    const nameAt = spanNameAt(cls);
    if (nameAt >= 0) return this.named(cls, v, nameAt);
    const n = cls.fields.length - from;
    if (n <= 0) return null;
    const a = this.a;
    for (let i = 0; i < n; i++) {
      a.keys[i] = cls.fields[from + i]!.name;
      a.values[i] = v[from + i]!;
    }
    a.length = n;
    return a;
  }

  /**
   * A record carrying its name: the name is the slice's or instant's (a
   * begin's or an event's is not repeated as an annotation; an end's, the
   * name at the end, is), an `args` string (an OpenTelemetry event's
   * `attributes`) is expanded, the other fields are annotations as they are.
   */
  private named(cls: ClassDescription, v: FieldValue[], nameAt: number): Annotations | null {
    this.spanName = v[nameAt] as string;
    const a = this.a;
    let n = 0;
    let json: string | undefined;
    const jsonField = isJsonSpanEventClass(cls) ? 'attributes' : 'args';
    for (let i = argsFrom(cls); i < cls.fields.length; i++) {
      if (i === nameAt && cls.kind !== 'span_end') continue;
      const f = cls.fields[i]!;
      if (f.name === jsonField && f.type === 'string') {
        json = v[i] as string;
        continue;
      }
      a.keys[n] = f.name;
      a.values[n++] = v[i]!;
    }
    a.length = n;
    if (json) this.json(json, n);
    return a.length ? a : null;
  }

  /** The one annotation of a span ended without its own record (see EndMark). */
  mark(why: EndMark): Annotations {
    const a = this.a;
    a.keys[0] = why;
    a.values[0] = true;
    a.length = 1;
    return a;
  }

  /**
   * Span fields' JSON as annotations from index n on; text that is not an
   * object is kept whole, as `args`.
   */
  private json(json: string, n: number): Annotations | null {
    if (!json) return null;
    const a = this.a;
    const o = jsonObject(json);
    if (!o) {
      a.keys[n] = 'args';
      a.values[n] = json;
      a.length = n + 1;
      return a;
    }
    for (const k in o) {
      const val = o[k];
      a.keys[n] = k;
      a.values[n++] = typeof val === 'number' || typeof val === 'boolean' || typeof val === 'string' ? val
        : JSON.stringify(val);
    }
    a.length = n;
    return n ? a : null;
  }
}
