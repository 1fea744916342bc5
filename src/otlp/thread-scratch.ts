// Per thread, the bytes of its open spans encoded so far: a span's planned
// attributes at its begin and its span events as they come, in one buffer.
// Spans nest, so the innermost span's bytes are always at the end: it appends
// to the buffer, and when it ends its bytes are copied into the span and the
// buffer goes back to where the next span down stopped. Async code can end a
// span that is not the innermost: its bytes (frozen when a span began above
// it) are copied and left as a hole, and holes are compacted away once the
// buffer outgrows what its open spans hold.
import { ProtoWriter } from '../export/protowire';
import type { OpenSpan } from './open-span';

const COMPACT_AT = 1 << 18;

export class ThreadScratch {
  readonly stack: OpenSpan[] = []; // the thread's open spans, innermost last
  readonly w = new ProtoWriter(1 << 12);
  private compactAt = COMPACT_AT;

  /** Where a span beginning now starts its bytes (write them, then call opened()). */
  mark(): number {
    if (this.w.pos >= this.compactAt) this.compact();
    return this.w.pos;
  }

  /** Span s began, its bytes starting at `start`: it is the innermost now. */
  opened(s: OpenSpan, start: number): void {
    const n = this.stack.length;
    if (n > 0) this.stack[n - 1]!.frozenEnd = start; // (never index -1: V8 looks "-1" up as a property, ~40 ns)
    s.regionStart = start;
    s.frozenEnd = -1;
    this.stack.push(s);
  }

  /** The end of s's bytes. */
  regionEnd(s: OpenSpan): number {
    return s.frozenEnd >= 0 ? s.frozenEnd : this.w.pos;
  }

  /** s has ended and its bytes were copied: forget it. */
  closed(s: OpenSpan): void {
    const stack = this.stack;
    const n = stack.length;
    if (n > 0 && stack[n - 1] === s) {
      stack.pop();
      if (n > 1) {
        const top = stack[n - 2]!;
        this.w.pos = top.frozenEnd; // what the spans above it held is gone with them
        top.frozenEnd = -1;
      } else {
        this.w.pos = 0;
      }
    } else {
      stack.splice(stack.lastIndexOf(s), 1); // a hole until the spans above it end or compact() runs
    }
  }

  /** Move the open spans' bytes down over the holes. */
  private compact(): void {
    const w = this.w;
    let to = 0;
    for (const s of this.stack) {
      const from = s.regionStart;
      const length = this.regionEnd(s) - from; // the innermost's runs to w.pos, still unchanged here
      w.buf.copyWithin(to, from, from + length);
      s.regionStart = to;
      if (s.frozenEnd >= 0) s.frozenEnd = to + length;
      to += length;
    }
    w.pos = to;
    this.compactAt = Math.max(COMPACT_AT, 2 * to);
  }
}
