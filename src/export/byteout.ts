// An output buffer that text formats write ASCII into byte by byte: a
// million-line export cannot afford a JS string per value (each costs an
// allocation, a concatenation and a UTF-8 encode at the end). Full buffers
// are handed on whole (OutputBuffers: the background writer moves them to its
// thread) and a fresh one taken.
import { viewOf } from '../trace/le';
import type { OutputBuffers } from './background-writer';
import { WORD_SLACK } from './words';

// Writers at an offset into a buffer the caller has made room in; each
// returns the offset after what it wrote. The per-line loops keep buffer and
// offset in locals and call these (V8 inlines them).

/** Precomputed bytes (keys, punctuation). */
export function putRaw(d: Uint8Array, p: number, b: Uint8Array): number {
  const n = b.length;
  if (n > 24) { // TypedArray.set is a call into C++ (~30 ns here), a byte loop ~1.4 ns a byte
    d.set(b, p);
    return p + n;
  }
  for (let i = 0; i < n; i++) d[p++] = b[i]!;
  return p;
}

/** Bytes d[from, to) as lower-case hex digits, two per byte (bytes fields). */
export function putHex(b: Uint8Array, p: number, d: Uint8Array, from: number, to: number): number {
  for (let j = from; j < to; j++) {
    b[p++] = HEX_DIGITS[d[j]! >> 4]!;
    b[p++] = HEX_DIGITS[d[j]! & 15]!;
  }
  return p;
}
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/** An ASCII string known to be short (numbers as text). */
export function putAscii(d: Uint8Array, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) d[p++] = s.charCodeAt(i);
  return p;
}

// Numbers are printed three digits per step from a table. Quotients come
// from a multiply by the reciprocal and one correction step, never a
// division: a double division costs ~20 cycles on these CPUs and digit
// loops chain them (seven per 7-digit number cost ~30 ns, as much as
// the rest of a JSON line's fields).
/** floor(n / 1000) for an integer 0 <= n < 2^53. */
function div1000(n: number): number {
  const q = Math.floor(n * 0.001);
  const r = n - q * 1000;
  return r < 0 ? q - 1 : r >= 1000 ? q + 1 : q;
}

// The digit tables hold little-endian words, for writers that store a word at
// a time (DataView): a JS byte store costs ~1-2.5 ns here, a word store about
// as much. PAD3[n]: the three digits of n; SMALL[n]: n's digits without leading
// zeros, SMALL_LEN[n] of them. Word writers store four bytes: up to three past
// the number, which what follows overwrites (callers reserve room for them).
const PAD3 = new Uint32Array(1000);
const SMALL = new Uint32Array(1000);
const SMALL_LEN = new Uint8Array(1000);
for (let i = 0; i < 1000; i++) {
  const digits = [...String(i).padStart(3, '0')].map((ch) => ch.charCodeAt(0));
  PAD3[i] = digits[0]! | (digits[1]! << 8) | (digits[2]! << 16);
  const short = digits.slice(i >= 100 ? 0 : i >= 10 ? 1 : 2);
  SMALL[i] = short.reduce((w, c, k) => w | (c << (8 * k)), 0);
  SMALL_LEN[i] = short.length;
}

const groups = new Float64Array(6); // of a number >= 10^9, least significant first

/** A non-negative integer below 2^53 in decimal (at most 16 bytes; stores WORD_SLACK past them). */
export function putUint(v: DataView, p: number, n: number): number {
  if (n < 1000) {
    v.setUint32(p, SMALL[n]!, true);
    return p + SMALL_LEN[n]!;
  }
  let q = div1000(n);
  if (q < 1000) {
    v.setUint32(p, SMALL[q]!, true);
    p += SMALL_LEN[q]!;
    v.setUint32(p, PAD3[n - q * 1000]!, true);
    return p + 3;
  }
  let k = 0;
  groups[k++] = n - q * 1000;
  let m = q;
  while (m >= 1000) {
    q = div1000(m);
    groups[k++] = m - q * 1000;
    m = q;
  }
  v.setUint32(p, SMALL[m]!, true);
  p += SMALL_LEN[m]!;
  while (k > 0) {
    v.setUint32(p, PAD3[groups[--k]!]!, true);
    p += 3;
  }
  return p;
}

/** An integer with |n| below 2^53 in decimal (at most 17 bytes; stores WORD_SLACK past them). */
export function putInt(v: DataView, p: number, n: number): number {
  if (n < 0) {
    v.setUint8(p++, 45); // '-'
    n = -n;
  }
  return putUint(v, p, n);
}

/** Exactly nine digits of 0..999 999 999, zero-padded (the nanoseconds of a timestamp); nothing past them. */
export function putNineDigits(v: DataView, p: number, n: number): number {
  const q1 = div1000(n);
  const q2 = div1000(q1);
  v.setUint32(p, PAD3[q2]!, true);
  v.setUint32(p + 3, PAD3[q1 - q2 * 1000]!, true);
  const last = PAD3[n - q1 * 1000]!; // its own three bytes only: what follows is already written
  v.setUint16(p + 6, last & 0xffff, true);
  v.setUint8(p + 8, last >>> 16);
  return p + 9;
}

export class ByteOut {
  buf: Buffer;
  /** The same memory, for word writers. */
  view: DataView;
  pos = 0;
  /** Bytes handed on so far. */
  flushed = 0;

  /** Full buffers go to `out`, which gives the next one (see OutputBuffers). */
  constructor(private readonly out: OutputBuffers) {
    this.buf = out.buffer();
    this.view = viewOf(this.buf);
  }

  get capacity(): number {
    return this.buf.length;
  }

  /**
   * Make room for `n` more bytes and WORD_SLACK more for word writers
   * (words.ts), flushing what is there; false if that can never fit.
   */
  reserve(n: number): boolean {
    if (this.pos + n + WORD_SLACK <= this.buf.length) return true;
    this.flush();
    return n + WORD_SLACK <= this.buf.length;
  }

  flush(): void {
    if (this.pos === 0) return;
    const full = this.buf;
    const n = this.pos;
    this.flushed += n;
    this.pos = 0;
    this.buf = this.out.buffer(); // before submit: a buffer moved to the writer is gone from here
    this.view = viewOf(this.buf);
    this.out.submit(full, n);
  }

  /** Any string (UTF-8), flushing as needed; for the rare and the long. */
  text(s: string): void {
    if (!this.reserve(s.length * 3)) {
      this.flush();
      // longer than a whole buffer: goes through in buffer-sized pieces
      const b = Buffer.from(s, 'utf8');
      for (let i = 0; i < b.length; i += this.capacity) {
        const n = Math.min(this.capacity, b.length - i);
        b.copy(this.buf, 0, i, i + n);
        this.pos = n;
        this.flush();
      }
      return;
    }
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }
}
