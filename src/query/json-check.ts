// Is a run of bytes one JSON object, in printable ASCII? The query loader
// copies span(name, fields)'s JSON into the database as it was recorded when
// it is; anything else (other JSON, non-ASCII text to check as UTF-8, damage)
// takes JSON.parse. Checking the bytes here costs a fraction of decoding
// them into a string and parsing it, which was a third of loading a trace
// of such spans.

const QUOTE = 34;
const BACKSLASH = 92;
const MAX_DEPTH = 64; // deeper nesting goes the slow way

/**
 * True if d[o, end) is exactly one JSON object, every byte printable ASCII
 * (0x20-0x7e), with no lone surrogate escaped in its strings.
 */
export function isAsciiJsonObject(d: Uint8Array, o: number, end: number): boolean {
  const p = skipSpaces(d, o, end);
  if (p >= end || d[p] !== 123) return false;
  const after = value(d, p, end, 0);
  return after >= 0 && skipSpaces(d, after, end) === end;
}

function skipSpaces(d: Uint8Array, p: number, end: number): number {
  while (p < end && d[p] === 32) p++;
  return p;
}

/** The offset after the JSON value at p, or -1. */
function value(d: Uint8Array, p: number, end: number, depth: number): number {
  if (p >= end) return -1;
  const c = d[p]!;
  if (c === QUOTE) return string(d, p, end);
  if (c === 123 || c === 91) { // { or [
    if (depth >= MAX_DEPTH) return -1;
    const object = c === 123;
    const close = object ? 125 : 93;
    p = skipSpaces(d, p + 1, end);
    if (p < end && d[p] === close) return p + 1;
    for (;;) {
      if (object) {
        if (p >= end || d[p] !== QUOTE) return -1;
        p = skipSpaces(d, string(d, p, end), end);
        if (p < 0 || p >= end || d[p] !== 58) return -1; // :
        p = skipSpaces(d, p + 1, end);
      }
      p = value(d, p, end, depth + 1);
      if (p < 0) return -1;
      p = skipSpaces(d, p, end);
      if (p >= end) return -1;
      if (d[p] === close) return p + 1;
      if (d[p] !== 44) return -1; // ,
      p = skipSpaces(d, p + 1, end);
    }
  }
  if (c === 116) return word(d, p, end, 'true');
  if (c === 102) return word(d, p, end, 'false');
  if (c === 110) return word(d, p, end, 'null');
  return number(d, p, end);
}

/** The offset after the string at p (which is its opening quote), or -1. */
function string(d: Uint8Array, p: number, end: number): number {
  if (p < 0) return -1;
  for (p++; p < end; p++) {
    const c = d[p]!;
    if (c === QUOTE) return p + 1;
    if (c < 0x20 || c > 0x7e) return -1;
    if (c === BACKSLASH) {
      if (++p >= end) return -1;
      const e = d[p]!;
      if (e === 117) { // \uXXXX: a surrogate only as half of a pair (DuckDB refuses a lone one)
        const u = hex4(d, p + 1, end);
        if (u < 0 || (u >= 0xdc00 && u <= 0xdfff)) return -1;
        p += 4;
        if (u >= 0xd800 && u <= 0xdbff) {
          const low = p + 2 < end && d[p + 1] === BACKSLASH && d[p + 2] === 117 ? hex4(d, p + 3, end) : -1;
          if (low < 0xdc00 || low > 0xdfff) return -1;
          p += 6;
        }
      } else if (e !== QUOTE && e !== BACKSLASH && e !== 47 && e !== 98 && e !== 102 && e !== 110 && e !== 114 &&
        e !== 116) {
        return -1;
      }
    }
  }
  return -1;
}

/** The four hex digits at p as a number, or -1. */
function hex4(d: Uint8Array, p: number, end: number): number {
  if (p + 4 > end) return -1;
  let n = 0;
  for (let i = 0; i < 4; i++) {
    const c = d[p + i]!;
    const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (v < 0) return -1;
    n = n * 16 + v;
  }
  return n;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 48 && c <= 57;
}

function word(d: Uint8Array, p: number, end: number, w: string): number {
  if (p + w.length > end) return -1;
  for (let i = 0; i < w.length; i++) if (d[p + i] !== w.charCodeAt(i)) return -1;
  return p + w.length;
}

/** -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
function number(d: Uint8Array, p: number, end: number): number {
  if (p < end && d[p] === 45) p++; // -
  if (p >= end) return -1;
  if (d[p] === 48) p++;
  else if (isDigit(d[p])) while (p < end && isDigit(d[p])) p++;
  else return -1;
  if (p < end && d[p] === 46) { // .
    p++;
    if (p >= end || !isDigit(d[p])) return -1;
    while (p < end && isDigit(d[p])) p++;
  }
  if (p < end && (d[p] === 101 || d[p] === 69)) { // e E
    p++;
    if (p < end && (d[p] === 43 || d[p] === 45)) p++;
    if (p >= end || !isDigit(d[p])) return -1;
    while (p < end && isDigit(d[p])) p++;
  }
  return p;
}
