// String fields written into the staging buffer: UTF-8 then NUL, at most
// `max` bytes (a longer string is cut at a whole character and ends in '…').
// Room for max + 1 bytes is guaranteed when the event class is defined.
import { utf8Write } from './buffer-internals';

const TRUNCATION_MARK = [0xe2, 0x80, 0xa6]; // U+2026 '…' ends a truncated string


/** Slow path: long, non-ASCII or NUL-containing strings. */
export function writeStringSlow(u8: Buffer, o: number, s: string, max: number): number {
  const clean = s.includes('\0') ? s.replaceAll('\0', '\uFFFD') : s; // NUL would end the string early
  // Encode straight into staging (room for max + 1 bytes is guaranteed at
  // definition time); whole characters only.
  const written = utf8Write(u8, clean, o, max + 1);
  // Stopping more than a character (4 bytes) short of the room means it all fit: no byteLength pass.
  if (written <= max && (written < max - 3 || Buffer.byteLength(clean, 'utf8') === written)) {
    u8[o + written] = 0;
    return o + written + 1;
  }
  let cut = Math.max(0, Math.min(written, max - TRUNCATION_MARK.length));
  while (cut > 0 && ((u8[o + cut] ?? 0) & 0xc0) === 0x80) cut--; // keep whole UTF-8 sequences
  u8.set(TRUNCATION_MARK, o + cut);
  u8[o + cut + TRUNCATION_MARK.length] = 0;
  return o + cut + TRUNCATION_MARK.length + 1;
}

/** Strings up to this many UTF-16 units take the charCodeAt loop (~2.5 ns per
 * character here); longer ones are cheaper through Buffer#utf8Write (~65 ns flat). */
const SHORT_STRING = 24;

/** Fast path: short ASCII copied with charCodeAt (≈4× cheaper than TextEncoder here). */
export function writeString(u8: Buffer, o: number, s: string, max: number): number {
  const n = s.length;
  if (n <= SHORT_STRING && n <= max) {
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c - 1 >>> 0 >= 0x7f) break; // NUL or not ASCII: slow path
      u8[o + i] = c;
    }
    if (i === n) {
      u8[o + n] = 0;
      return o + n + 1;
    }
  }
  return writeStringSlow(u8, o, s, max);
}
