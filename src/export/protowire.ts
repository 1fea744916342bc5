// A minimal protobuf wire writer for the hot path of the Perfetto export.
// protobufjs's Writer measured 1.0-1.4 us per event packet on this machine
// (an object per write op, a buffer per finish); writing varints straight
// into one growing buffer costs a fraction of that. Field numbers come from
// the schema protobufjs loads (perfetto.ts), so the two cannot disagree.
// Nested messages reserve a fixed 4-byte length (a redundant varint: every
// protobuf parser accepts it, Perfetto's own writer does the same) that is
// patched when the message ends, so nothing is sized twice; or, for the short
// messages of event packets, one byte, moved up when the message turns out
// to be 128 bytes or longer (beginShort / endShort).
import { viewOf } from '../trace/le';
import { WORD_SLACK } from './words';
import { TWO32 } from '../int64';

const NESTED_MAX = (1 << 28) - 1; // the largest length 4 varint bytes hold

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;

// Writers at an offset into a buffer the caller has made room in; each
// returns the offset after what it wrote. Hot loops keep the buffer and
// offset in locals and use these (V8 inlines them), instead of a method call
// and two property updates per field.

/** An unsigned integer below 2^53 as a varint. */
export function putVarint(b: Uint8Array, p: number, v: number): number {
  if (v < 128) { // tags, iids, small values: most varints of a trace
    b[p] = v;
    return p + 1;
  }
  if (v < 0x80000000) {
    while (v >= 128) {
      b[p++] = (v & 127) | 128;
      v >>>= 7;
    }
  } else {
    while (v >= 128) {
      const q = Math.floor(v * 0.0078125); // v / 128, exact: a power of two (no division)
      b[p++] = (v - q * 128) | 128;
      v = q;
    }
  }
  b[p] = v;
  return p + 1;
}

/** A tag and a varint value as bytes, for fields precomputed once (interned names in event plans). */
export function tagAndVarint(tag: number, v: number): Uint8Array {
  const b = new Uint8Array(16);
  return b.slice(0, putVarint(b, putVarint(b, 0, tag), v));
}

/** A 64-bit value given as two unsigned 32-bit halves (two's complement for negatives) as a varint. */
export function putVarint64(b: Uint8Array, p: number, hi: number, lo: number): number {
  while (hi !== 0 || lo >= 128) {
    b[p++] = (lo & 127) | 128;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  b[p] = lo;
  return p + 1;
}

/** An integer (|v| < 2^53) as an int64 varint: negatives take ten bytes, two's complement. */
export function putInt64(b: Uint8Array, p: number, v: number): number {
  if (v >= 0) return putVarint(b, p, v);
  const hi = Math.floor(v / TWO32);
  return putVarint64(b, p, hi >>> 0, (v - hi * TWO32) >>> 0);
}

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);

/** A double's 8 bytes (little-endian, as protobuf's fixed64) at b[p]; a byte loop beats a call into C++ here. */
export function putDouble(b: Uint8Array, p: number, v: number): number {
  f64[0] = v;
  for (let j = 0; j < 8; j++) b[p++] = f64Bytes[j]!;
  return p;
}

export class ProtoWriter {
  buf: Buffer;
  /** The same memory, for word stores. */
  view: DataView;
  pos = 0;

  constructor(initial: Buffer | number = 1 << 20) {
    this.buf = typeof initial === 'number' ? Buffer.allocUnsafe(initial) : initial;
    this.view = viewOf(this.buf);
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = viewOf(next);
  }

  /**
   * Make sure `n` more bytes fit, and WORD_SLACK more for word writers
   * (words.ts); callers that reserve once may then use the *Fast methods.
   */
  reserve(n: number): void {
    this.room(n + WORD_SLACK);
  }

  /** An unsigned integer below 2^53. */
  varint(v: number): void {
    this.room(10);
    this.varintFast(v);
  }

  /** varint() without the room check: the caller reserved 10 bytes. */
  varintFast(v: number): void {
    this.pos = putVarint(this.buf, this.pos, v);
  }

  /** A 64-bit value given as two unsigned 32-bit halves (two's complement for negatives). */
  varint64(hi: number, lo: number): void {
    this.room(10);
    this.pos = putVarint64(this.buf, this.pos, hi, lo);
  }

  /** int64 field value (protobuf int64: negatives are 10-byte two's complement). */
  int64(v: number | bigint): void {
    if (typeof v === 'number' && v >= 0) return this.varint(v);
    const big = BigInt.asUintN(64, BigInt(v));
    this.varint64(Number(big >> 32n), Number(big & 0xffffffffn));
  }

  /** uint64 field value. */
  uint64(v: number | bigint): void {
    if (typeof v === 'number') return this.varint(v);
    this.varint64(Number(v >> 32n), Number(v & 0xffffffffn));
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  double(v: number): void {
    this.room(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  /** fixed32 field value. */
  fixed32(v: number): void {
    this.room(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }

  /** fixed64 field value given as two unsigned 32-bit halves. */
  fixed64(hi: number, lo: number): void {
    this.room(8);
    this.view.setUint32(this.pos, lo, true);
    this.view.setUint32(this.pos + 4, hi, true);
    this.pos += 8;
  }

  /** A length-delimited UTF-8 string (field tag written by the caller). */
  string(s: string): void {
    if (s.length < 64 && this.asciiString(s)) return;
    // Up to 3 bytes per UTF-16 unit; a 1- or 2-byte length covers nearly every string.
    const max = s.length * 3;
    const lenBytes = max < 128 ? 1 : max < 16384 ? 2 : 4;
    this.room(lenBytes + max);
    const start = this.pos + lenBytes;
    const n = this.buf.write(s, start, max, 'utf8');
    this.patchLength(this.pos, lenBytes, n);
    this.pos = start + n;
  }

  /** A short ASCII string byte by byte (a C++ call per string costs more here); false if not ASCII. */
  private asciiString(s: string): boolean {
    this.room(1 + s.length);
    const b = this.buf;
    let p = this.pos + 1;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return false; // nothing committed: pos is unchanged
      b[p++] = c;
    }
    b[this.pos] = s.length; // < 64: a one-byte length
    this.pos = p;
    return true;
  }

  /** Raw bytes, length-delimited. */
  bytes(data: Uint8Array): void {
    this.varint(data.length);
    this.room(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** Start a nested message (after its tag); returns the mark to pass to end(). */
  begin(): number {
    this.room(4);
    const mark = this.pos;
    this.pos += 4;
    return mark;
  }

  end(mark: number): void {
    const n = this.pos - mark - 4;
    if (n > NESTED_MAX) throw new RangeError(`protobuf message of ${n} bytes is too large`);
    this.patchLength(mark, 4, n);
  }

  /**
   * Start a nested message expected to be short (< 128 bytes: most event
   * packets and their parts) with a one-byte length; the caller reserved room.
   */
  beginShort(): number {
    return this.pos++;
  }

  /** End a beginShort() message: a longer one is moved up to make room for its length. */
  endShort(mark: number): void {
    const n = this.pos - mark - 1;
    if (n < 128) {
      this.buf[mark] = n;
      return;
    }
    if (n > NESTED_MAX) throw new RangeError(`protobuf message of ${n} bytes is too large`);
    const width = n < 16384 ? 2 : n < 2097152 ? 3 : 4;
    this.room(width - 1);
    this.buf.copyWithin(mark + width, mark + 1, this.pos);
    this.pos += width - 1;
    this.patchLength(mark, width, n);
  }

  /** Write n as a varint of exactly `width` bytes at `at` (redundant high bytes when needed). */
  private patchLength(at: number, width: number, n: number): void {
    const b = this.buf;
    for (let i = 0; i < width - 1; i++) {
      b[at + i] = (n & 127) | 128;
      n >>>= 7;
    }
    b[at + width - 1] = n;
  }

  /** Go on in `next` (the caller took the current buffer and its `pos` bytes). */
  reset(next: Buffer): void {
    this.buf = next;
    this.view = viewOf(next);
    this.pos = 0;
  }
}
