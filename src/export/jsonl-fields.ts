// The fields of a JSON line, formatted straight from a record's bytes by a
// function generated once per class (as the emitters are, serializer.ts):
// each field's key is stored as constant bytes and its value converted with
// no per-field dispatch. Against a loop over the fields with a switch, this
// took a line of the export benchmark's mix from ~400 to ~300 ns here.
// Output is byte for byte jsonLine()'s (jsonl.ts); the function returns -1
// for anything it does not take (non-ASCII or control characters in a
// string, a record too short for its class), which the caller then hands
// to jsonLine.
import type { Field } from '../schema';
import { i32, u32 } from '../trace/le';
import { putAscii, putHex, putInt, putRaw, putUint } from './byteout';
import { FIXED_SIZE, fieldOps, OP_BOOL, OP_BYTES, OP_F32, OP_F64, OP_I16, OP_I32, OP_I64, OP_I8, OP_STRING,
  OP_U16, OP_U32, OP_U64, OP_U8 } from './field-ops';
import { wordStoresCode } from './words';
import { TWO32 } from '../int64';

/**
 * Writes a record's fields (d[o, end): after pid and tid) as JSON at b[p]
 * (`v`: a DataView of b, for the word writers); the offset after them, or -1.
 * May store up to WORD_SLACK bytes past that offset.
 */
export type FieldsWriter = (b: Uint8Array, v: DataView, p: number, d: Buffer, o: number, end: number) => number;

const TRUE = Buffer.from('true', 'latin1');
const FALSE = Buffer.from('false', 'latin1');

/** A float field: counters and measurements are mostly integers, printed without a string. */
function putNumber(b: Uint8Array, v: DataView, p: number, x: number, text: (x: number) => string): number {
  return Number.isSafeInteger(x) ? putInt(v, p, x) : putAscii(b, p, text(x));
}

/** Constant bytes as word stores (short ones: up to 3 bytes past them, overwritten by the value) or one copy. */
function constant(bytes: Buffer, name: string): string {
  if (bytes.length > 16) return `p = putRaw(b, p, ${name});`;
  return wordStoresCode(bytes);
}

function valueCode(op: number): string {
  switch (op) {
    case OP_U8: return 'p = putUint(v, p, d[o]); o += 1;';
    case OP_I8: return 'p = putInt(v, p, (d[o] << 24) >> 24); o += 1;';
    case OP_BOOL: return 'p = putRaw(b, p, d[o] !== 0 ? TRUE : FALSE); o += 1;';
    case OP_U16: return 'p = putUint(v, p, d[o] | (d[o + 1] << 8)); o += 2;';
    case OP_I16: return 'p = putInt(v, p, ((d[o] | (d[o + 1] << 8)) << 16) >> 16); o += 2;';
    case OP_U32: return 'p = putUint(v, p, u32(d, o)); o += 4;';
    case OP_I32: return 'p = putInt(v, p, i32(d, o)); o += 4;';
    case OP_F32: return 'p = putNumber(b, v, p, d.readFloatLE(o), text); o += 4;';
    case OP_F64: return 'p = putNumber(b, v, p, d.readDoubleLE(o), text); o += 8;';
    case OP_U64: return `{ const hi = u32(d, o + 4);
  p = hi < 0x200000 ? putUint(v, p, hi * TWO32 + u32(d, o)) : putAscii(b, p, '"' + d.readBigUInt64LE(o) + '"');
  o += 8; }`;
    case OP_I64: return `{ const hi = i32(d, o + 4);
  p = hi < 0x200000 && hi >= -0x200000 ? putInt(v, p, hi * TWO32 + u32(d, o))
    : putAscii(b, p, '"' + d.readBigInt64LE(o) + '"');
  o += 8; }`;
    case OP_STRING:
      // ASCII without control characters, '"' and '\\' escaped (two bytes each: callers
      // reserve twice the record's size); anything else takes jsonLine's escaping and UTF-8 checks
      return `b[p++] = 34;
for (; o < end; o++) {
  const ch = d[o];
  if (ch === 0) break;
  if (ch < 0x20 || ch > 0x7f) return -1;
  if (ch === 34 || ch === 92) b[p++] = 92;
  b[p++] = ch;
}
if (o >= end) return -1;
b[p++] = 34; o += 1;`;
    case OP_BYTES: return `{ const n = u32(d, o);
  if (n > end - o - 4) return -1;
  b[p++] = 34;
  p = putHex(b, p, d, o + 4, o + 4 + n);
  b[p++] = 34; o += 4 + n; }`;
    default: throw new Error(`unknown field op ${op}`);
  }
}

/**
 * The writer of a class's fields. `keys[i]` is field i's key as JSON
 * (`"name":`, with the comma before it for i > 0); the first key is not
 * written (the caller's line prefix holds it). `text` prints a non-integer
 * number as jsonLine does.
 */
export function compileFields(fields: readonly Field[], keys: Buffer[], text: (v: number) => string): FieldsWriter {
  const ops = fieldOps(fields);
  const body: string[] = [];
  // One bounds check per run of fixed-size fields (and the first byte of the variable one after it).
  for (let i = 0; i < ops.length; i++) {
    const fixedRun = i === 0 || ops[i - 1] === OP_STRING || ops[i - 1] === OP_BYTES;
    if (fixedRun) {
      let need = 0;
      for (let j = i; j < ops.length; j++) {
        need += FIXED_SIZE[ops[j]!]!;
        if (ops[j] === OP_STRING || ops[j] === OP_BYTES) break;
      }
      body.push(`if (o + ${need} > end) return -1;`);
    }
    if (i > 0) body.push(constant(keys[i]!, `K[${i}]`));
    body.push(valueCode(ops[i]!));
  }
  body.push('return p;');
  const make = new Function('K', 'putRaw', 'putAscii', 'putInt', 'putUint', 'putNumber', 'u32', 'i32', 'TRUE',
    'FALSE', 'putHex', 'TWO32', 'text',
    `return function fields(b, v, p, d, o, end) {\n${body.join('\n')}\n};`) as (...a: unknown[]) => FieldsWriter;
  return make(keys, putRaw, putAscii, putInt, putUint, putNumber, u32, i32, TRUE, FALSE, putHex, TWO32, text);
}
