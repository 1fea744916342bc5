// The .proto files ringtrace ships and the tags (field number << 3 | wire
// type) the hand-written encoders store, read from them (proto-fields.ts),
// never typed in: each field must exist, and its wire type be the one the
// encoder writes for it. The whole schema, with protobufjs, only when a
// caller asks for it (Perfetto's packet type, the tests).
import * as fs from 'node:fs';
import type * as protobuf from 'protobufjs';
import { WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from './protowire';
import { type ProtoField, readProtoFields } from './proto-fields';

export const WIRE_FIXED32 = 5;

/** The wire type of field f as protobuf encodes it (a repeated scalar: packed or one element at a time). */
function wireOf(f: ProtoField): number {
  if (f.kind === 'message' || f.type === 'string' || f.type === 'bytes') return WIRE_LEN;
  if (f.packed) return WIRE_LEN;
  return f.type === 'fixed64' || f.type === 'sfixed64' || f.type === 'double' ? WIRE_FIXED64
    : f.type === 'fixed32' || f.type === 'sfixed32' || f.type === 'float' ? WIRE_FIXED32 : WIRE_VARINT;
}

/** A shipped .proto file (field names kept as written) whose messages are in package `pkg`. */
export class ShippedProto {
  private root: protobuf.Root | undefined;
  private fields: Map<string, Map<string, ProtoField>> | undefined;

  constructor(readonly file: string, private readonly pkg: string) {}

  /** The schema, loaded once with protobufjs (loaded then too: the encoders' tags do not need it). */
  schema(): protobuf.Root {
    if (!this.root) {
      const pb = require('protobufjs') as typeof protobuf;
      this.root = new pb.Root().loadSync(this.file, { keepCase: true });
    }
    return this.root;
  }

  /**
   * Each named field's tag in message `type` (without the package): each
   * field must exist, and its wire type be the one the encoder writes.
   */
  tags<K extends string>(type: string, fields: Record<K, number>): Record<K, number> {
    this.fields ??= readProtoFields(fs.readFileSync(this.file, 'utf8'), this.file);
    const full = `${this.pkg}.${type}`;
    const message = this.fields.get(full);
    if (!message) throw new Error(`${this.file}: no message ${full}`);
    const out = {} as Record<K, number>;
    for (const name of Object.keys(fields) as K[]) {
      const f = message.get(name);
      if (!f) throw new Error(`${this.file}: ${full} has no field ${name}`);
      const wire = fields[name];
      if (wireOf(f) !== wire) throw new Error(`${this.file}: ${full}.${name} is ${f.type}, not what the encoder writes`);
      out[name] = f.number * 8 + wire;
    }
    return out;
  }
}
