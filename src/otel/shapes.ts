// Record classes made per shape of OpenTelemetry attributes: the keys in
// order and each value's kind (string, number, boolean), so a span's or an
// event's attributes are written as typed fields, with no keys and no JSON
// in the record. The caller walks its attributes into `keys`, `types` and
// `values` (this module's scratch lists) and asks for the shape of the
// first n; a shape is made the first time it is seen, at most MAX_SHAPES
// per cache. A shape whose keys cannot all be field names has no class:
// its callers record such attributes as JSON.
import type { TracedEvent } from '../event';
import { type Field, type FieldType, MAX_FIELDS } from '../schema';
import { fixedSize, STAGING_BYTES, STAGING_SLACK } from '../serializer';
import { fieldOfKey } from './typed-classes';

/** Shapes made at most, per cache and thread: keys made of data would otherwise make a class per record. */
export const MAX_SHAPES = 256;
/** The longest string a record keeps (UTF-8 bytes): exception stacks and attributes run long. */
export const MAX_STRING = 8192;

/** The walked attributes (valid until the next walk). */
export const keys: string[] = [];
export const types: FieldType[] = [];
export const values: unknown[] = [];

/**
 * A value's field type, or undefined when it is no attribute value a typed
 * field holds (arrays among them). typeof compared with literals: TurboFan
 * makes each a type check, where a kept `typeof` result calls a builtin.
 */
export function typeOf(v: unknown): FieldType | undefined {
  return typeof v === 'string' ? 'string' : typeof v === 'number' ? 'f64' : typeof v === 'boolean' ? 'bool' : undefined;
}

export interface Shape {
  keys: string[];
  types: FieldType[];
  /** null: no typed record for this shape. */
  cls: TracedEvent<unknown[]> | null;
  /** Emit the fixed arguments `head` and the attributes' `values` with cls (made for this shape's count). */
  emit: (head: readonly unknown[], values: readonly unknown[]) => void;
}

/**
 * cls.emit(head[0], ..., values[0], ...values[n - 1]) for a head of `fixed`
 * values and n attributes, as a function made once per shape (from indexes
 * only; emit read at each call, as strict mode or a filter rebuilds it). It
 * replaced copying both into a list kept per shape and spreading it into
 * emit: the copies' write barriers and the spread cost the bridge ~300
 * instructions per request in a server, and a span ~12 % in a loop.
 */
function emitterFor(cls: TracedEvent<unknown[]> | null, fixed: number, n: number): Shape['emit'] {
  if (!cls) return () => {};
  const args = [...Array.from({ length: fixed }, (_, i) => `h[${i}]`),
    ...Array.from({ length: n }, (_, i) => `v[${i}]`)];
  return new Function('cls', `return function emitShape(h, v) { cls.emit(${args.join(', ')}); };`)(cls) as
    Shape['emit'];
}

export class ShapeCache {
  private readonly shapes: Shape[] = [];
  private last: Shape | undefined;
  /** How many attributes a shape may have: the record's fields after the fixed ones. */
  readonly maxAttributes: number;
  /** The next record's fixed arguments, in the fixed fields' order: set them, then call record(). */
  readonly head: unknown[];

  /** `make`: the class for these fields (the fixed ones, then the attributes'), with this longest string. */
  constructor(private readonly fixed: Field[],
    private readonly make: (fields: Field[], maxStringBytes: number) => TracedEvent<unknown[]>) {
    this.maxAttributes = MAX_FIELDS - fixed.length;
    this.head = new Array<unknown>(fixed.length);
  }

  /**
   * Record the head and the first n walked attributes with their shape's
   * class (nothing while a session's selection leaves it out); false when no
   * class fits them.
   */
  record(n: number): boolean {
    const shape = this.find(n);
    const cls = shape?.cls;
    if (!cls) return false;
    if (cls.enabled) shape!.emit(this.head, values);
    return true;
  }

  /** The shape of the first n walked attributes; undefined past MAX_SHAPES. */
  private find(n: number): Shape | undefined {
    const last = this.last;
    if (last !== undefined && fits(last, n)) return last;
    for (const s of this.shapes) if (fits(s, n)) return this.last = s;
    if (this.shapes.length === MAX_SHAPES) return undefined;
    const cls = this.classFor(n);
    const s: Shape = { keys: keys.slice(0, n), types: types.slice(0, n), cls,
      emit: emitterFor(cls, this.fixed.length, n) };
    this.shapes.push(s);
    return this.last = s;
  }

  private classFor(n: number): TracedEvent<unknown[]> | null {
    const fields = this.fixed.slice();
    let strings = 0;
    for (const f of fields) if (f.type === 'string') strings++;
    for (let i = 0; i < n; i++) {
      const name = fieldOfKey(keys[i]!);
      if (name === undefined) return null;
      fields.push({ name, type: types[i]! });
      if (types[i] === 'string') strings++;
    }
    // Every string at its longest must fit the staging buffer with the rest.
    const max = Math.min(MAX_STRING, Math.floor((STAGING_BYTES - STAGING_SLACK - fixedSize(fields)) / strings) - 1);
    try {
      return this.make(fields, max);
    } catch {
      return null; // (not with the limits above; such attributes are then recorded as JSON)
    }
  }
}

function fits(s: Shape, n: number): boolean {
  if (s.keys.length !== n) return false;
  for (let i = 0; i < n; i++) if (s.keys[i] !== keys[i] || s.types[i] !== types[i]) return false;
  return true;
}
