// A record's arguments for the timeline exports (Perfetto, Chrome): an
// event's fields, or a span record's fields after its ids; the JSON text that
// span(name, fields) records is parsed back into its members. This is the
// general, decoding path; the Perfetto export encodes the common cases
// straight from the record's bytes and comes here for the rest.
import type { FieldValue } from '../decode';
import type { ClassDescription } from '../schema';
import type { StreamCursor } from '../trace/cursor';
import type { EndMark } from './model';

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

export class RecordArgs {
  private readonly values: FieldValue[] = [];
  private readonly a: Annotations = { keys: [], values: [], length: 0 };

  /** The arguments of record k of c, or null if it has none; a damaged record throws its TraceError. */
  of(c: StreamCursor, k: number): Annotations | null {
    c.select(k);
    const cls = c.cls;
    const v = c.values(this.values, true);
    const from = argsFrom(cls);
    if (hasJsonArgs(cls)) return this.json(v[from] as string);
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

  /** The one annotation of a span ended without its own record (see EndMark). */
  mark(why: EndMark): Annotations {
    const a = this.a;
    a.keys[0] = why;
    a.values[0] = true;
    a.length = 1;
    return a;
  }

  /** Span fields' JSON as annotations; text that is not an object is kept whole, as `args`. */
  private json(json: string): Annotations | null {
    if (!json) return null;
    const a = this.a;
    let obj: unknown;
    try {
      obj = JSON.parse(json);
    } catch {
      obj = undefined;
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      a.keys[0] = 'args';
      a.values[0] = json;
      a.length = 1;
      return a;
    }
    let n = 0;
    const o = obj as Record<string, unknown>;
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
