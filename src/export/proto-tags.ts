// The .proto files ringtrace ships (loaded with protobufjs when first used)
// and the tags (field number << 3 | wire type) the hand-written encoders
// store, read from them, never typed in: each field must exist, and its wire
// type be the one the encoder writes for it.
import * as protobuf from 'protobufjs';
import { WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './protowire';

export const WIRE_FIXED32 = 5;

/** The wire type of field f as protobuf encodes it (a repeated scalar: packed or one element at a time). */
function wireOf(f: protobuf.Field): number {
  if (f.resolvedType instanceof protobuf.Type || f.type === 'string' || f.type === 'bytes') return WIRE_LEN;
  if (f.repeated && f.packed) return WIRE_LEN;
  return f.type === 'fixed64' || f.type === 'sfixed64' || f.type === 'double' ? WIRE_FIXED64
    : f.type === 'fixed32' || f.type === 'sfixed32' || f.type === 'float' ? WIRE_FIXED32 : WIRE_VARINT;
}

/** Each named field's tag in message `type` of `root` (loaded from `file`, named in errors). */
export function protoTags<K extends string>(root: protobuf.Root, file: string, type: string,
  fields: Record<K, number>): Record<K, number> {
  const t = root.lookupType(type);
  const out = {} as Record<K, number>;
  for (const name of Object.keys(fields) as K[]) {
    const f = t.fields[name];
    if (!f) throw new Error(`${file}: ${type} has no field ${name}`);
    const wire = fields[name];
    if (wireOf(f.resolve()) !== wire) throw new Error(`${file}: ${type}.${name} is ${f.type}, not what the encoder writes`);
    out[name] = f.id * 8 + wire;
  }
  return out;
}

/** A shipped .proto file (field names kept as written) whose messages are in package `pkg`. */
export class ShippedProto {
  private root: protobuf.Root | undefined;

  constructor(readonly file: string, private readonly pkg: string) {}

  /** The schema, loaded once. */
  schema(): protobuf.Root {
    this.root ??= new protobuf.Root().loadSync(this.file, { keepCase: true });
    return this.root;
  }

  /** The tags of fields of message `type` (without the package), see protoTags. */
  tags<K extends string>(type: string, fields: Record<K, number>): Record<K, number> {
    return protoTags(this.schema(), this.file, `${this.pkg}.${type}`, fields);
  }
}
