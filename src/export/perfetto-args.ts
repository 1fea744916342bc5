// Track event arguments (debug annotations). The planned path writes a
// record's typed fields straight from its bytes, one op per field (the plan:
// perfetto-plan.ts), and span(name, fields)' JSON members found in place by
// FlatJson; the general path writes decoded values (record-args.ts). Both
// give the same bytes for the same values: integers as int64 (uint64 only
// above 2^63), other numbers as doubles, bytes as hex text, strings as UTF-8
// with invalid sequences as U+FFFD.
import type { FieldValue } from '../decode';
import { utf8Slice } from '../buffer-internals';
import { u32 } from '../trace/le';
import { putHex } from './byteout';
import { FIXED_SIZE, OP_BOOL, OP_BYTES, OP_F32, OP_F64, OP_I16, OP_I32, OP_I64, OP_I8, OP_STRING, OP_U16, OP_U32,
  OP_U64, OP_U8 } from './field-ops';
import { FlatJson, MEMBER_DOUBLE, MEMBER_INT, MEMBER_STRING, MEMBER_TRUE } from './flat-json';
import type { Interning, Sequence } from './perfetto-interning';
import type { EventPlan } from './perfetto-plan';
import { ANNOTATION_MAX, type Tags } from './perfetto-schema';
import { type ProtoWriter, putDouble, putInt64, putVarint, putVarint64, tagAndVarint } from './protowire';
import { copyBytes, putWords } from './words';

/** 8 bytes from src (at o) to v (at p), as two words. */
export function copy8(v: DataView, p: number, src: DataView, o: number): number {
  v.setUint32(p, src.getUint32(o, true), true);
  v.setUint32(p + 4, src.getUint32(o + 4, true), true);
  return p + 8;
}

/** `tag` then v (an integer, |v| < 2^53) as int64. */
function putInt(b: Uint8Array, p: number, tag: number, v: number): number {
  b[p++] = tag;
  return putInt64(b, p, v);
}

export class ArgsWriter {
  private readonly json = new FlatJson();

  constructor(private readonly w: ProtoWriter, private readonly T: Tags, private readonly interning: Interning) {}

  /**
   * Typed arguments from d[o, end) written at b[p]; the offset after them, or
   * -1 if the record does not hold them. One loop with a switch over the
   * plan's ops, longer than a screen on purpose: the buffer, view and offsets
   * stay in locals across all of a record's fields, where a method per op
   * would store them back and reload them for each field.
   */
  fields(b: Uint8Array, p: number, plan: EventPlan, d: Buffer, dv: DataView, o: number, end: number): number {
    const T = this.T;
    const { ops, keys, keyWords } = plan;
    let v = this.w.view;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (o + FIXED_SIZE[op]! > end) return -1;
      b[p++] = T.annotation;
      const mark = p++; // one-byte length: a non-string annotation is at most ANNOTATION_MAX bytes
      const key = keys[i]!;
      p = putWords(v, p, keyWords[i]!, key.length);
      switch (op) {
        case OP_STRING: {
          let nul = o;
          let high = 0;
          for (; nul < end; nul++) {
            const ch = d[nul]!;
            if (ch === 0) break;
            high |= ch;
          }
          if (nul >= end) return -1;
          if (high >= 0x80) { // through a JS string: invalid UTF-8 becomes U+FFFD, as every other reader shows it
            this.w.pos = mark - 1; // back to the annotation's tag
            this.stringAnnotation(key, utf8Slice(d, o, nul));
            b = this.w.buf;
            v = this.w.view;
            p = this.w.pos;
            o = nul + 1;
            continue;
          }
          b[p++] = T.aString;
          p = putVarint(b, p, nul - o);
          p = copyBytes(b, v, p, d, dv, o, nul);
          o = nul + 1;
          p = this.closeLong(b, mark, p);
          b = this.w.buf;
          v = this.w.view;
          continue;
        }
        case OP_BYTES: {
          const n = u32(d, o);
          if (n > end - o - 4) return -1;
          b[p++] = T.aString;
          p = putVarint(b, p, 2 * n);
          p = putHex(b, p, d, o + 4, o + 4 + n);
          o += 4 + n;
          p = this.closeLong(b, mark, p);
          b = this.w.buf;
          v = this.w.view;
          continue;
        }
        case OP_U8: p = putInt(b, p, T.aInt, d[o]!); o += 1; break;
        case OP_I8: p = putInt(b, p, T.aInt, (d[o]! << 24) >> 24); o += 1; break;
        case OP_BOOL:
          b[p++] = T.aBool;
          b[p++] = d[o] !== 0 ? 1 : 0;
          o += 1;
          break;
        case OP_U16: p = putInt(b, p, T.aInt, d[o]! | (d[o + 1]! << 8)); o += 2; break;
        case OP_I16: p = putInt(b, p, T.aInt, ((d[o]! | (d[o + 1]! << 8)) << 16) >> 16); o += 2; break;
        case OP_U32: p = putInt(b, p, T.aInt, u32(d, o)); o += 4; break;
        case OP_I32: p = putInt(b, p, T.aInt, d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24)); o += 4; break;
        case OP_F32:
          b[p++] = T.aDouble;
          p = putDouble(b, p, d.readFloatLE(o));
          o += 4;
          break;
        case OP_F64:
          b[p++] = T.aDouble;
          p = copy8(v, p, dv, o); // IEEE 754 little-endian, as protobuf's fixed64
          o += 8;
          break;
        case OP_U64: {
          const hi = u32(d, o + 4);
          b[p++] = hi < 0x80000000 ? T.aInt : T.aUint; // int64 where it fits, as the JS side's numbers
          p = putVarint64(b, p, hi, u32(d, o));
          o += 8;
          break;
        }
        case OP_I64: // int64's varint is the two's complement
          b[p++] = T.aInt;
          p = putVarint64(b, p, u32(d, o + 4), u32(d, o));
          o += 8;
          break;
      }
      b[mark] = p - mark - 1;
    }
    return p;
  }

  /** Close an annotation that may be 128 bytes or longer: its one-byte length at mark widens (endShort). */
  private closeLong(b: Uint8Array, mark: number, p: number): number {
    if (p - mark - 1 < 128) {
      b[mark] = p - mark - 1;
      return p;
    }
    const w = this.w;
    w.pos = p;
    w.endShort(mark);
    return w.pos;
  }

  private stringAnnotation(key: Uint8Array, s: string): void {
    const w = this.w;
    w.varint(this.T.annotation);
    const m = w.begin();
    w.reserve(key.length);
    for (let j = 0; j < key.length; j++) w.buf[w.pos++] = key[j]!;
    w.varint(this.T.aString);
    w.string(s);
    w.end(m);
  }

  /**
   * Find the members of the JSON text at d[o] (NUL-terminated, before `end`)
   * and their name iids; the count (0 for no text), or -1 when the text is
   * not a flat object (the general path parses it) or is not terminated.
   */
  jsonMembers(seq: Sequence, plan: EventPlan, d: Buffer, o: number, end: number): number {
    let nul = o;
    while (nul < end && d[nul] !== 0) nul++;
    if (nul >= end) return -1;
    if (nul === o) return 0;
    const json = this.json;
    if (!json.parse(d, o, nul)) return -1;
    const n = json.count;
    const seen = plan.jsonKeys;
    for (let j = 0; j < n; j++) {
      const ks = json.keyStart[j]!;
      const len = json.keyEnd[j]! - ks;
      const last = seen[j];
      let same = last !== undefined && last.length === len;
      for (let i = 0; same && i < len; i++) same = last![i] === d[ks + i];
      if (!same) {
        seen[j] = Uint8Array.from(d.subarray(ks, ks + len));
        const iid = this.interning.key(seq, json.key(d, j));
        plan.jsonKeyFields[j] = tagAndVarint(this.T.aName, iid);
      }
    }
    return n;
  }

  /** The members found by jsonMembers, written at b[p]; returns the offset after them. */
  members(b: Uint8Array, p: number, plan: EventPlan, d: Buffer, dv: DataView, n: number): number {
    const T = this.T;
    const json = this.json;
    let v = this.w.view;
    for (let j = 0; j < n; j++) {
      b[p++] = T.annotation;
      const mark = p++;
      const key = plan.jsonKeyFields[j]!;
      for (let i = 0; i < key.length; i++) b[p++] = key[i]!;
      const kind = json.kind[j]!;
      if (kind === MEMBER_STRING) {
        const vs = json.valStart[j]!;
        const ve = json.valEnd[j]!;
        b[p++] = T.aString;
        p = putVarint(b, p, ve - vs);
        p = copyBytes(b, v, p, d, dv, vs, ve);
        p = this.closeLong(b, mark, p);
        b = this.w.buf;
        v = this.w.view;
        continue;
      }
      if (kind === MEMBER_INT) {
        p = putInt(b, p, T.aInt, json.num[j]!);
      } else if (kind === MEMBER_DOUBLE) {
        const x = json.num[j]!;
        if (Number.isSafeInteger(x)) { // as JSON.parse's value is written on the general path
          p = putInt(b, p, T.aInt, x);
        } else {
          b[p++] = T.aDouble;
          p = putDouble(b, p, x);
        }
      } else { // MEMBER_TRUE, MEMBER_FALSE
        b[p++] = T.aBool;
        b[p++] = kind === MEMBER_TRUE ? 1 : 0;
      }
      b[mark] = p - mark - 1;
    }
    return p;
  }

  /** The general path's annotation: a decoded value, at the writer's position. */
  annotation(keyIid: number, v: FieldValue): void {
    const w = this.w;
    const T = this.T;
    w.reserve(ANNOTATION_MAX + 16); // then fixed-size parts skip their checks
    w.varintFast(T.annotation);
    const m = w.begin();
    w.varintFast(T.aName);
    w.varintFast(keyIid);
    switch (typeof v) {
      case 'number':
        if (Number.isSafeInteger(v)) {
          w.varintFast(T.aInt);
          w.int64(v);
        } else {
          w.varintFast(T.aDouble);
          w.double(v);
        }
        break;
      case 'bigint':
        if (v < 1n << 63n) {
          w.varintFast(T.aInt);
          w.int64(v);
        } else {
          w.varintFast(T.aUint);
          w.uint64(v);
        }
        break;
      case 'boolean':
        w.varintFast(T.aBool);
        w.varintFast(v ? 1 : 0);
        break;
      case 'string':
        w.varintFast(T.aString);
        w.string(v);
        break;
      default: // bytes: hex text
        w.varintFast(T.aString);
        w.string((v as Buffer).toString('hex'));
    }
    w.end(m);
  }
}
