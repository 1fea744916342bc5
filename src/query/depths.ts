// Span depth for the query tables: a span's parent's depth + 1, 0 for a
// root. The parent is usually still open when a child begins; a child that
// begins after its parent ended (work the parent left behind) finds it among
// the spans ended lately (recent-spans.ts). A parent found nowhere (not in
// the trace, or ended long before) counts as a root: its child gets depth 1.
// No allocation per span: a Map here cost the loader a third of its time.
import { RecentSpans } from '../trace/recent-spans';
import { SpanTable } from '../trace/span-table';

const SLOTS = 1 << 16; // ended spans remembered, for every process together

export class SpanDepths {
  private readonly processes = new Map<number, SpanTable<number>>();
  private lastPid = -1;
  private last = new SpanTable<number>();
  private readonly ended = new RecentSpans(SLOTS);
  private readonly endedDepth = new Int32Array(SLOTS);

  private open(pid: number): SpanTable<number> {
    if (pid === this.lastPid) return this.last;
    let t = this.processes.get(pid);
    if (!t) this.processes.set(pid, (t = new SpanTable<number>()));
    this.lastPid = pid;
    return (this.last = t);
  }

  /** Span hi:lo of pid begins under parent parentHi:parentLo (0:0 none); returns its depth. */
  begin(pid: number, hi: number, lo: number, parentHi: number, parentLo: number): number {
    const open = this.open(pid);
    let depth = 0;
    if (parentHi !== 0 || parentLo !== 0) {
      let d = open.get(parentHi, parentLo);
      if (d === undefined) {
        const i = this.ended.find(pid, parentHi, parentLo);
        d = i >= 0 ? this.endedDepth[i]! : 0;
      }
      depth = d + 1;
    }
    if (open.get(hi, lo) === undefined) open.set(hi, lo, depth); // (an id begun twice keeps its first)
    return depth;
  }

  end(pid: number, hi: number, lo: number): void {
    const open = this.open(pid);
    const depth = open.get(hi, lo);
    if (depth === undefined) return;
    open.delete(hi, lo);
    this.endedDepth[this.ended.add(pid, hi, lo)] = depth;
  }
}
