// JSON written straight into the staging buffer: the same bytes as
// JSON.stringify's text written as a string field, without making that text.
// For spans recorded from OpenTelemetry, whose attributes and events are
// records' JSON fields: stringifying a 4-attribute object cost ~250 ns here and
// copying the text ~65 ns more; writing it directly costs a fraction of that.
// Only what those fields hold is written here: plain objects, arrays,
// JsonMembers, strings, numbers, booleans, null. Anything
// else, a text longer than the field's room, or a string that needs escapes
// or is not ASCII, is given to JSON.stringify (for that string, or for the
// whole value) so the bytes stay JSON.stringify's.
import { writeString } from './string-writer';

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;
const DEPTH_LIMIT = 8;

/**
 * A JSON object's members kept as a list (key, value, key, value...), written
 * as that object: OpenTelemetry spans keep their attributes so. Setting
 * attributes on an object is a keyed store on a dictionary-like object,
 * megamorphic in V8, and each was checked with hasOwnProperty; callgrind put
 * those at ~3 k instructions of a bridge span's ~26 k per request of a server.
 * The JSON is JSON.stringify's of the object the same assignments would make
 * (toJSON): a key already present keeps its place and takes the new value.
 */
export class JsonMembers {
  constructor(readonly kv: unknown[] = []) {}

  get size(): number {
    return this.kv.length >> 1;
  }

  /** The object (what JSON.stringify writes, and the writer when a key is integer-like: objects list those first). */
  toJSON(): Record<string, unknown> {
    return membersObject(this.kv);
  }
}

/** The object a key/value list stands for: the same assignments, in order. */
function membersObject(kv: readonly unknown[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0; i < kv.length; i += 2) o[kv[i] as string] = kv[i + 1];
  return o;
}

let u8: Buffer;
let at = 0;
let end = 0;

/** ASCII `s` as is (it must fit: callers check room first). */
function raw(s: string): void {
  const b = u8; // locals: the loop runs per character
  let p = at;
  for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
  at = p;
}

function byte(b: number): boolean {
  if (at >= end) return false;
  u8[at++] = b;
  return true;
}

/** A string as JSON: quoted ASCII without escapes copied; anything else by JSON.stringify. */
function string(s: string): boolean {
  const n = s.length;
  if (at + n + 2 > end) return false;
  const b = u8; // locals: the loop runs per character
  let p = at;
  b[p++] = QUOTE;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    // Printable ASCII but '"' and '\': as is. Anything else needs JSON's escapes or UTF-8.
    if (c < 0x20 || c > 0x7e || c === QUOTE || c === 0x5c) return encoded(JSON.stringify(s));
    b[p++] = c;
  }
  b[p++] = QUOTE;
  at = p;
  return true;
}

/** JSON text that may hold non-ASCII characters, as UTF-8. */
function encoded(text: string): boolean {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (at + bytes > end) return false;
  at += u8.write(text, at, bytes, 'utf8');
  return true;
}

function number(x: number): boolean {
  if ((x | 0) === x) return int32(x); // -0 too: JSON writes it as 0
  return encodedAscii(Number.isFinite(x) ? String(x) : 'null');
}

/**
 * An int32's digits without making its string (String(x) took ~7 % of a
 * bridge span's loop cost). A tenth by multiplying: for 0 <= n <= 2^31,
 * trunc(n * 0.1) is trunc(n / 10) (0.1 rounds up, by far less than a tenth
 * of a unit; checked for every such n), and a multiplication is a few cycles
 * where a division is ~15.
 */
function int32(x: number): boolean {
  let n = x < 0 ? -x : x; // |int32| <= 2^31: exact
  const digits = n < 100000 ? (n < 100 ? (n < 10 ? 1 : 2) : n < 1000 ? 3 : n < 10000 ? 4 : 5)
    : n < 10000000 ? (n < 1000000 ? 6 : 7) : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
  let p = at; // locals: module state read once (each read of it is a load and a check)
  if (p + digits + (x < 0 ? 1 : 0) > end) return false;
  const b = u8;
  if (x < 0) b[p++] = 0x2d;
  const first = p;
  p += digits;
  for (let i = p - 1; i > first; i--) {
    const q = (n * 0.1) >>> 0;
    b[i] = 0x30 + (n - q * 10);
    n = q;
  }
  b[first] = 0x30 + n;
  at = p;
  return true;
}

function value(v: unknown, depth: number): boolean {
  // typeof compared with literals, not switched on: TurboFan turns each comparison into a type check where a
  // switch called the Typeof builtin and compared its strings.
  if (typeof v === 'string') return string(v);
  if (typeof v === 'number') return number(v);
  if (typeof v === 'boolean') return encodedAscii(v ? 'true' : 'false');
  if (typeof v !== 'object') return false; // undefined, functions, symbols, bigints: JSON.stringify's rules, there
  if (v === null) return encodedAscii('null');
  if (v instanceof JsonMembers) return depth < DEPTH_LIMIT && members(v.kv, depth + 1);
  if (depth >= DEPTH_LIMIT || !isPlain(v)) return false;
  return Array.isArray(v) ? array(v, depth + 1) : object(v as Record<string, unknown>, depth + 1);
}

function encodedAscii(text: string): boolean {
  if (at + text.length > end) return false;
  raw(text);
  return true;
}

/** Arrays and objects whose JSON is their elements' or own properties' (no toJSON, no class). */
function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return Array.isArray(v) ? proto === Array.prototype : proto === Object.prototype || proto === null;
}

function array(a: unknown[], depth: number): boolean {
  if (!byte(0x5b)) return false;
  for (let i = 0; i < a.length; i++) {
    if (i > 0 && !byte(COMMA)) return false;
    const e = a[i];
    if (!(e === undefined ? encodedAscii('null') : value(e, depth))) return false;
  }
  return byte(0x5d);
}

function object(o: Record<string, unknown>, depth: number): boolean {
  if (!byte(0x7b)) return false;
  const keys = Object.keys(o); // own enumerable string keys, in JSON.stringify's order
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const v = o[key];
    if (v === undefined) continue; // JSON.stringify leaves such members out
    if (!first && !byte(COMMA)) return false;
    first = false;
    if (!string(key) || !byte(COLON) || !value(v, depth)) return false;
  }
  return byte(0x7d);
}

/** A key/value list (JsonMembers' kv) as its object. */
function members(kv: readonly unknown[], depth: number): boolean {
  for (let i = 0; i < kv.length; i += 2) {
    const key = kv[i] as string;
    const c = key.charCodeAt(0);
    // Maybe integer-like (an object lists those first), or __proto__ (which an assignment does not make a
    // member): the object's JSON.
    if ((c >= 0x30 && c <= 0x39) || key === '__proto__') return object(membersObject(kv), depth);
  }
  if (!byte(0x7b)) return false;
  let first = true;
  for (let i = 0; i < kv.length; i += 2) {
    const v = kv[i + 1];
    if (v === undefined) continue; // JSON.stringify leaves such members out
    if (!first && !byte(COMMA)) return false;
    first = false;
    if (!string(kv[i] as string) || !byte(COLON) || !value(v, depth)) return false;
  }
  return byte(0x7d);
}

/**
 * Write `v`'s JSON at `o` as a string field (UTF-8, then NUL) of at most
 * `max` bytes, as writeString would write JSON.stringify(v): a string `v` is
 * written as it is (already a text). Returns the offset after the NUL.
 */
export function writeJson(buf: Buffer, o: number, v: unknown, max: number): number {
  if (typeof v === 'string') return writeString(buf, o, v, max);
  u8 = buf;
  at = o;
  end = o + max;
  if (value(v, 0)) {
    u8[at] = 0;
    return at + 1;
  }
  return writeString(buf, o, JSON.stringify(v) ?? '', max); // too long to fit, or a shape not handled here
}
