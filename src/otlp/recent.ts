// The trace ids of a process's spans that ended lately: a child may begin
// after its parent ended (work a request started and did not wait for), and
// still belongs to its parent's trace. A direct-mapped table: a span's slot
// comes from its ringtrace id, and a later span landing on the same slot
// replaces it, so a child beginning long after its parent may miss it (its
// trace id is then made from the parent's id). Only the trace id is kept
// (a span's own id is made again from its ringtrace id, or is that id for
// OpenTelemetry's spans); keeping the ended spans in a Map held them long
// enough to reach the old heap, and collecting them there cost an export
// 40 % of its time.
import type { TraceId } from './ids';

const SLOTS = 1 << 13;

export class RecentTraceIds {
  private readonly hi = new Uint32Array(SLOTS);
  private readonly lo = new Uint32Array(SLOTS);
  private readonly otel = new Uint8Array(SLOTS);
  private readonly trace: (TraceId | undefined)[] = new Array<TraceId | undefined>(SLOTS).fill(undefined);

  private static slot(hi: number, lo: number): number {
    return (Math.imul(hi ^ Math.imul(lo, 0x9e3779b1), 0x85ebca6b) >>> 19) & (SLOTS - 1);
  }

  /** Span hi:lo (its ringtrace id) ended, in trace t; `otel`: an OpenTelemetry span. */
  add(hi: number, lo: number, t: TraceId, otel: boolean): void {
    const i = RecentTraceIds.slot(hi, lo);
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.otel[i] = otel ? 1 : 0;
    this.trace[i] = t;
  }

  /** The trace of span hi:lo if it ended lately, else undefined; isOtel() then says which kind it was. */
  get(hi: number, lo: number): TraceId | undefined {
    const i = RecentTraceIds.slot(hi, lo);
    this.last = i;
    return this.hi[i] === hi && this.lo[i] === lo ? this.trace[i] : undefined;
  }
  private last = 0;

  isOtel(): boolean {
    return this.otel[this.last] === 1;
  }
}
