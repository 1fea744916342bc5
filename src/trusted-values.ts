// The values the library writes for its own records without a field's
// checks (SerializerOptions.trustedIds): ids as hex strings or 32-bit words,
// OpenTelemetry times, ASCII trace ids. Each is written by a small function
// the generated emitters call; `asRecorded` gives the value a record of it
// holds, for a session's filter, which compares what is recorded rather than
// the library's own form of it (a trace id's words, a time's pair).
import { performance } from 'node:perf_hooks';
import { INV_TWO32, TWO32 } from './int64';
import { writeJson } from './json-writer';

/**
 * A trusted 'ascii' string at o, then NUL: at most `max` characters, a NUL or
 * non-ASCII one written as '?' (so garbage never ends the field early).
 */
export function putAscii(u8: Uint8Array, o: number, s: string, max: number): number {
  const n = typeof s === 'string' ? Math.min(s.length, max) : 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    u8[o + i] = c - 1 >>> 0 >= 0x7f ? 0x3f : c;
  }
  u8[o + n] = 0;
  return o + n + 1;
}

/** [high, low] 32-bit words as a little-endian u64 at o (not a list: 0). */
export function putU64Words(dv: DataView, o: number, w: readonly number[]): void {
  const ok = Array.isArray(w);
  dv.setInt32(o, ok ? w[1]! | 0 : 0, true);
  dv.setInt32(o + 4, ok ? w[0]! | 0 : 0, true);
}

/** Per byte value, its two lower-case hex digits as a little-endian u16 (the high digit first in memory). */
const HEX_PAIRS = Uint16Array.from({ length: 256 }, (_, b) =>
  '0123456789abcdef'.charCodeAt(b >> 4) | ('0123456789abcdef'.charCodeAt(b & 15) << 8));

/**
 * The lower-case hex digits of 32-bit words at o, then NUL: at most `max`
 * characters (whole words). Two digits per store.
 */
export function putHexWords(dv: DataView, o: number, w: readonly number[], max: number): number {
  const n = Array.isArray(w) ? Math.min(w.length, max >> 3) : 0;
  for (let i = 0; i < n; i++, o += 8) {
    const x = w[i]! | 0;
    dv.setUint16(o, HEX_PAIRS[x >>> 24]!, true);
    dv.setUint16(o + 2, HEX_PAIRS[(x >>> 16) & 255]!, true);
    dv.setUint16(o + 4, HEX_PAIRS[(x >>> 8) & 255]!, true);
    dv.setUint16(o + 6, HEX_PAIRS[x & 255]!, true);
  }
  dv.setUint8(o, 0);
  return o + 1;
}

/** 8 hex digits of s from `from` as a u32 (no checks: a bad digit gives a wrong value). */
export function hexWord(s: string, from: number): number {
  let w = 0;
  for (let i = from; i < from + 8; i++) {
    const c = s.charCodeAt(i);
    w = (w << 4) | (c <= 57 ? c - 48 : (c | 32) - 87);
  }
  return w >>> 0;
}

/** A 16-hex-digit id as a little-endian u64 at o ('' and other lengths: 0). */
export function putHexId(dv: DataView, o: number, s: string): void {
  const ok = typeof s === 'string' && s.length === 16;
  dv.setUint32(o, ok ? hexWord(s, 8) : 0, true);
  dv.setUint32(o + 4, ok ? hexWord(s, 0) : 0, true);
}

/**
 * The Unix second that the number form of a trusted 'hrtime' counts from:
 * the process's start, so times near it stay exact integers of nanoseconds
 * in a double (for 104 days either side).
 */
export const HRTIME_BASE_S = Math.floor(performance.timeOrigin / 1000);

/**
 * [seconds, nanoseconds] as a little-endian u64 of nanoseconds, exact, in
 * doubles (every step stays below 2^53): s * 1e9 = (sHi * 1e9) * 2^16 + sLo * 1e9.
 */
function putSecondsNanos(dv: DataView, o: number, seconds: number, nanos: number): void {
  const s = seconds >>> 0;
  const a = (s & 0xffff) * 1e9 + (nanos >>> 0); // < 2^47
  const b = Math.floor(s / 65536) * 1e9; // < 2^46, to be shifted by 16
  const x = (b % 65536) * 65536 + a; // < 2^53
  const carry = Math.floor(x / TWO32);
  dv.setUint32(o, x >>> 0, true);
  dv.setUint32(o + 4, (Math.floor(b / 65536) + carry) >>> 0, true);
}

// HRTIME_BASE_S in nanoseconds as two u32 words (past 2^53: made exact once, with a BigInt).
const BASE_NS = BigInt(HRTIME_BASE_S) * 1_000_000_000n;
const BASE_NS_LO = Number(BASE_NS & 0xffffffffn);
const BASE_NS_HI = Number(BASE_NS >> 32n);

/**
 * A trusted time: [seconds, nanoseconds], or a number of nanoseconds since
 * HRTIME_BASE_S (an integer below 2^53 either side), added to the base's two
 * words with a carry: no division; or null, 0: "when this record was
 * written", which readers take from the record's timestamp.
 */
export function putHrtime(dv: DataView, o: number, t: number | readonly number[] | null): void {
  if (t === null) {
    dv.setUint32(o, 0, true);
    dv.setUint32(o + 4, 0, true);
  } else if (typeof t === 'number') {
    const hi = Math.floor(t * INV_TWO32); // t / 2^32, exact: only the exponent moves
    const lo = BASE_NS_LO + (t - hi * TWO32); // < 2^33
    const carry = lo >= TWO32 ? 1 : 0;
    dv.setUint32(o, lo - carry * TWO32, true);
    dv.setUint32(o + 4, (BASE_NS_HI + hi + carry) >>> 0, true);
  } else {
    putSecondsNanos(dv, o, t[0]!, t[1]!);
  }
}

export type WrittenTrustedValue = 'hex' | 'hrtime' | 'json' | 'ascii' | 'u64words' | 'hexwords';

/** Room for the longest value asRecorded writes (a string at its longest, its NUL). */
let scratch = Buffer.alloc(0);
let scratchView = new DataView(scratch.buffer);

/**
 * What a record holds for trusted value `v` of kind `kind` (a string field's
 * text up to `max` bytes, a u64 as a bigint): written as an emitter writes it
 * and read back, so a filter sees exactly that. Only when a filter is set.
 */
export function asRecorded(kind: WrittenTrustedValue, v: unknown, max: number): string | bigint {
  if (scratch.length < max + 8) {
    scratch = Buffer.alloc(max + 8);
    scratchView = new DataView(scratch.buffer, scratch.byteOffset, scratch.length);
  }
  const u8 = scratch;
  const dv = scratchView;
  switch (kind) {
    case 'hex':
      putHexId(dv, 0, v as string);
      return dv.getBigUint64(0, true);
    case 'u64words':
      putU64Words(dv, 0, v as number[]);
      return dv.getBigUint64(0, true);
    case 'hrtime':
      putHrtime(dv, 0, v as number | null);
      return dv.getBigUint64(0, true);
    case 'json':
      return u8.toString('utf8', 0, writeJson(u8, 0, v, max) - 1);
    case 'ascii':
      return u8.toString('latin1', 0, putAscii(u8, 0, v as string, max) - 1);
    case 'hexwords':
      return u8.toString('latin1', 0, putHexWords(dv, 0, v as number[], max) - 1);
  }
}
