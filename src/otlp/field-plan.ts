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
import type { ClassDescription, FieldType } from '../schema';
import type { ProtoWriter } from '../export/protowire';
import { putVarint, putVarint64 } from '../export/protowire';
import { utf8Slice } from '../buffer-internals';
import type { OtlpTags } from './schema';

const OP: Record<FieldType, number> = { u8: 1, i8: 2, bool: 3, u16: 4, i16: 5, u32: 6, i32: 7, f32: 8, f64: 9,
  u64: 10, i64: 11, string: 12, bytes: 13 };
/** A begin record's `trace_id` / `parent_span_id` strings: W3C ids (auto mode's server spans), not attributes. */
export const OP_TRACE_ID = 14;
export const OP_PARENT_ID = 15;
const SIZE = [0, 1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8, 1, 4, 1, 1]; // bytes each op needs at least

export interface FieldPlan {
  ops: Uint8Array;
  /** Per field: KeyValue.key's tag, length and bytes, then KeyValue.value's tag. */
  keys: Uint8Array[];
}

/**
 * The plan for fields [from, end) of cls, or null when a field is not one a
 * plan writes: a span record's `args` (JSON members become attributes).
 */
export function fieldPlan(cls: ClassDescription, from: number, T: OtlpTags): FieldPlan | null {
  const fields = cls.fields.slice(from);
  const spanRecord = cls.kind === 'span_begin' || cls.kind === 'span_end';
  if (spanRecord && fields.some((f) => f.name === 'args' && f.type === 'string')) return null;
  const ops = new Uint8Array(fields.length);
  const keys: Uint8Array[] = [];
  fields.forEach((f, i) => {
    ops[i] = cls.kind === 'span_begin' && f.type === 'string' && f.name === 'trace_id' ? OP_TRACE_ID
      : cls.kind === 'span_begin' && f.type === 'string' && f.name === 'parent_span_id' ? OP_PARENT_ID : OP[f.type];
    const name = Buffer.from(f.name, 'utf8');
    const key = new Uint8Array(name.length + 8);
    let p = putVarint(key, 0, T.kv.key);
    p = putVarint(key, p, name.length);
    key.set(name, p);
    p = putVarint(key, p + name.length, T.kv.value);
    keys.push(key.slice(0, p));
  });
  return { ops, keys };
}

/** Writes planned fields; remembers where a begin's W3C id strings were. */
export class PlannedFields {
  traceFrom = 0;
  traceTo = 0;
  parentFrom = 0;
  parentTo = 0;
  private readonly f64 = new Float64Array(1);
  private readonly f64Bytes = new Uint8Array(this.f64.buffer);

  constructor(private readonly T: OtlpTags) {}

  /**
   * Fields from d[o, end) as KeyValues under `tag`; false if the record does
   * not hold them (the caller decodes it to report the damage).
   */
  write(w: ProtoWriter, tag: number, plan: FieldPlan, d: Buffer, o: number, end: number): boolean {
    const A = this.T.any;
    const { ops, keys } = plan;
    this.traceTo = this.traceFrom = this.parentTo = this.parentFrom = 0;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (o + SIZE[op]! > end) return false;
      if (op >= OP.string) { // strings and bytes: their length first
        let to = o;
        if (op === OP.bytes) {
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
        this.open(w, tag, keys[i]!);
        const kv = w.pos - 1 - keys[i]!.length - 1;
        if (op === OP.bytes) {
          w.varint(A.bytes_value);
          copyRun(w, d, o + 4, to);
          o = to;
        } else {
          let high = 0;
          for (let j = o; j < to; j++) high |= d[j]!;
          w.varint(A.string_value);
          if (high < 0x80) copyRun(w, d, o, to); // ASCII: the bytes are the UTF-8
          else w.string(utf8Slice(d, o, to));
          o = to + 1;
        }
        this.close(w, kv, keys[i]!.length);
        continue;
      }
      this.open(w, tag, keys[i]!);
      const kv = w.pos - 1 - keys[i]!.length - 1;
      w.reserve(11);
      const b = w.buf;
      let p = w.pos;
      switch (op) {
        case OP.u8: b[p++] = A.int_value; p = putVarint(b, p, d[o]!); break;
        case OP.i8: b[p++] = A.int_value; p = putInt(b, p, d.readInt8(o)); break;
        case OP.bool: b[p++] = A.bool_value; b[p++] = d[o] !== 0 ? 1 : 0; break;
        case OP.u16: b[p++] = A.int_value; p = putVarint(b, p, d.readUInt16LE(o)); break;
        case OP.i16: b[p++] = A.int_value; p = putInt(b, p, d.readInt16LE(o)); break;
        case OP.u32: b[p++] = A.int_value; p = putVarint(b, p, d.readUInt32LE(o)); break;
        case OP.i32: b[p++] = A.int_value; p = putInt(b, p, d.readInt32LE(o)); break;
        case OP.f32: b[p++] = A.double_value; p = this.putDouble(b, p, d.readFloatLE(o)); break;
        case OP.f64: b[p++] = A.double_value; for (let j = 0; j < 8; j++) b[p++] = d[o + j]!; break;
        default: // u64, i64: the varint of int64 is that of the 64-bit two's complement
          b[p++] = A.int_value;
          p = putVarint64(b, p, d.readUInt32LE(o + 4), d.readUInt32LE(o));
      }
      w.pos = p;
      o += SIZE[op]!;
      this.close(w, kv, keys[i]!.length);
    }
    return true;
  }

  /** A KeyValue's tag, one-byte length (widened by close if need be), key, and AnyValue's tag and length. */
  private open(w: ProtoWriter, tag: number, key: Uint8Array): void {
    w.reserve(key.length + 8);
    w.varint(tag);
    const b = w.buf;
    let p = w.pos;
    b[p++] = 0; // the KeyValue's length, set by close
    for (let j = 0; j < key.length; j++) b[p++] = key[j]!;
    b[p++] = 0; // the AnyValue's length
    w.pos = p;
  }

  /** Set the lengths open() left at kv (the KeyValue's) and after its key (the AnyValue's). */
  private close(w: ProtoWriter, kv: number, keyLength: number): void {
    const any = kv + 1 + keyLength;
    const n = w.pos - kv - 1;
    if (n < 128) { // the common case: both lengths fit their byte
      w.buf[any] = w.pos - any - 1;
      w.buf[kv] = n;
      return;
    }
    w.endShort(any); // the AnyValue first: widening it moves what follows it, not what precedes
    w.endShort(kv);
  }

  private putDouble(b: Uint8Array, p: number, v: number): number {
    this.f64[0] = v;
    b.set(this.f64Bytes, p);
    return p + 8;
  }
}

/** d[from, to) as a length-delimited field's length and bytes (short runs: a loop beats a call into C++). */
function copyRun(w: ProtoWriter, d: Uint8Array, from: number, to: number): void {
  const n = to - from;
  w.varint(n);
  w.reserve(n);
  if (n > 32) {
    w.buf.set(d.subarray(from, to), w.pos);
  } else {
    const b = w.buf;
    const p = w.pos;
    for (let j = 0; j < n; j++) b[p + j] = d[from + j]!;
  }
  w.pos += n;
}

/** An int64 varint of a number (negatives: ten bytes of two's complement). */
function putInt(b: Uint8Array, p: number, v: number): number {
  if (v >= 0) return putVarint(b, p, v);
  const hi = Math.floor(v / 2 ** 32);
  return putVarint64(b, p, hi >>> 0, (v - hi * 2 ** 32) >>> 0);
}
