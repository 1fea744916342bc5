// An output buffer that text formats write ASCII into byte by byte: a
// million-line export cannot afford a JS string per value (each costs an
// allocation, a concatenation and a UTF-8 encode at the end). Full buffers
// are handed on whole (OutputBuffers: the background writer moves them to its
// thread) and a fresh one taken.
import type { OutputBuffers } from './background-writer';

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
const DIGITS3 = new Uint8Array(3000);
for (let i = 0; i < 1000; i++) {
  DIGITS3[3 * i] = 48 + Math.floor(i / 100);
  DIGITS3[3 * i + 1] = 48 + (Math.floor(i / 10) % 10);
  DIGITS3[3 * i + 2] = 48 + (i % 10);
}

/** floor(n / 1000) for an integer 0 <= n < 2^53. */
function div1000(n: number): number {
  const q = Math.floor(n * 0.001);
  const r = n - q * 1000;
  return r < 0 ? q - 1 : r >= 1000 ? q + 1 : q;
}

/** 0..999 without leading zeros. */
function putSmall(d: Uint8Array, p: number, n: number): number {
  const t = 3 * n;
  if (n >= 100) d[p++] = DIGITS3[t]!;
  if (n >= 10) d[p++] = DIGITS3[t + 1]!;
  d[p] = DIGITS3[t + 2]!;
  return p + 1;
}

/** Three digits of 0..999, zero-padded. */
function put3(d: Uint8Array, p: number, n: number): number {
  const t = 3 * n;
  d[p] = DIGITS3[t]!;
  d[p + 1] = DIGITS3[t + 1]!;
  d[p + 2] = DIGITS3[t + 2]!;
  return p + 3;
}

const groups = new Float64Array(6); // of a number >= 10^9, least significant first

/** A non-negative integer below 2^53 in decimal (at most 16 bytes). */
export function putUint(d: Uint8Array, p: number, n: number): number {
  if (n < 1000) return putSmall(d, p, n);
  const q1 = div1000(n);
  if (q1 < 1000) return put3(d, putSmall(d, p, q1), n - q1 * 1000);
  const q2 = div1000(q1);
  if (q2 < 1000) return put3(d, put3(d, putSmall(d, p, q2), q1 - q2 * 1000), n - q1 * 1000);
  let k = 0;
  let m = n;
  while (m >= 1000) {
    const q = div1000(m);
    groups[k++] = m - q * 1000;
    m = q;
  }
  p = putSmall(d, p, m);
  while (k > 0) p = put3(d, p, groups[--k]!);
  return p;
}

/** An integer with |n| below 2^53 in decimal (at most 17 bytes). */
export function putInt(d: Uint8Array, p: number, n: number): number {
  if (n < 0) {
    d[p++] = 45; // '-'
    n = -n;
  }
  return putUint(d, p, n);
}

/** Exactly nine digits of 0..999 999 999, zero-padded (the nanoseconds of a timestamp). */
export function putNineDigits(d: Uint8Array, p: number, n: number): number {
  const q1 = div1000(n);
  const q2 = div1000(q1);
  return put3(d, put3(d, put3(d, p, q2), q1 - q2 * 1000), n - q1 * 1000);
}

export class ByteOut {
  buf: Buffer;
  pos = 0;
  /** Bytes handed on so far. */
  flushed = 0;

  /** Full buffers go to `out`, which gives the next one (see OutputBuffers). */
  constructor(private readonly out: OutputBuffers) {
    this.buf = out.buffer();
  }

  get capacity(): number {
    return this.buf.length;
  }

  /** Make room for `n` more bytes (flushing what is there); false if `n` can never fit. */
  reserve(n: number): boolean {
    if (this.pos + n <= this.buf.length) return true;
    this.flush();
    return n <= this.buf.length;
  }

  flush(): void {
    if (this.pos === 0) return;
    const full = this.buf;
    const n = this.pos;
    this.flushed += n;
    this.pos = 0;
    this.buf = this.out.buffer(); // before submit: a buffer moved to the writer is gone from here
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
