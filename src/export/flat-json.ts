// Reads the JSON text that span(name, fields) records, in place in the
// record's bytes: a flat object of plain keys and simple values, such as
// {"route":"/items","n":3}. Members are found without making strings, so the
// Perfetto export can write them straight out. Anything else (escapes,
// non-ASCII, nesting, null, integer-like keys that JSON.parse reorders,
// repeated keys) is refused, and callers use JSON.parse instead: accepting
// means giving exactly the members JSON.parse would, in the same order.
import { latin1Slice } from '../buffer-internals';

export const MEMBER_INT = 0; // an integer of at most 15 digits: value in num
export const MEMBER_DOUBLE = 1; // any other number: value in num
export const MEMBER_STRING = 2; // printable ASCII without escapes: bytes [valStart, valEnd)
export const MEMBER_TRUE = 3;
export const MEMBER_FALSE = 4;

const MAX_MEMBERS = 64;
const QUOTE = 34;
const BACKSLASH = 92;

export class FlatJson {
  count = 0;
  readonly keyStart = new Int32Array(MAX_MEMBERS);
  readonly keyEnd = new Int32Array(MAX_MEMBERS);
  readonly kind = new Uint8Array(MAX_MEMBERS);
  readonly valStart = new Int32Array(MAX_MEMBERS);
  readonly valEnd = new Int32Array(MAX_MEMBERS);
  readonly num = new Float64Array(MAX_MEMBERS);

  /** Parse d[start, end) as a flat object; false if it is anything this reader does not take. */
  parse(d: Buffer, start: number, end: number): boolean {
    let p = start;
    this.count = 0;
    if (d[p++] !== 123) return false; // {
    if (d[p] === 125) return p + 1 === end; // {}
    let n = 0;
    for (;;) {
      if (n === MAX_MEMBERS || d[p++] !== QUOTE) return false;
      const ks = p;
      let allDigits = true;
      for (; p < end; p++) {
        const ch = d[p]!;
        if (ch === QUOTE) break;
        if (ch === BACKSLASH || ch < 0x20 || ch >= 0x7f) return false;
        if (ch < 48 || ch > 57) allDigits = false;
      }
      // "" is fine; digit-only keys are array indices, which JSON.parse puts first
      if (p >= end || (allDigits && p > ks)) return false;
      this.keyStart[n] = ks;
      this.keyEnd[n] = p++;
      if (d[p++] !== 58) return false; // :
      p = this.value(d, p, end, n);
      if (p < 0) return false;
      for (let j = 0; j < n; j++) if (this.sameKey(d, j, n)) return false;
      n++;
      const ch = d[p++];
      if (ch === 125) { // }
        this.count = n;
        return p === end;
      }
      if (ch !== 44) return false; // ,
    }
  }

  /** Key j as a string (ASCII, checked by parse). */
  key(d: Buffer, j: number): string {
    return latin1Slice(d, this.keyStart[j]!, this.keyEnd[j]!);
  }

  private sameKey(d: Buffer, a: number, b: number): boolean {
    const as = this.keyStart[a]!;
    const len = this.keyEnd[a]! - as;
    const bs = this.keyStart[b]!;
    if (this.keyEnd[b]! - bs !== len) return false;
    for (let i = 0; i < len; i++) if (d[as + i] !== d[bs + i]) return false;
    return true;
  }

  /** Member n's value at p; returns the offset after it, or -1. */
  private value(d: Buffer, p: number, end: number, n: number): number {
    const ch = d[p];
    if (ch === QUOTE) {
      const vs = ++p;
      for (; p < end; p++) {
        const c = d[p]!;
        if (c === QUOTE) break;
        if (c === BACKSLASH || c < 0x20 || c >= 0x7f) return -1;
      }
      if (p >= end) return -1;
      this.kind[n] = MEMBER_STRING;
      this.valStart[n] = vs;
      this.valEnd[n] = p;
      return p + 1;
    }
    if (ch === 116 && d[p + 1] === 114 && d[p + 2] === 117 && d[p + 3] === 101) { // true
      this.kind[n] = MEMBER_TRUE;
      return p + 4;
    }
    if (ch === 102 && d[p + 1] === 97 && d[p + 2] === 108 && d[p + 3] === 115 && d[p + 4] === 101) { // false
      this.kind[n] = MEMBER_FALSE;
      return p + 5;
    }
    return this.number(d, p, end, n);
  }

  /** A JSON number (the grammar exactly: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?). */
  private number(d: Buffer, p: number, end: number, n: number): number {
    const start = p;
    const negative = d[p] === 45;
    if (negative) p++;
    let v = 0;
    const intStart = p;
    if (d[p] === 48) {
      p++;
    } else {
      for (; p < end && d[p]! >= 48 && d[p]! <= 57; p++) v = v * 10 + (d[p]! - 48);
      if (p === intStart) return -1;
    }
    const digits = p - intStart;
    let integer = true;
    if (d[p] === 46) { // .
      integer = false;
      const fs = ++p;
      while (p < end && d[p]! >= 48 && d[p]! <= 57) p++;
      if (p === fs) return -1;
    }
    if (d[p] === 101 || d[p] === 69) { // e E
      integer = false;
      p++;
      if (d[p] === 43 || d[p] === 45) p++;
      const es = p;
      while (p < end && d[p]! >= 48 && d[p]! <= 57) p++;
      if (p === es) return -1;
    }
    if (p > end) return -1;
    if (integer && digits <= 15) { // exact: below 2^53
      this.kind[n] = MEMBER_INT;
      this.num[n] = negative ? -v : v;
    } else {
      this.kind[n] = MEMBER_DOUBLE;
      this.num[n] = Number(latin1Slice(d, start, p)); // the same conversion as JSON.parse
    }
    return p;
  }
}
