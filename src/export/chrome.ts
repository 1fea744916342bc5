// Chrome trace event JSON ({"traceEvents": [...]}) for chrome://tracing and
// other viewers of that format: B/E pairs for spans, "i" (thread scope) for
// events with their fields as args, "C" for counters, "M" metadata naming
// processes and threads. Timestamps are microseconds since the trace's first
// event with three decimals, so nanoseconds are kept (absolute epoch
// microseconds would not fit a double that precisely); the epoch time of
// zero is in otherData.trace_start_epoch_ns. Async lanes of a thread (see
// model.ts) become extra thread ids, named after their thread.
import type { FieldValue } from '../decode';
import type { StreamCursor } from '../trace/cursor';
import { jsonValue } from './jsonl';
import type { EndMark, TimelineSink, Track } from './model';
import { type Annotations, RecordArgs } from './record-args';

const LANE_TID_BASE = 1 << 30; // lanes get tid LANE_TID_BASE + track id: unlike any real tid

function micros(ns: number): string {
  const us = Math.floor(ns / 1000);
  const frac = ns - us * 1000;
  return frac === 0 ? String(us) : `${us}.${frac < 10 ? '00' : frac < 100 ? '0' : ''}${frac}`;
}

function argsJson(a: Annotations | null): string {
  if (!a || !a.length) return '';
  let s = ',"args":{';
  for (let i = 0; i < a.length; i++) s += `${i ? ',' : ''}${JSON.stringify(a.keys[i])}:${jsonValue(a.values[i]!)}`;
  return s + '}';
}

export class ChromeSink implements TimelineSink {
  private first = true;
  private readonly tids = new Map<Track, string>(); // track -> '"pid":P,"tid":T'
  private readonly quoted = new Map<string, string>();
  private readonly args = new RecordArgs();
  private readonly values: FieldValue[] = [];

  constructor(private readonly write: (text: string) => void, private readonly startNs: bigint) {
    this.write('{"traceEvents":[\n');
  }

  private emit(json: string): void {
    this.write(this.first ? json : ',\n' + json);
    this.first = false;
  }

  private q(s: string): string {
    let v = this.quoted.get(s);
    if (v === undefined) {
      v = JSON.stringify(s);
      if (this.quoted.size < 100_000) this.quoted.set(s, v);
    }
    return v;
  }

  track(t: Track): void {
    let tid = t.tid;
    if (t.kind === 'lane') tid = LANE_TID_BASE + t.id;
    else if (t.kind === 'counter') tid = t.parent ? t.tid : t.pid;
    const ids = `"pid":${t.pid},"tid":${tid}`;
    this.tids.set(t, ids);
    if (t.kind === 'process') {
      this.emit(`{"ph":"M","name":"process_name",${ids},"args":{"name":${this.q(t.name)}}}`);
    } else if (t.kind === 'thread' || t.kind === 'lane') {
      this.emit(`{"ph":"M","name":"thread_name",${ids},"args":{"name":${this.q(t.name)}}}`);
    }
  }

  begin(t: Track, ns: number, c: StreamCursor, k: number): void {
    const args = this.args.of(c, k);
    this.emit(`{"ph":"B",${this.tids.get(t)},"ts":${micros(ns)},"cat":${this.q(c.cls.provider)},` +
      `"name":${this.q(this.args.spanName ?? c.cls.name)}${argsJson(args)}}`); // spanName: see record-args.ts
  }

  end(t: Track, ns: number, c: StreamCursor, k: number): void {
    this.emit(`{"ph":"E",${this.tids.get(t)},"ts":${micros(ns)}${argsJson(this.args.of(c, k))}}`);
  }

  endWithout(t: Track, ns: number, why: EndMark): void {
    this.emit(`{"ph":"E",${this.tids.get(t)},"ts":${micros(ns)}${argsJson(this.args.mark(why))}}`);
  }

  instant(t: Track, ns: number, c: StreamCursor, k: number, suffix: string): void {
    const args = this.args.of(c, k);
    this.emit(`{"ph":"i","s":"t",${this.tids.get(t)},"ts":${micros(ns)},"cat":${this.q(c.cls.provider)},` +
      `"name":${this.q((this.args.spanName ?? c.cls.name) + suffix)}${argsJson(args)}}`); // (see record-args.ts)
  }

  counter(t: Track, ns: number, c: StreamCursor, k: number): void {
    c.select(k);
    const value = c.values(this.values, true)[0] as number;
    this.emit(`{"ph":"C",${this.tids.get(t)},"ts":${micros(ns)},"name":${this.q(t.name)},` +
      `"args":{"value":${jsonValue(value)}}}`);
  }

  finish(): void {
    this.write(`\n],"displayTimeUnit":"ns","otherData":{"tool":"ringtrace",` +
      `"trace_start_epoch_ns":"${this.startNs}"}}\n`);
  }
}
