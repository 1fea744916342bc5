// The fields of the .proto files ringtrace ships, read without protobufjs
// (loading and parsing with it cost an OTLP export ~22 ms at start): message
// and enum blocks (nested too), oneofs, and fields `[repeated|optional]
// type name = number [options];`. Anything else in a file is an error, so a
// schema this reader does not understand is never read wrongly;
// test/proto-fields.test.ts checks it against protobufjs field by field.

/** A field as the encoders need it: its number and how it is put on the wire. */
export interface ProtoField {
  number: number;
  /** A scalar type name, or the full name of a message or enum. */
  type: string;
  kind: 'scalar' | 'message' | 'enum';
  repeated: boolean;
  /** A repeated scalar written as one length-delimited run (proto3's default for numbers, or [packed = true]). */
  packed: boolean;
}

const SCALARS = new Set(['double', 'float', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32',
  'fixed64', 'sfixed32', 'sfixed64', 'bool', 'string', 'bytes']);

interface RawField { scope: string; name: string; type: string; number: number; repeated: boolean; packed?: boolean }

/** Every message's fields by full message name (`package.Outer.Inner`), then by field name. */
export function readProtoFields(text: string, file: string): Map<string, Map<string, ProtoField>> {
  const tokens = text.replace(/\/\/[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ') // (line comments first: they may hold '/*')
    .match(/"[^"]*"|[A-Za-z_][\w.]*|-?\d+|[{}=;[\],<>()]/g) ?? [];
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${file}: ${what} (near token ${i}: '${tokens[i] ?? 'end of file'}')`);
  };
  const take = (want?: string): string => {
    const t = tokens[i++];
    if (t === undefined || (want !== undefined && t !== want)) fail(`expected ${want ?? 'more'}`);
    return t!;
  };
  let pkg = '';
  let proto3 = false;
  const messages = new Set<string>();
  const enums = new Set<string>();
  const raw: RawField[] = [];
  const scopes: { name: string; kind: 'message' | 'enum' | 'oneof' }[] = [];
  const current = () => scopes.filter((s) => s.kind === 'message').map((s) => s.name).join('.');
  const full = (name: string) => [pkg, current(), name].filter(Boolean).join('.');
  while (i < tokens.length) {
    const t = take();
    if (t === 'syntax') {
      take('=');
      proto3 = take() === '"proto3"';
      take(';');
    } else if (t === 'package' && scopes.length === 0) {
      pkg = take();
      take(';');
    } else if (t === 'message' || t === 'enum') {
      const name = take();
      (t === 'message' ? messages : enums).add(full(name));
      take('{');
      scopes.push({ name, kind: t });
    } else if (t === 'oneof' && scopes.at(-1)?.kind === 'message') {
      take();
      take('{');
      scopes.push({ name: '', kind: 'oneof' });
    } else if (t === '}') {
      if (!scopes.pop()) fail('unbalanced }');
    } else if (scopes.at(-1)?.kind === 'enum') { // NAME = number;
      take('=');
      take();
      take(';');
    } else if (scopes.length) { // a field (of a message, or of a oneof in one)
      const repeated = t === 'repeated';
      const type = t === 'repeated' || t === 'optional' || t === 'required' ? take() : t;
      const name = take();
      take('=');
      const number = Number(take());
      if (!Number.isInteger(number) || number < 1 || number > 536870911) fail(`field ${name} has no valid number`);
      const field: RawField = { scope: full(''), name, type, number, repeated };
      if (tokens[i] === '[') { // options: only packed is read
        take('[');
        while (tokens[i] !== ']') {
          const option = take();
          if (option === 'packed') {
            take('=');
            field.packed = take() === 'true';
          } else if (option !== ',') {
            take('=');
            take();
          }
        }
        take(']');
      }
      take(';');
      raw.push(field);
    } else {
      fail(`'${t}' is not something this reader knows`);
    }
  }
  if (scopes.length) fail('a block is not closed');
  const out = new Map<string, Map<string, ProtoField>>();
  for (const m of messages) out.set(m, new Map());
  for (const f of raw) {
    const resolved = resolve(f.type, f.scope, messages, enums);
    if (!resolved) throw new Error(`${file}: ${f.scope}.${f.name} has type ${f.type}, which is not defined`);
    const kind = SCALARS.has(resolved) ? 'scalar' : messages.has(resolved) ? 'message' : 'enum';
    const packable = kind === 'enum' || (kind === 'scalar' && resolved !== 'string' && resolved !== 'bytes');
    out.get(f.scope)!.set(f.name, { number: f.number, type: resolved, kind, repeated: f.repeated,
      packed: f.repeated && packable && (f.packed ?? proto3) });
  }
  return out;
}

/** A field's type as protobuf resolves it: a scalar, or the innermost enclosing scope that defines the name. */
function resolve(type: string, scope: string, messages: Set<string>, enums: Set<string>): string | undefined {
  if (SCALARS.has(type)) return type;
  const parts = scope.split('.');
  for (let n = parts.length; n >= 0; n--) {
    const name = [...parts.slice(0, n), type].filter(Boolean).join('.');
    if (messages.has(name) || enums.has(name)) return name;
  }
  return undefined;
}
