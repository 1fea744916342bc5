// The trace ids of spans that ended lately (of every process, by pid and id): a child may begin
// after its parent ended (work a request started and did not wait for), and
// still belongs to its parent's trace. A direct-mapped table: a span's slot
// comes from its ringtrace id, and a later span landing on the same slot
// replaces it, so a child beginning long after its parent may miss it (its
// trace id is then made from the parent's id). Only the trace id is kept
// (a span's own id is made again from its ringtrace id, or is that id for
// OpenTelemetry's spans), as words: keeping the ended spans in a Map held
// them long enough to reach the old heap, and collecting them there cost an
// export 40 % of its time.
import type { TraceId } from './ids';

const SLOTS = 1 << 16; // one table for every process: ~1.6 MB, whatever their number

export class RecentTraceIds {
  private readonly pid = new Uint32Array(SLOTS);
  private readonly hi = new Uint32Array(SLOTS);
  private readonly lo = new Uint32Array(SLOTS);
  private readonly otel = new Uint8Array(SLOTS);
  // The trace id's words, not the object: a reference kept here outlived two young-generation collections,
  // so every root span's trace id was promoted to the old heap (a root-span export spent 15 % collecting them).
  private readonly trace = new Uint32Array(4 * SLOTS);

  private static slot(pid: number, hi: number, lo: number): number {
    return (Math.imul(hi ^ Math.imul(lo ^ Math.imul(pid, 0x27d4eb2f), 0x9e3779b1), 0x85ebca6b) >>> 16) & (SLOTS - 1);
  }

  /** Span hi:lo (its ringtrace id) of process pid ended, in trace t; `otel`: an OpenTelemetry span. */
  add(pid: number, hi: number, lo: number, t: TraceId, otel: boolean): void {
    const i = RecentTraceIds.slot(pid, hi, lo);
    this.pid[i] = pid;
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.otel[i] = otel ? 1 : 0;
    const w = 4 * i;
    this.trace[w] = t.w0;
    this.trace[w + 1] = t.w1;
    this.trace[w + 2] = t.w2;
    this.trace[w + 3] = t.w3;
  }

  /** The trace of process pid's span hi:lo if it ended lately, else undefined; isOtel() then says which kind it was. */
  get(pid: number, hi: number, lo: number): TraceId | undefined {
    const i = RecentTraceIds.slot(pid, hi, lo);
    this.last = i;
    if (this.pid[i] !== pid || this.hi[i] !== hi || this.lo[i] !== lo || (hi === 0 && lo === 0)) return undefined;
    const t = this.trace;
    return { w0: t[4 * i]!, w1: t[4 * i + 1]!, w2: t[4 * i + 2]!, w3: t[4 * i + 3]! };
  }
  private last = 0;

  isOtel(): boolean {
    return this.otel[this.last] === 1;
  }
}
