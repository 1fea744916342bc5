// Records into top's window: each counted by class, process and CPU; a span
// end matched with its begin (same process, same span id) gives a duration.
// Sources differ in how they read records (a session's rings, a trace
// directory) but hand each over the same way: its class, CPU, time in ns
// (any origin, one per source) and its payload bytes (pid, tid, fields).
import type { ClassDescription } from '../schema';
import type { LiveWindow } from './window';

/** Spans begun and not ended kept at most (the oldest is forgotten beyond: a span never ended). */
const MAX_OPEN_SPANS = 100_000;

export interface RecordFeed {
  record(cls: ClassDescription, cpu: number, ns: number, data: Buffer, at: number, end: number): void;
}

export class TopFeed implements RecordFeed {
  private readonly open = new Map<string, { name: string; ns: number }>();
  /** Span ends whose begin was not seen (begun before top started, or forgotten). */
  unmatched = 0;
  /** Time the records are counted at (ms): set by the caller before handing over a batch. */
  now = 0;

  constructor(private readonly window: LiveWindow) {}

  record(cls: ClassDescription, cpu: number, ns: number, data: Buffer, at: number, end: number): void {
    if (end - at < 8) return; // no pid/tid context: not a record a reader accepts
    const pid = data.readUInt32LE(at);
    this.window.event(this.now, cls, pid, cpu);
    const span = cls.kind === 'span_begin' || cls.kind === 'span_end';
    if (!span || end - at < 16 || cls.fields[0]?.type !== 'u64') return;
    const key = `${pid}:${data.readUInt32LE(at + 12)}:${data.readUInt32LE(at + 8)}`;
    if (cls.kind === 'span_begin') {
      if (this.open.size >= MAX_OPEN_SPANS) this.open.delete(this.open.keys().next().value!);
      this.open.set(key, { name: `${cls.provider}:${cls.name}`, ns });
      return;
    }
    const begun = this.open.get(key);
    if (!begun) {
      this.unmatched++;
      return;
    }
    this.open.delete(key);
    this.window.spanEnded(this.now, begun.name, Math.max(0, ns - begun.ns));
  }
}
