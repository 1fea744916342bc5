// Decoding typed records: the registry file maps class ids to descriptions,
// and each payload is the context (pid, tid) then the fields in schema order
// (layout in serializer.ts). Every read is bounds-checked; a record that does
// not match its class gives an error naming the class and the field.
import * as fs from 'node:fs';
import { type ClassDescription, parseDescription } from './schema';
import { TWO32 } from './int64';
import { utf8Slice } from './buffer-internals';

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

/**
 * Decode the fields of one record into `out` (one value per field, in schema
 * order), reading `buf[start, end)` (the payload: pid, tid, then the fields).
 * 64-bit integers are bigints, or with `safeNumbers` plain numbers when they
 * fit in 2^53 (readers that print them avoid a BigInt per value). Every read
 * is bounds-checked; a mismatch throws a DecodeError naming class and field.
 */
export function decodeValues(cls: ClassDescription, buf: Buffer, start: number, end: number, out: FieldValue[],
  safeNumbers = false): void {
  const fields = cls.fields;
  if (end - start < 8) {
    throw new DecodeError(`${cls.provider}:${cls.name}: payload of ${end - start} bytes has no context`);
  }
  let o = start + 8;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    const type = f.type;
    const need = FIXED[type] ?? (type === 'bytes' ? 4 : 1);
    if (o + need > end) {
      throw new DecodeError(`${cls.provider}:${cls.name}: field '${f.name}' runs past the record (${end - start} bytes)`);
    }
    let v: FieldValue;
    switch (type) {
      case 'i8': v = buf.readInt8(o); break;
      case 'u8': v = buf[o]!; break;
      case 'bool': v = buf[o] !== 0; break;
      case 'i16': v = buf.readInt16LE(o); break;
      case 'u16': v = buf.readUInt16LE(o); break;
      case 'i32': v = buf.readInt32LE(o); break;
      case 'u32': v = buf.readUInt32LE(o); break;
      case 'f32': v = buf.readFloatLE(o); break;
      case 'f64': v = buf.readDoubleLE(o); break;
      case 'u64': {
        const hi = buf.readUInt32LE(o + 4);
        v = safeNumbers && hi < 0x200000 ? hi * TWO32 + buf.readUInt32LE(o) : buf.readBigUInt64LE(o);
        break;
      }
      case 'i64': {
        const hi = buf.readInt32LE(o + 4);
        v = safeNumbers && hi < 0x200000 && hi >= -0x200000 ? hi * TWO32 + buf.readUInt32LE(o) : buf.readBigInt64LE(o);
        break;
      }
      case 'string': {
        // A JS scan for the NUL and Buffer's own UTF-8 slice: strings are short, and indexOf +
        // toString cost ~200 ns per string here (argument checks, C++ calls), this ~100 ns.
        let nul = o;
        while (nul < end && buf[nul] !== 0) nul++;
        if (nul >= end) {
          throw new DecodeError(`${cls.provider}:${cls.name}: string field '${f.name}' is not terminated`);
        }
        out[i] = nul === o ? '' : utf8Slice(buf, o, nul);
        o = nul + 1;
        continue;
      }
      default: { // bytes
        const n = buf.readUInt32LE(o);
        if (n > end - o - 4) {
          throw new DecodeError(`${cls.provider}:${cls.name}: bytes field '${f.name}' claims ${n} bytes, ` +
            `${end - o - 4} remain`);
        }
        out[i] = Buffer.from(buf.subarray(o + 4, o + 4 + n));
        o += 4 + n;
        continue;
      }
    }
    out[i] = v;
    o += need;
  }
}

/** Values from decodeValues as an object keyed by field name. */
export function fieldsObject(cls: ClassDescription, values: FieldValue[]): Record<string, FieldValue> {
  const fields: Record<string, FieldValue> = {};
  cls.fields.forEach((f, i) => { fields[f.name] = values[i]!; });
  return fields;
}

/** Decode one payload of class `cls`. */
export function decodePayload(cls: ClassDescription, payload: Buffer): DecodedEvent {
  const values: FieldValue[] = [];
  decodeValues(cls, payload, 0, payload.length, values);
  return { cls, pid: payload.readUInt32LE(0), tid: payload.readUInt32LE(4), fields: fieldsObject(cls, values) };
}
