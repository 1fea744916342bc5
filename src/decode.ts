// Decoding typed records: the registry file maps class ids to descriptions,
// and each payload is the context (pid, tid) then the fields in schema order
// (layout in serializer.ts). Every read is bounds-checked; a record that does
// not match its class gives an error naming the class and the field.
import * as fs from 'node:fs';
import { type ClassDescription, parseDescription } from './schema';

export type FieldValue = number | bigint | boolean | string | Buffer;

export interface DecodedEvent {
  cls: ClassDescription;
  pid: number;
  tid: number;
  fields: Record<string, FieldValue>;
}

export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}

/** Parse registry text ("<id> <json>" lines) into a map; names the bad line. */
export function parseRegistry(text: string, where: string): Map<number, ClassDescription> {
  const classes = new Map<number, ClassDescription>();
  const lines = text.split('\n');
  if (!text.endsWith('\n')) lines.pop(); // a torn last line: its writer never got the id
  lines.forEach((line, i) => {
    if (line === '') return;
    const m = /^(\d+) (.*)$/.exec(line);
    try {
      if (!m) throw new Error('expected "<id> <description>"');
      classes.set(Number(m[1]), parseDescription(m[2] ?? ''));
    } catch (e) {
      throw new DecodeError(`${where}: line ${i + 1}: ${(e as Error).message}`);
    }
  });
  return classes;
}

export function readRegistry(path: string): Map<number, ClassDescription> {
  return parseRegistry(fs.readFileSync(path, 'utf8'), path);
}

const FIXED: Record<string, number> = { i8: 1, u8: 1, bool: 1, i16: 2, u16: 2, i32: 4, u32: 4,
  f32: 4, i64: 8, u64: 8, f64: 8 };

/** Decode one payload of class `cls`. */
export function decodePayload(cls: ClassDescription, payload: Buffer): DecodedEvent {
  const where = `${cls.provider}:${cls.name}`;
  if (payload.length < 8) throw new DecodeError(`${where}: payload of ${payload.length} bytes has no context`);
  const fields: Record<string, FieldValue> = {};
  let o = 8;
  for (const f of cls.fields) {
    const need = FIXED[f.type] ?? (f.type === 'bytes' ? 4 : 1);
    if (o + need > payload.length) {
      throw new DecodeError(`${where}: field '${f.name}' runs past the record (${payload.length} bytes)`);
    }
    switch (f.type) {
      case 'i8': fields[f.name] = payload.readInt8(o); break;
      case 'u8': fields[f.name] = payload.readUInt8(o); break;
      case 'bool': fields[f.name] = payload.readUInt8(o) !== 0; break;
      case 'i16': fields[f.name] = payload.readInt16LE(o); break;
      case 'u16': fields[f.name] = payload.readUInt16LE(o); break;
      case 'i32': fields[f.name] = payload.readInt32LE(o); break;
      case 'u32': fields[f.name] = payload.readUInt32LE(o); break;
      case 'f32': fields[f.name] = payload.readFloatLE(o); break;
      case 'f64': fields[f.name] = payload.readDoubleLE(o); break;
      case 'i64': fields[f.name] = payload.readBigInt64LE(o); break;
      case 'u64': fields[f.name] = payload.readBigUInt64LE(o); break;
      case 'string': {
        const end = payload.indexOf(0, o);
        if (end < 0) throw new DecodeError(`${where}: string field '${f.name}' is not terminated`);
        fields[f.name] = payload.toString('utf8', o, end);
        o = end + 1;
        continue;
      }
      case 'bytes': {
        const n = payload.readUInt32LE(o);
        if (n > payload.length - o - 4) {
          throw new DecodeError(`${where}: bytes field '${f.name}' claims ${n} bytes, ` +
            `${payload.length - o - 4} remain`);
        }
        fields[f.name] = Buffer.from(payload.subarray(o + 4, o + 4 + n));
        o += 4 + n;
        continue;
      }
    }
    o += need;
  }
  return { cls, pid: payload.readUInt32LE(0), tid: payload.readUInt32LE(4), fields };
}
