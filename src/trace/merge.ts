// Merging the streams of a trace in time order: a k-way merge of the
// stream cursors, handing over runs of records (export) or single records
// (view, soak).
import type { StreamCursor } from './cursor';

/** Ticks of a cursor's first record not yet taken. */
function head(c: StreamCursor): number {
  return c.rels[c.i]!;
}

/**
 * Every record of the trace in timestamp order (a k-way merge of the
 * streams), handed over as runs: `run(c, from, to)` gets records [from, to)
 * of c's current packet, which come before every other stream's next record
 * (ties go to the stream listed first). A damaged stream stops at its damage:
 * the error goes to onError and the other streams continue. `run` must not
 * keep the cursor's data, and returns false to stop. `tick` (optional) runs
 * about every 65 536 records, for progress. Returns the number of records
 * handed over.
 */
export function mergeRuns(cursors: StreamCursor[], onError: (e: Error) => void,
  run: (c: StreamCursor, from: number, to: number) => boolean | void, tick?: (taken: number) => void): number {
  const fill = (c: StreamCursor): boolean => {
    try {
      return c.fill();
    } catch (e) {
      onError(e as Error);
      return false;
    }
  };
  const live: StreamCursor[] = [];
  for (const c of cursors) if (fill(c)) live.push(c);
  let taken = 0;
  let nextTick = 0x10000;
  while (live.length) {
    let min = 0;
    for (let j = 1; j < live.length; j++) if (head(live[j]!) < head(live[min]!)) min = j;
    let bound = Infinity; // the earliest next record of the other streams
    for (let j = 0; j < live.length; j++) if (j !== min && head(live[j]!) < bound) bound = head(live[j]!);
    const c = live[min]!;
    const from = c.i;
    const rels = c.rels;
    let to = from + 1;
    while (to < c.count && rels[to]! < bound) to++;
    if (run(c, from, to) === false) return taken;
    taken += to - from;
    if (taken >= nextTick) {
      nextTick = taken + 0x10000;
      if (tick) tick(taken);
    }
    c.i = to;
    if (to === c.count && !fill(c)) live.splice(min, 1);
  }
  return taken;
}

/**
 * Visit every record of the trace in timestamp order, one at a time (the
 * cursor is positioned on it); see mergeRuns. `visit` returns false to stop.
 * Returns the number of records visited.
 */
export function mergeCursors(cursors: StreamCursor[], onError: (e: Error) => void,
  visit: (c: StreamCursor) => boolean | void, tick?: (visited: number) => void): number {
  let visited = 0;
  mergeRuns(cursors, onError, (c, from, to) => {
    for (let k = from; k < to; k++) {
      c.select(k);
      if (visit(c) === false) return false;
      visited++;
    }
    c.i = to - 1; // mergeRuns sets it to `to` next
    return true;
  }, tick && (() => tick(visited)));
  return visited;
}
