// A record's typed fields written as OTLP KeyValues straight from its bytes,
// without decoding them into JS values first: per class, a plan of one op
// per field and each key's bytes made once. Decoding every field (strings
// included) into values and then encoding those cost an export most of its
// time per span. Classes a plan cannot take (span(name, fields)'s JSON,
// OpenTelemetry's spans) go through the decoded values instead.
//
// Values as the general path writes them (anyvalue.ts): integers as
// int_value (a u64 of 2^63 or more wraps, as int64 must), f32/f64 as
// double_value, bool, strings (invalid UTF-8 through a JS string, so it
// becomes U+FFFD as every other reader shows it), bytes as bytes_value.
import type { ClassDescription } from '../schema';
import { FIXED_SIZE, fieldOps, OP_BOOL, OP_BYTES, OP_F32, OP_F64, OP_I16, OP_I32, OP_I64, OP_I8, OP_STRING, OP_U16,
  OP_U32, OP_U64, OP_U8 } from '../export/field-ops';
import type { ProtoWriter } from '../export/protowire';
import { putDouble, putInt64, putVarint, putVarint64 } from '../export/protowire';
import { wordStoresCode } from '../export/words';
import { i32, u32 } from '../trace/le';
import { utf8Slice } from '../buffer-internals';
import type { OtlpTags } from './schema';

/** A begin record's `trace_id` / `parent_span_id` strings: W3C ids (auto mode's server spans), not attributes. */
const OP_TRACE_ID = OP_BYTES + 1;
const OP_PARENT_ID = OP_BYTES + 2;
const SIZE = [...FIXED_SIZE, 1, 1]; // bytes each op needs at least (the id strings: their NUL)

export interface FieldPlan {
  ops: Uint8Array;
  /** Per field: KeyValue.key's tag, length and bytes, then KeyValue.value's tag. */
  keys: Uint8Array[];
  /** The KeyValues' leading bytes per attribute tag (span, event or log attributes): see templates(). */
  byTag: Map<number, Templates>;
  /** The last tag asked for and its templates (a plan's records come under one tag: no Map lookup per record). */
  lastTag: number;
  last: Templates | null;
}

/** Per field, a KeyValue up to its value: tag, length byte, key part, AnyValue length byte. */
interface Templates {
  parts: Uint8Array[];
  tagBytes: number; // where the KeyValue's length byte is in each part
  bytes: number; // of all parts
  /** The common case as straight-line code (see compileFast); null: the plan has fields it leaves to write(). */
  fast: FastWriter | null;
}

/** Writes the fields at b[p] (`v` views b, `dv` views d); the offset after them, or -1: leave this record to write(). */
type FastWriter = (b: Uint8Array, v: DataView, p: number, d: Buffer, dv: DataView, o: number, end: number) => number;

function templates(plan: FieldPlan, tag: number, A: OtlpTags['any']): Templates {
  if (tag === plan.lastTag) return plan.last!;
  let t = plan.byTag.get(tag);
  if (!t) {
    const tagBytes = new Uint8Array(10);
    const n = putVarint(tagBytes, 0, tag);
    const parts = plan.keys.map((key) => {
      const part = new Uint8Array(n + 1 + key.length + 1); // the two length bytes stay 0 until set
      part.set(tagBytes.subarray(0, n), 0);
      part.set(key, n + 1);
      return part;
    });
    t = { parts, tagBytes: n, bytes: parts.reduce((sum, part) => sum + part.length, 0), fast: null };
    t.fast = compileFast(plan, t, A);
    plan.byTag.set(tag, t);
  }
  plan.lastTag = tag;
  plan.last = t;
  return t;
}

/**
 * A plan's fields as one generated function (as the emitters and the JSON
 * lines writer are): each KeyValue's constant bytes as word stores and its
 * value without a per-field switch. It takes the common case only: short
 * ASCII strings and KeyValues under 128 bytes; anything else returns -1 and
 * write()'s loop does the record, so the bytes are the same either way.
 * With an event per span the loop's dispatch was a fifth of an export.
 */
function compileFast(plan: FieldPlan, t: Templates, A: OtlpTags['any']): FastWriter | null {
  const ops = [...plan.ops];
  if (ops.some((op) => op === OP_BYTES || op > OP_BYTES)) return null; // bytes, W3C id strings: the loop's
  const body: string[] = ['let t = 0, kv = 0, any = 0, n = 0, high = 0, c = 0, x = 0;'];
  ops.forEach((op, i) => {
    const part = t.parts[i]!;
    if (op !== OP_STRING) body.push(`if (o + ${SIZE[op]} > end) return -1;`); // (a string is checked as it is copied)
    body.push(`kv = p + ${t.tagBytes}; any = p + ${part.length - 1};`);
    body.push(wordStoresCode(part));
    switch (op) {
      case OP_U8: body.push(`b[p++] = ${A.int_value}; p = putVarint(b, p, d[o]); o += 1;`); break;
      case OP_I8: body.push(`b[p++] = ${A.int_value}; p = putInt64(b, p, (d[o] << 24) >> 24); o += 1;`); break;
      case OP_BOOL: body.push(`b[p++] = ${A.bool_value}; b[p++] = d[o] !== 0 ? 1 : 0; o += 1;`); break;
      case OP_U16: body.push(`b[p++] = ${A.int_value}; p = putVarint(b, p, d[o] | (d[o + 1] << 8)); o += 2;`); break;
      case OP_I16:
        body.push(`b[p++] = ${A.int_value}; p = putInt64(b, p, ((d[o] | (d[o + 1] << 8)) << 16) >> 16); o += 2;`);
        break;
      case OP_U32: body.push(`b[p++] = ${A.int_value}; p = putVarint(b, p, u32(d, o)); o += 4;`); break;
      case OP_I32: body.push(`b[p++] = ${A.int_value}; p = putInt64(b, p, i32(d, o)); o += 4;`); break;
      case OP_F32: body.push(`b[p++] = ${A.double_value}; p = putDouble(b, p, d.readFloatLE(o)); o += 4;`); break;
      case OP_F64: body.push(`b[p++] = ${A.double_value}; for (let j = 0; j < 8; j++) b[p++] = d[o + j]; o += 8;`); break;
      case OP_U64: case OP_I64:
        body.push(`b[p++] = ${A.int_value}; p = putVarint64(b, p, u32(d, o + 4), u32(d, o)); o += 8;`);
        break;
      default: // a string: its bytes as they are when ASCII, copied up to its NUL in one pass, length set after:
        // by words while a word (inside the record) holds no NUL and no byte >= 0x80 (a byte of 0 borrows,
        // one >= 0x80 has its top bit: either sets a top bit in (x - 0x01010101) | x), then by bytes
        body.push(`b[p++] = ${A.string_value}; t = p++; high = 0;`,
          'while (o + 4 <= end && ((((x = dv.getUint32(o, true)) - 0x01010101) | x) & 0x80808080) === 0) ' +
            '{ v.setUint32(p, x, true); p += 4; o += 4; }',
          'while (o < end && (c = d[o]) !== 0) { high |= c; b[p++] = c; o++; }',
          'if (o >= end || high >= 0x80) return -1; b[t] = p - t - 1; o++;'); // (under 128: the KeyValue's check below)
    }
    body.push('n = p - kv - 1; if (n >= 128) return -1; b[any] = p - any - 1; b[kv] = n;');
  });
  body.push('return p;');
  const make = new Function('putVarint', 'putVarint64', 'putInt64', 'putDouble', 'u32', 'i32',
    `return function fields(b, v, p, d, dv, o, end) {\n${body.join('\n')}\n};`) as (...a: unknown[]) => FastWriter;
  return make(putVarint, putVarint64, putInt64, putDouble, u32, i32);
}

/**
 * The plan for fields [from, end) of cls, or null when a field is not one a
 * plan writes: a span record's `args` (JSON members become attributes).
 */
export function fieldPlan(cls: ClassDescription, from: number, T: OtlpTags): FieldPlan | null {
  const fields = cls.fields.slice(from);
  const spanRecord = cls.kind === 'span_begin' || cls.kind === 'span_end';
  if (spanRecord && fields.some((f) => f.name === 'args' && f.type === 'string')) return null;
  const ops = fieldOps(fields);
  const keys = fields.map((f, i) => {
    if (cls.kind === 'span_begin' && f.type === 'string' && f.name === 'trace_id') ops[i] = OP_TRACE_ID;
    if (cls.kind === 'span_begin' && f.type === 'string' && f.name === 'parent_span_id') ops[i] = OP_PARENT_ID;
    const name = Buffer.from(f.name, 'utf8');
    const key = new Uint8Array(name.length + 8);
    let p = putVarint(key, 0, T.kv.key);
    p = putVarint(key, p, name.length);
    key.set(name, p);
    p = putVarint(key, p + name.length, T.kv.value);
    return key.slice(0, p);
  });
  return { ops, keys, byTag: new Map(), lastTag: -1, last: null };
}

/** Writes planned fields; remembers where a begin's W3C id strings were. */
export class PlannedFields {
  traceFrom = 0;
  traceTo = 0;
  parentFrom = 0;
  parentTo = 0;

  constructor(private readonly T: OtlpTags) {}

  /**
   * Fields from d[o, end) (`dv` views d) as KeyValues under `tag`; false if the record does
   * not hold them (the caller decodes it to report the damage). Room for the
   * whole record is made once; bytes go through local variables (a call per
   * byte run cost more than the bytes), and the rare long value or non-ASCII
   * string goes through the writer's own methods.
   */
  write(w: ProtoWriter, tag: number, plan: FieldPlan, d: Buffer, dv: DataView, o: number, end: number): boolean {
    const A = this.T.any;
    const ops = plan.ops;
    const tpl = templates(plan, tag, A);
    this.traceTo = this.traceFrom = this.parentTo = this.parentFrom = 0;
    const room = tpl.bytes + 16 * ops.length + (end - o); // a string's bytes are at most the record's
    w.reserve(room);
    if (tpl.fast) {
      const q = tpl.fast(w.buf, w.view, w.pos, d, dv, o, end);
      if (q >= 0) {
        w.pos = q;
        return true;
      }
    }
    let b = w.buf;
    let p = w.pos;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (o + SIZE[op]! > end) return false;
      let to = o;
      if (op >= OP_STRING) { // strings and bytes: find their end first
        if (op === OP_BYTES) {
          to = o + 4 + d.readUInt32LE(o);
          if (to > end) return false;
        } else {
          while (to < end && d[to] !== 0) to++;
          if (to >= end) return false;
        }
        if (op === OP_TRACE_ID || op === OP_PARENT_ID) {
          if (op === OP_TRACE_ID) [this.traceFrom, this.traceTo] = [o, to];
          else [this.parentFrom, this.parentTo] = [o, to];
          o = to + 1;
          continue;
        }
      }
      const t = tpl.parts[i]!; // the KeyValue's tag, length (0 for now), key, AnyValue's tag and length (0)
      for (let j = 0; j < t.length; j++) b[p + j] = t[j]!;
      const kv = p + tpl.tagBytes;
      const any = p + t.length - 1;
      p += t.length;
      switch (op) {
        case OP_U8: b[p++] = A.int_value; p = putVarint(b, p, d[o]!); break;
        case OP_I8: b[p++] = A.int_value; p = putInt64(b, p, d.readInt8(o)); break;
        case OP_BOOL: b[p++] = A.bool_value; b[p++] = d[o] !== 0 ? 1 : 0; break;
        case OP_U16: b[p++] = A.int_value; p = putVarint(b, p, d.readUInt16LE(o)); break;
        case OP_I16: b[p++] = A.int_value; p = putInt64(b, p, d.readInt16LE(o)); break;
        case OP_U32: b[p++] = A.int_value; p = putVarint(b, p, d.readUInt32LE(o)); break;
        case OP_I32: b[p++] = A.int_value; p = putInt64(b, p, d.readInt32LE(o)); break;
        case OP_F32: b[p++] = A.double_value; p = putDouble(b, p, d.readFloatLE(o)); break;
        case OP_F64: b[p++] = A.double_value; for (let j = 0; j < 8; j++) b[p++] = d[o + j]!; break;
        case OP_U64: case OP_I64: // the varint of int64 is that of the 64-bit two's complement
          b[p++] = A.int_value;
          p = putVarint64(b, p, d.readUInt32LE(o + 4), d.readUInt32LE(o));
          break;
        case OP_BYTES:
          b[p++] = A.bytes_value;
          p = putVarint(b, p, to - o - 4);
          for (let j = o + 4; j < to; j++) b[p++] = d[j]!;
          break;
        default: { // a string: its bytes copied as they are if ASCII (then they are its UTF-8)
          b[p++] = A.string_value;
          const at = p;
          p = putVarint(b, p, to - o);
          let high = 0;
          for (let j = o; j < to; j++) high |= (b[p++] = d[j]!);
          if (high >= 0x80) { // through a JS string: invalid UTF-8 becomes U+FFFD, as every other reader shows it
            w.pos = at - 1;
            w.varint(A.string_value);
            w.string(utf8Slice(d, o, to));
            w.reserve(room);
            b = w.buf;
            p = w.pos;
          }
        }
      }
      o = op >= OP_STRING ? (op === OP_BYTES ? to : to + 1) : o + SIZE[op]!;
      const n = p - kv - 1;
      if (n < 128) { // both lengths fit their byte: the common case
        b[any] = p - any - 1;
        b[kv] = n;
      } else { // widen them (the AnyValue's first: widening moves what follows, not what precedes)
        w.pos = p;
        w.endShort(any);
        w.endShort(kv);
        w.reserve(room);
        b = w.buf;
        p = w.pos;
      }
    }
    w.pos = p;
    return true;
  }
}
