// Trace and span ids for OTLP. Spans recorded with W3C ids (auto mode's
// server spans from an incoming traceparent, OpenTelemetry spans through
// ringtrace/otel) keep them. Other spans get ids made from what identifies
// them in the trace (process, ringtrace span id) mixed with a seed of the
// trace (its session and start): exporting a trace twice gives the same ids,
// two traces do not share them. Ids are kept as 32-bit words, most
// significant first (how their hex reads): a typed array per id cost a third
// of an export's time in allocation and collection.
//
// Made ids never repeat within a trace: an id is a keyed permutation of the
// 64-bit ringtrace span id (unique within its process), keys drawn per
// process, so two spans of a process never share an id; a trace id's high
// half is a permutation of the pid, so two processes never share a trace id
// either. (Ids hashed down to 32 bits first repeated: ~80 duplicate span ids
// among 1 M spans of two threads.)
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

/** Round keys of a 64-bit permutation (four Feistel rounds). */
class Permutation {
  private readonly k0: number;
  private readonly k1: number;
  private readonly k2: number;
  private readonly k3: number;

  constructor(seed: number, salt: number, pid: number) {
    const h = mix(mix(seed, salt), pid);
    this.k0 = mix(h, 1);
    this.k1 = mix(h, 2);
    this.k2 = mix(h, 3);
    this.k3 = mix(h, 4);
  }

  /**
   * hi:lo permuted, into out.hi:out.lo. Each round xors one half with a mix
   * of the other, which the next inverse round can undo: distinct inputs,
   * distinct outputs, whatever the keys.
   */
  apply(hi: number, lo: number, out: { hi: number; lo: number }): void {
    let l = hi;
    let r = lo;
    l = (l ^ mix(r, this.k0)) >>> 0;
    r = (r ^ mix(l, this.k1)) >>> 0;
    l = (l ^ mix(r, this.k2)) >>> 0;
    r = (r ^ mix(l, this.k3)) >>> 0;
    out.hi = l;
    out.lo = r;
  }
}

const SALT_SPAN = 1;
const SALT_TRACE = 2;
const SALT_PREFIX = 3;

/** A process's permutations, and the high half of its root spans' trace ids. */
interface ProcessIds {
  span: Permutation;
  trace: Permutation;
  prefixHi: number;
  prefixLo: number;
}

const MAX_PROCESSES = 4096; // kept at once (a live export of a busy host sees many come and go)

/** The ids made for one trace's spans (see the top of this file). */
export class IdMaker {
  private readonly processes = new Map<number, ProcessIds>();
  private lastPid = -1;
  private last: ProcessIds | undefined;
  private readonly prefixes: Permutation;
  private readonly out = { hi: 0, lo: 0 };

  constructor(private readonly seed: number) {
    this.prefixes = new Permutation(seed, SALT_PREFIX, 0);
  }

  /** The span id made for ringtrace span hi:lo of process pid, as its high and low words in `into`. */
  spanId(into: { idHi: number; idLo: number }, pid: number, hi: number, lo: number): void {
    const o = this.out;
    this.process(pid).span.apply(hi, lo, o);
    into.idHi = o.hi;
    into.idLo = o.lo === 0 && o.hi === 0 ? 1 : o.lo; // (an all-zero id is invalid; 1 in 2^64)
  }

  /** The trace id made for a root span hi:lo of process pid (or for a parent the trace does not hold). */
  traceId(pid: number, hi: number, lo: number): TraceId {
    const p = this.process(pid);
    const o = this.out;
    p.trace.apply(hi, lo, o);
    const w3 = o.lo === 0 && o.hi === 0 && p.prefixHi === 0 && p.prefixLo === 0 ? 1 : o.lo;
    return { w0: p.prefixHi, w1: p.prefixLo, w2: o.hi, w3 };
  }

  private process(pid: number): ProcessIds {
    if (pid === this.lastPid) return this.last!;
    let p = this.processes.get(pid);
    if (!p) {
      if (this.processes.size >= MAX_PROCESSES) this.processes.clear();
      const o = this.out;
      this.prefixes.apply(SALT_TRACE, pid >>> 0, o); // a permutation of the pid: one prefix per process
      p = { span: new Permutation(this.seed, SALT_SPAN, pid), trace: new Permutation(this.seed, SALT_TRACE, pid),
        prefixHi: o.hi, prefixLo: o.lo };
      this.processes.set(pid, p);
    }
    this.lastPid = pid;
    return this.last = p;
  }
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
