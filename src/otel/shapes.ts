// Record classes made per shape of OpenTelemetry attributes: the keys in
// order and each value's kind (string, number, boolean), so a span's or an
// event's attributes are written as typed fields, with no keys and no JSON
// in the record. The caller walks its attributes into `keys`, `types` and
// `values` (this module's scratch lists) and asks for the shape of the
// first n, or asks for the shape of a key/value list it keeps; a shape is
// made the first time it is seen, at most MAX_SHAPES per cache. A shape
// whose keys cannot all be field names has no class: its callers record
// such attributes as JSON.
import type { TracedEvent } from '../event';
import { type Field, type FieldType, MAX_FIELDS } from '../schema';
import { fixedSize, STAGING_BYTES, STAGING_SLACK } from '../serializer';
import { fieldOfKey } from './typed-classes';

/** Shapes made at most, per cache and thread: keys made of data would otherwise make a class per record. */
export const MAX_SHAPES = 256;
/** The longest string a record keeps (UTF-8 bytes): exception stacks and attributes run long. */
export const MAX_STRING = 8192;

/** A value's kind as typeOf says it: small integers, compared without a string compare's call. */
export const NOT_TYPED = 0;
const TYPE_CODES: readonly (FieldType | undefined)[] = [undefined, 'string', 'f64', 'bool'];

/** The walked attributes (valid until the next walk): keys, typeOf codes, values. */
export const keys: string[] = [];
export const types: number[] = [];
export const values: unknown[] = [];

/**
 * A value's kind (its field type's code), or NOT_TYPED when it is no
 * attribute value a typed field holds (arrays among them). typeof compared
 * with literals: TurboFan makes each a type check, where a kept `typeof`
 * result calls a builtin.
 */
export function typeOf(v: unknown): number {
  return typeof v === 'string' ? 1 : typeof v === 'number' ? 2 : typeof v === 'boolean' ? 3 : NOT_TYPED;
}

export interface Shape {
  keys: string[];
  /** typeOf codes. */
  types: number[];
  /** null: no typed record for this shape. */
  cls: TracedEvent<unknown[]> | null;
  /**
   * cls.emit(the fixed arguments, then the attributes' values read from the
   * last argument, a list as the cache's `valueAt` reads it).
   */
  emit: (...fixedThenValues: unknown[]) => void;
}

/**
 * cls.emit(h0, ..., v[...]) for `fixed` fixed arguments and n attributes read
 * from the list v (`valueAt(i)`: the i-th value's index), as a function made
 * once per shape (from indexes only; emit read at each call, as strict mode
 * or a filter rebuilds it). Its callers call it themselves, each from its own
 * call site: one that sees one shape (an app's spans of one kind) has V8
 * inline it and the class's emit. It replaced copying the arguments into a
 * list kept per shape (a write barrier per young value) and one call site
 * shared by events and ends (a generic call, nothing inlined).
 */
function emitterFor(cls: TracedEvent<unknown[]> | null, fixed: number, n: number,
  valueAt: (i: number) => number): Shape['emit'] {
  if (!cls) return () => {};
  const params = Array.from({ length: fixed }, (_, i) => `h${i}`);
  const args = [...params, ...Array.from({ length: n }, (_, i) => `v[${valueAt(i)}]`)];
  const body = `return function emitShape(${[...params, 'v'].join(', ')}) { cls.emit(${args.join(', ')}); };`;
  return new Function('cls', body)(cls) as Shape['emit'];
}

export class ShapeCache {
  private readonly shapes: Shape[] = [];
  /** The shape found last: a walk compares its attributes with it as it goes (seen again, nothing is stored). */
  last: Shape | undefined;
  /** How many attributes a shape may have: the record's fields after the fixed ones. */
  readonly maxAttributes: number;

  /**
   * `make`: the class for these fields (the fixed ones, then the attributes'),
   * with this longest string; `valueAt(i)`: where the i-th attribute's value
   * is in the list the callers give emit.
   */
  constructor(private readonly fixed: Field[],
    private readonly make: (fields: Field[], maxStringBytes: number) => TracedEvent<unknown[]>,
    private readonly valueAt: (i: number) => number) {
    this.maxAttributes = MAX_FIELDS - fixed.length;
  }

  /** The shape of the first n walked attributes (keys, types); undefined past MAX_SHAPES. */
  find(n: number): Shape | undefined {
    const last = this.last;
    if (last !== undefined && fits(last, n)) return last;
    for (const s of this.shapes) if (fits(s, n)) return this.last = s;
    if (this.shapes.length === MAX_SHAPES) return undefined;
    const cls = this.classFor(n);
    const s: Shape = { keys: keys.slice(0, n), types: types.slice(0, n), cls,
      emit: emitterFor(cls, this.fixed.length, n, this.valueAt) };
    this.shapes.push(s);
    return this.last = s;
  }

  /**
   * For a walk that found its first n attributes the same as the last
   * shape's and the next one not: those n as walked (keys, types). Returns false.
   */
  walkedAsLast(n: number): false {
    const last = this.last!;
    for (let i = 0; i < n; i++) {
      keys[i] = last.keys[i]!;
      types[i] = last.types[i]!;
    }
    return false;
  }

  /**
   * The shape of the attributes in the list kv (key, value, ...), compared
   * with the last shape in place; undefined when none fits (an array value,
   * too many, past MAX_SHAPES).
   */
  ofPairs(kv: readonly unknown[]): Shape | undefined {
    const last = this.last;
    if (last !== undefined && pairsFit(last, kv)) return last;
    if (kv.length > 2 * this.maxAttributes) return undefined;
    let n = 0;
    for (let i = 0; i < kv.length; i += 2) {
      const type = typeOf(kv[i + 1]);
      if (type === NOT_TYPED) return undefined; // an array
      keys[n] = kv[i] as string;
      types[n++] = type;
    }
    return this.find(n);
  }

  private classFor(n: number): TracedEvent<unknown[]> | null {
    const fields = this.fixed.slice();
    let strings = 0;
    for (const f of fields) if (f.type === 'string') strings++;
    for (let i = 0; i < n; i++) {
      const name = fieldOfKey(keys[i]!);
      if (name === undefined) return null;
      const type = TYPE_CODES[types[i]!]!;
      fields.push({ name, type });
      if (type === 'string') strings++;
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

function pairsFit(s: Shape, kv: readonly unknown[]): boolean {
  if (2 * s.keys.length !== kv.length) return false;
  for (let i = 0; i < s.keys.length; i++) {
    if (s.keys[i] !== kv[2 * i] || s.types[i] !== typeOf(kv[2 * i + 1])) return false;
  }
  return true;
}
