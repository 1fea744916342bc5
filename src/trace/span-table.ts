// A process's open spans by ringtrace span id, keyed by the id's two 32-bit
// words: open addressing in typed arrays. A Map keyed by the id as a Number
// allocated a heap number for every lookup (ids are above 2^32) and hashed
// it; this table allocates nothing per span (the OTLP export keeps its open
// spans here, the query loader their depths).

export class SpanTable<T> {
  private hi = new Uint32Array(64);
  private lo = new Uint32Array(64);
  private spans: (T | undefined)[] = new Array<T | undefined>(64).fill(undefined);
  size = 0;

  private slot(hi: number, lo: number): number {
    return (Math.imul(hi ^ Math.imul(lo, 0x9e3779b1), 0x85ebca6b) >>> 7) & (this.spans.length - 1);
  }

  get(hi: number, lo: number): T | undefined {
    const mask = this.spans.length - 1;
    for (let i = this.slot(hi, lo); ; i = (i + 1) & mask) {
      const s = this.spans[i];
      if (s === undefined) return undefined;
      if (this.hi[i] === hi && this.lo[i] === lo) return s;
    }
  }

  /** Add s under hi:lo (a span id is open once: not already in the table). */
  set(hi: number, lo: number, s: T): void {
    if (2 * (this.size + 1) > this.spans.length) this.grow();
    const mask = this.spans.length - 1;
    let i = this.slot(hi, lo);
    while (this.spans[i] !== undefined) i = (i + 1) & mask;
    this.hi[i] = hi;
    this.lo[i] = lo;
    this.spans[i] = s;
    this.size++;
  }

  delete(hi: number, lo: number): void {
    const mask = this.spans.length - 1;
    let i = this.slot(hi, lo);
    for (; ; i = (i + 1) & mask) {
      if (this.spans[i] === undefined) return;
      if (this.hi[i] === hi && this.lo[i] === lo) break;
    }
    this.spans[i] = undefined;
    this.size--;
    // Move later entries of the run back so every lookup still finds them before an empty slot.
    for (let j = (i + 1) & mask; this.spans[j] !== undefined; j = (j + 1) & mask) {
      const home = this.slot(this.hi[j]!, this.lo[j]!);
      if (((j - home) & mask) >= ((j - i) & mask)) { // its home is at or before the hole: it may move there
        this.hi[i] = this.hi[j]!;
        this.lo[i] = this.lo[j]!;
        this.spans[i] = this.spans[j];
        this.spans[j] = undefined;
        i = j;
      }
    }
  }

  /** Every open span (in no particular order). */
  values(): T[] {
    return this.spans.filter((s): s is T => s !== undefined);
  }

  private grow(): void {
    const old = this.spans;
    const oldHi = this.hi;
    const oldLo = this.lo;
    this.hi = new Uint32Array(2 * old.length);
    this.lo = new Uint32Array(2 * old.length);
    this.spans = new Array<T | undefined>(2 * old.length).fill(undefined);
    this.size = 0;
    for (let i = 0; i < old.length; i++) if (old[i] !== undefined) this.set(oldHi[i]!, oldLo[i]!, old[i]!);
  }
}
