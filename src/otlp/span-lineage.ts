// Which trace a span belongs to and under which parent: the OTLP builder
// asks here when a span begins. A parent is found among the spans open in
// its process or, if it ended already, among the spans ended lately (a child
// may begin after its parent ended: it still belongs to its parent's trace).
// ringtrace's own spans take ids made from their ringtrace ids (ids.ts), a
// root's trace id from the W3C traceparent it was called with when there was
// one; OpenTelemetry's spans keep their own (otel-spans.ts).
import { hexSpanId, hexTraceId, IdMaker, type TraceId } from './ids';
import { attrsOf, NO_TRACE, type OpenSpan, type SpanIds } from './open-span';
import { RecentTraceIds } from './recent';
import { FLAGS_REMOTE } from './schema';
import type { SpanTable } from '../trace/span-table';

export class SpanLineage {
  private readonly recent = new RecentTraceIds(); // spans ended lately, of every process
  private readonly found: { traceId: TraceId; idHi: number; idLo: number } = { traceId: NO_TRACE, idHi: 0, idLo: 0 };

  private readonly ids: IdMaker;

  /** `seed`: the trace's, mixed into every id made (ids.ts traceSeed). */
  constructor(seed: number) {
    this.ids = new IdMaker(seed);
  }

  /**
   * The ids of process pid's span hi:lo as a parent: open (in `open`), or
   * ended lately; undefined if not known. (What is returned for an ended
   * span is reused by the next call.)
   */
  parentIds(open: SpanTable<OpenSpan>, pid: number, hi: number, lo: number): SpanIds | undefined {
    const s = open.get(hi, lo);
    if (s) return s;
    const t = this.recent.get(pid, hi, lo);
    if (!t) return undefined;
    const f = this.found;
    if (this.recent.isOtel()) {
      f.idHi = hi;
      f.idLo = lo;
    } else {
      this.ids.spanId(f, pid, hi, lo);
    }
    f.traceId = t;
    return f;
  }

  /**
   * The ids of ringtrace's own span s (hi:lo of process pid): its own made
   * from its ringtrace id; its trace and parent from `parent` (parentIds), or
   * as the parent parentHi:parentLo would have had them when the trace does
   * not hold it, or for a root (parent 0) from the W3C ids it recorded
   * (`traceHex`, `parentHex`: '' when none). A trace_id that is no W3C id is
   * kept as an attribute.
   */
  assignOwn(s: OpenSpan, pid: number, hi: number, lo: number, parent: SpanIds | undefined, parentHi: number,
    parentLo: number, traceHex: string, parentHex: string): void {
    const ids = this.ids;
    ids.spanId(s, pid, hi, lo);
    if (parent) {
      s.traceId = parent.traceId;
      s.parentHi = parent.idHi;
      s.parentLo = parent.idLo;
    } else if (parentHi !== 0 || parentLo !== 0) { // a parent not in the trace: its ids as it would have had them
      s.traceId = ids.traceId(pid, parentHi, parentLo);
      ids.spanId(this.found, pid, parentHi, parentLo);
      s.parentHi = this.found.idHi;
      s.parentLo = this.found.idLo;
    } else {
      const remote = hexTraceId(traceHex); // a W3C traceparent it was called with
      s.traceId = remote ?? ids.traceId(pid, hi, lo);
      const remoteParent = remote && hexSpanId(parentHex);
      if (remoteParent) {
        [s.parentHi, s.parentLo] = remoteParent;
        s.flags = FLAGS_REMOTE;
      }
      if (!remote && traceHex) attrsOf(s).push('trace_id', traceHex); // not an id: kept as it was
    }
  }

  /** s has ended: its children yet to begin still find its trace. */
  ended(s: OpenSpan): void {
    this.recent.add(s.pid, s.rawHi, s.rawLo, s.traceId, s.otel);
  }
}
