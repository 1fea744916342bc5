// Spans that ended lately, of every process, by pid and ringtrace span id:
// a child may begin after its parent ended (work a request started and did
// not wait for) and still needs something of it (its trace id for the OTLP
// export, its depth for the query tables). A direct-mapped table: a span's
// slot comes from its id, and a later span landing on the same slot replaces
// it, so a child beginning long after its parent may miss it. Only the keys
// are here; each user keeps its values in arrays of its own, by slot. Typed
// arrays, no object per span: ended spans kept as objects reached the old
// heap, and collecting them there cost an export 40 % of its time.

export class RecentSpans {
  private readonly pid: Uint32Array;
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;

  /** `slots`: a power of two. */
  constructor(readonly slots: number) {
    this.pid = new Uint32Array(slots);
    this.hi = new Uint32Array(slots);
    this.lo = new Uint32Array(slots);
  }

  private slot(pid: number, hi: number, lo: number): number {
    return (Math.imul(hi ^ Math.imul(lo ^ Math.imul(pid, 0x27d4eb2f), 0x9e3779b1), 0x85ebca6b) >>> 16) &
      (this.slots - 1);
  }

  /** Span hi:lo of process pid ended: its slot, now its own (the caller stores its values there). */
  add(pid: number, hi: number, lo: number): number {
    const i = this.slot(pid, hi, lo);
    this.pid[i] = pid;
    this.hi[i] = hi;
    this.lo[i] = lo;
    return i;
  }

  /** The slot of process pid's span hi:lo if it ended lately, else -1. (Span id 0 is no span.) */
  find(pid: number, hi: number, lo: number): number {
    const i = this.slot(pid, hi, lo);
    return this.pid[i] !== pid || this.hi[i] !== hi || this.lo[i] !== lo || (hi === 0 && lo === 0) ? -1 : i;
  }
}
