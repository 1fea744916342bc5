// Trace and span ids for OTLP. Spans recorded with W3C ids (auto mode's
// server spans from an incoming traceparent, OpenTelemetry spans through
// ringtrace/otel) keep them. Other spans get ids made from what identifies
// them in the trace (process, ringtrace span id) mixed with a seed of the
// trace (its session and start): exporting a trace twice gives the same ids,
// two traces or two processes do not share them. Ids are kept as 32-bit
// words, most significant first (how their hex reads): a typed array per id
// cost a third of an export's time in allocation and collection.
import type { ProtoWriter } from '../export/protowire';

/** A 128-bit trace id as four 32-bit words; shared by every span of the trace. */
export interface TraceId {
  readonly w0: number;
  readonly w1: number;
  readonly w2: number;
  readonly w3: number;
}

/** A 32-bit mix of a and b (murmur3's finalizer over a combined word): every input bit moves every output bit. */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ Math.imul(b, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A seed from a trace's identity (session name and start time). */
export function traceSeed(session: string, startNs: bigint): number {
  let h = mix(Number(startNs & 0xffffffffn), Number((startNs >> 32n) & 0xffffffffn));
  for (let i = 0; i < session.length; i++) h = mix(h, session.charCodeAt(i));
  return h;
}

const SALT_SPAN = 1;
const SALT_TRACE = 2;

/** The hash of (seed, salt, pid, hi, lo) from which an id's words are drawn. */
function idHash(seed: number, salt: number, pid: number, hi: number, lo: number): number {
  return mix(mix(mix(mix(seed, salt), pid), hi), lo);
}

/** Word i of an id drawn from hash h; never 0, so an id is never all zero. */
function word(h: number, i: number): number {
  return mix(h, i + 1) || 1;
}

/** The span id made for ringtrace span hi:lo of process pid, as its high and low words in `out`. */
export function madeSpanId(out: { idHi: number; idLo: number }, seed: number, pid: number, hi: number, lo: number): void {
  const h = idHash(seed, SALT_SPAN, pid, hi, lo);
  out.idHi = word(h, 0);
  out.idLo = word(h, 1);
}

/** The trace id made for a root span hi:lo of process pid (or for a parent the trace does not hold). */
export function madeTraceId(seed: number, pid: number, hi: number, lo: number): TraceId {
  const h = idHash(seed, SALT_TRACE, pid, hi, lo);
  return { w0: word(h, 0), w1: word(h, 1), w2: word(h, 2), w3: word(h, 3) };
}

const HEX16 = /^[0-9a-f]{16}$/;
const HEX32 = /^[0-9a-f]{32}$/;
const ZERO = /^0+$/;
const hexWord = (text: string, i: number) => parseInt(text.slice(8 * i, 8 * i + 8), 16);

/** A W3C trace id (32 lower-case hex digits, not all zero), or undefined. */
export function hexTraceId(text: string): TraceId | undefined {
  if (text.length !== 32 || !HEX32.test(text) || ZERO.test(text)) return undefined;
  return { w0: hexWord(text, 0), w1: hexWord(text, 1), w2: hexWord(text, 2), w3: hexWord(text, 3) };
}

/** A W3C span id (16 lower-case hex digits, not all zero) as [hi, lo], or undefined. */
export function hexSpanId(text: string): [number, number] | undefined {
  if (text.length !== 16 || !HEX16.test(text) || ZERO.test(text)) return undefined;
  return [hexWord(text, 0), hexWord(text, 1)];
}

/** A bytes field of 8 bytes: a span id. */
export function writeSpanId(w: ProtoWriter, tag: number, hi: number, lo: number): void {
  w.varint(tag);
  w.reserve(9);
  w.buf[w.pos++] = 8;
  w.view.setUint32(w.pos, hi, false);
  w.view.setUint32(w.pos + 4, lo, false);
  w.pos += 8;
}

/** A bytes field of 16 bytes: a trace id. */
export function writeTraceId(w: ProtoWriter, tag: number, t: TraceId): void {
  w.varint(tag);
  w.reserve(17);
  w.buf[w.pos++] = 16;
  const v = w.view;
  const p = w.pos;
  v.setUint32(p, t.w0, false);
  v.setUint32(p + 4, t.w1, false);
  v.setUint32(p + 8, t.w2, false);
  v.setUint32(p + 12, t.w3, false);
  w.pos += 16;
}
