// Event schemas: field specs like 'status:u16', their TypeScript value types,
// validation at definition time, and the canonical description registered with
// the session (the consumer builds CTF metadata from it).

export const FIELD_TYPES = ['i8', 'i16', 'i32', 'i64', 'u8', 'u16', 'u32', 'u64', 'f32', 'f64',
  'bool', 'string', 'bytes'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** A field: `name:type`, e.g. `'status:u16'`, `'path:string'`. */
export type FieldSpec = `${string}:${FieldType}`;

/** The JavaScript value a field of type T accepts. */
export type ValueOf<T> = T extends 'i64' | 'u64' ? number | bigint
  : T extends 'bool' ? boolean
  : T extends 'string' ? string
  : T extends 'bytes' ? Uint8Array
  : T extends FieldType ? number
  : never;

/** emit's parameter tuple for a schema (order and types follow the specs). */
export type ArgsOf<S extends readonly FieldSpec[]> = {
  -readonly [K in keyof S]: S[K] extends `${string}:${infer T}` ? ValueOf<T> : never;
};

export type RecordKind = 'event' | 'span_begin' | 'span_end' | 'counter';

/** How a class is shown in traces: `provider:name`, with `:begin` / `:end`
 *  for span records (':' cannot occur in names, so this never clashes). */
export function displayName(c: { provider: string; name: string; kind: RecordKind }): string {
  const suffix = c.kind === 'span_begin' ? ':begin' : c.kind === 'span_end' ? ':end' : '';
  return `${c.provider}:${c.name}${suffix}`;
}

export interface Field {
  name: string;
  type: FieldType;
}

/** What the registry stores for a class (JSON, keys in this order). */
export interface ClassDescription {
  v: 1;
  provider: string;
  name: string;
  kind: RecordKind;
  fields: Field[];
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const PROVIDER = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
/** Names the record context and CTF use; a field of the same name would be ambiguous. */
const RESERVED_FIELDS = new Set(['pid', 'tid', 'timestamp', 'id', 'cpu']);
export const MAX_FIELDS = 64;

export function checkProviderName(name: unknown): string {
  if (typeof name !== 'string' || !PROVIDER.test(name)) {
    throw new TypeError(`ringtrace: provider name ${JSON.stringify(name)} must match ${PROVIDER}`);
  }
  return name;
}

export function checkEventName(provider: string, name: unknown): string {
  if (typeof name !== 'string' || !IDENT.test(name)) {
    throw new TypeError(`ringtrace: event name ${JSON.stringify(name)} in provider '${provider}' ` +
      `must be an identifier (letters, digits, _; at most 64 characters)`);
  }
  return name;
}

/** Parse and validate field specs; throws a TypeError naming the bad spec. */
export function parseFields(where: string, specs: unknown): Field[] {
  if (!Array.isArray(specs)) {
    throw new TypeError(`ringtrace: ${where}: fields must be an array of 'name:type' strings, ` +
      `e.g. ['method:string', 'status:u16']`);
  }
  if (specs.length > MAX_FIELDS) {
    throw new TypeError(`ringtrace: ${where}: ${specs.length} fields; at most ${MAX_FIELDS}`);
  }
  const seen = new Set<string>();
  return specs.map((spec: unknown, i): Field => {
    const m = typeof spec === 'string' ? /^([^:]*):(.*)$/.exec(spec) : null;
    if (!m) {
      throw new TypeError(`ringtrace: ${where}: field ${i} is ${JSON.stringify(spec)}; ` +
        `expected 'name:type'`);
    }
    const [, name = '', type = ''] = m;
    if (!IDENT.test(name)) {
      throw new TypeError(`ringtrace: ${where}: field name ${JSON.stringify(name)} must be an identifier`);
    }
    if (RESERVED_FIELDS.has(name)) {
      throw new TypeError(`ringtrace: ${where}: field name '${name}' is reserved ` +
        `(${[...RESERVED_FIELDS].join(', ')})`);
    }
    if (!(FIELD_TYPES as readonly string[]).includes(type)) {
      throw new TypeError(`ringtrace: ${where}: field '${name}' has unknown type ` +
        `${JSON.stringify(type)}; use one of ${FIELD_TYPES.join(', ')}`);
    }
    if (seen.has(name)) throw new TypeError(`ringtrace: ${where}: field '${name}' appears twice`);
    seen.add(name);
    return { name, type: type as FieldType };
  });
}

/** The registry line for a class: deterministic, so every process gets the same id. */
export function describe(provider: string, name: string, kind: RecordKind, fields: Field[]): string {
  const d: ClassDescription = {
    v: 1, provider, name, kind, fields: fields.map((f) => ({ name: f.name, type: f.type })),
  };
  return JSON.stringify(d);
}

/** Parse a registry description; throws if it is not one of ours. */
export function parseDescription(text: string): ClassDescription {
  const d = JSON.parse(text) as ClassDescription;
  if (d === null || typeof d !== 'object' || d.v !== 1 || typeof d.provider !== 'string' ||
      typeof d.name !== 'string' || !Array.isArray(d.fields) ||
      !['event', 'span_begin', 'span_end', 'counter'].includes(d.kind)) {
    throw new Error('not a ringtrace class description');
  }
  // Each field an object of two strings: `${undefined}:${type}` would pass as a field named 'undefined'.
  const fields: unknown[] = d.fields;
  if (!fields.every((f) => f !== null && typeof f === 'object' && typeof (f as Field).name === 'string' &&
      typeof (f as Field).type === 'string')) {
    throw new Error('not a ringtrace class description: a field is not {name, type}');
  }
  // The fields as checked, not the parsed objects (which may carry anything else).
  return { v: 1, provider: d.provider, name: d.name, kind: d.kind,
    fields: parseFields(`${d.provider}:${d.name}`, d.fields.map((f) => `${f.name}:${f.type}`)) };
}
