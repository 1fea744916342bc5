// The trace ids of spans that ended lately, of every process (recent-spans.ts):
// a child may begin after its parent ended and still belongs to its
// parent's trace; a child that misses its parent there gets a trace id made
// from the parent's id. Only the trace id is kept (a span's own id is made
// again from its ringtrace id, or is that id for OpenTelemetry's spans), as
// words by slot.
import { RecentSpans } from '../trace/recent-spans';
import type { TraceId } from './ids';

const SLOTS = 1 << 16; // one table for every process: ~1.6 MB, whatever their number

export class RecentTraceIds {
  private readonly spans = new RecentSpans(SLOTS);
  private readonly otel = new Uint8Array(SLOTS);
  // The trace id's words, not the object: a reference kept here outlived two young-generation collections,
  // so every root span's trace id was promoted to the old heap (a root-span export spent 15 % collecting them).
  private readonly trace = new Uint32Array(4 * SLOTS);

  /** Span hi:lo (its ringtrace id) of process pid ended, in trace t; `otel`: an OpenTelemetry span. */
  add(pid: number, hi: number, lo: number, t: TraceId, otel: boolean): void {
    const i = this.spans.add(pid, hi, lo);
    this.otel[i] = otel ? 1 : 0;
    const w = 4 * i;
    this.trace[w] = t.w0;
    this.trace[w + 1] = t.w1;
    this.trace[w + 2] = t.w2;
    this.trace[w + 3] = t.w3;
  }

  /** The trace of process pid's span hi:lo if it ended lately, else undefined; isOtel() then says which kind it was. */
  get(pid: number, hi: number, lo: number): TraceId | undefined {
    const i = this.spans.find(pid, hi, lo);
    if (i < 0) return undefined;
    this.last = i;
    const t = this.trace;
    return { w0: t[4 * i]!, w1: t[4 * i + 1]!, w2: t[4 * i + 2]!, w3: t[4 * i + 3]! };
  }
  private last = 0;

  isOtel(): boolean {
    return this.otel[this.last] === 1;
  }
}
