// The timeline model shared by the Perfetto and Chrome exports: turns the
// records of a trace (in time order) into tracks, slices, instants and
// counters, streaming, with memory bounded by the number of threads, open
// spans and distinct names.
//
// Spans go on their thread's track, properly nested. Async code can
// interleave spans on one thread (request A begins, B begins, A ends): a span
// whose parent is not the innermost open span of a lane goes on another lane
// of the thread (a child track "<thread> (async N)"), reused once empty. A
// span that ends while spans started inside it are still open (a child that
// outlived its parent) ends those at the same instant, since slices must
// nest; their own later ends become instants "<name> (ended after its
// parent)". Spans still open when the trace ends are ended at its last
// timestamp with the annotation unfinished=true. Every such case is counted
// in the summary.
import type { FieldValue } from '../decode';
import type { ClassDescription } from '../schema';
import type { StreamCursor } from '../trace/cursor';
import type { Names } from './processes';

export type TrackKind = 'process' | 'thread' | 'lane' | 'counter';

export interface Track {
  id: number; // unique, > 0 (Perfetto uuid)
  kind: TrackKind;
  pid: number;
  tid: number;
  name: string;
  parent: Track | undefined;
  thread: ThreadState | undefined; // the thread whose sequence it belongs to
}

/** Annotations as parallel arrays (reused between events: sinks must not keep them). */
export interface Annotations {
  keys: string[];
  values: FieldValue[];
  length: number;
}

export interface TimelineSink {
  track(t: Track): void;
  begin(t: Track, ns: number, category: string, name: string, args: Annotations | null): void;
  end(t: Track, ns: number, args: Annotations | null): void;
  instant(t: Track, ns: number, category: string, name: string, args: Annotations | null): void;
  counter(t: Track, ns: number, value: number): void;
}

export interface ModelSummary {
  events: number;
  spans: number;
  asyncLanes: number;
  endedWithParent: number;
  unfinished: number;
  endsWithoutBegin: number;
}

type SpanId = number | bigint;

interface OpenSpan {
  id: SpanId;
  lane: Lane;
}

interface Lane {
  track: Track;
  stack: SpanId[];
}

export interface ThreadState {
  pid: number;
  tid: number;
  seq: number; // 1-based index: the Perfetto packet sequence of this thread
  track: Track;
  lanes: Lane[];
  open: Map<SpanId, OpenSpan>;
  ended: Set<SpanId>; // ended early with their parent; their real end is still to come
  counters: Map<number, Track>; // class id -> counter track
}

export class TimelineModel {
  readonly summary: ModelSummary = { events: 0, spans: 0, asyncLanes: 0, endedWithParent: 0, unfinished: 0,
    endsWithoutBegin: 0 };
  private readonly processes = new Map<number, Track>();
  private readonly threads = new Map<number, ThreadState>(); // by pid * 2^22 + tid
  private nextTrack = 1;
  private lastNs = 0;
  private readonly values: FieldValue[] = [];
  private readonly args: Annotations = { keys: [], values: [], length: 0 };

  constructor(private readonly sink: TimelineSink, private readonly names: Names) {}

  private newTrack(kind: TrackKind, pid: number, tid: number, name: string, parent: Track | undefined,
    thread: ThreadState | undefined): Track {
    const t: Track = { id: this.nextTrack++, kind, pid, tid, name, parent, thread };
    this.sink.track(t);
    return t;
  }

  private thread(pid: number, tid: number): ThreadState {
    const key = pid * 4194304 + tid;
    let th = this.threads.get(key);
    if (th) return th;
    let proc = this.processes.get(pid);
    if (!proc) {
      proc = this.newTrack('process', pid, pid, this.names.process(pid), undefined, undefined);
      this.processes.set(pid, proc);
    }
    th = { pid, tid, seq: this.threads.size + 1, track: undefined as unknown as Track, lanes: [], open: new Map(),
      ended: new Set(), counters: new Map() };
    th.track = this.newTrack('thread', pid, tid, this.names.thread(pid, tid), proc, th);
    th.lanes.push({ track: th.track, stack: [] });
    this.threads.set(key, th);
    return th;
  }

  /** Feed the cursor's current record (records must come in time order). */
  add(c: StreamCursor): void {
    const ns = c.sinceStartNs();
    this.lastNs = ns;
    this.summary.events++;
    const th = this.thread(c.pid(), c.tid());
    const cls = c.cls;
    const v = c.values(this.values, true);
    switch (cls.kind) {
      case 'span_begin': return this.spanBegin(th, ns, cls, v[0]!, v[1]!, v);
      case 'span_end': return this.spanEnd(th, ns, cls, v[0]!, v);
      case 'counter': return this.sink.counter(this.counterTrack(th, c.id, cls), ns, v[0] as number);
      default: return this.sink.instant(th.track, ns, cls.provider, cls.name, this.fieldArgs(cls, v));
    }
  }

  private counterTrack(th: ThreadState, id: number, cls: ClassDescription): Track {
    let t = th.counters.get(id);
    if (!t) {
      const name = `${cls.provider}:${cls.name}${th.pid === th.tid ? '' : ` (${this.names.thread(th.pid, th.tid)})`}`;
      t = this.newTrack('counter', th.pid, th.tid, name, th.track, th);
      th.counters.set(id, t);
    }
    return t;
  }

  /** Fields `from` on as annotations. */
  private fieldArgs(cls: ClassDescription, v: FieldValue[], from = 0): Annotations | null {
    const n = cls.fields.length - from;
    if (n <= 0) return null;
    const a = this.args;
    for (let i = 0; i < n; i++) {
      a.keys[i] = cls.fields[from + i]!.name;
      a.values[i] = v[from + i]!;
    }
    a.length = n;
    return a;
  }

  /**
   * A span record's annotations, after its ids (`from`): the JSON text of
   * `args` (span(name, fields)), or typed fields (spanType).
   */
  private spanArgs(cls: ClassDescription, v: FieldValue[], from: number): Annotations | null {
    const f = cls.fields;
    if (f.length === from + 1 && f[from]!.name === 'args' && f[from]!.type === 'string') {
      return this.jsonArgs(v[from] as string);
    }
    return this.fieldArgs(cls, v, from);
  }

  /** Span fields' JSON (written by the JS API) as annotations; text that is not an object is kept whole. */
  private jsonArgs(json: string): Annotations | null {
    if (!json) return null;
    const a = this.args;
    let obj: unknown;
    try {
      obj = JSON.parse(json);
    } catch {
      obj = undefined;
    }
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
      a.keys[0] = 'args';
      a.values[0] = json;
      a.length = 1;
      return a;
    }
    let n = 0;
    const o = obj as Record<string, unknown>;
    for (const k in o) {
      const val = o[k];
      a.keys[n] = k;
      a.values[n++] = typeof val === 'number' || typeof val === 'boolean' || typeof val === 'string' ? val
        : JSON.stringify(val);
    }
    a.length = n;
    return n ? a : null;
  }

  private spanBegin(th: ThreadState, ns: number, cls: ClassDescription, id: FieldValue, parent: FieldValue,
    v: FieldValue[]): void {
    this.summary.spans++;
    const parentOpen = th.open.get(parent as SpanId);
    let lane: Lane | undefined;
    if (parentOpen && parentOpen.lane.stack[parentOpen.lane.stack.length - 1] === parent) lane = parentOpen.lane;
    lane ??= th.lanes.find((l) => l.stack.length === 0);
    if (!lane) {
      const n = th.lanes.length;
      lane = { track: this.newTrack('lane', th.pid, th.tid, `${th.track.name} (async ${n})`, th.track, th), stack: [] };
      th.lanes.push(lane);
      this.summary.asyncLanes++;
    }
    lane.stack.push(id as SpanId);
    th.open.set(id as SpanId, { id: id as SpanId, lane });
    this.sink.begin(lane.track, ns, cls.provider, cls.name, this.spanArgs(cls, v, 2));
  }

  private spanEnd(th: ThreadState, ns: number, cls: ClassDescription, id: FieldValue, v: FieldValue[]): void {
    const open = th.open.get(id as SpanId);
    if (!open) {
      if (th.ended.delete(id as SpanId)) {
        this.sink.instant(th.track, ns, cls.provider, `${cls.name} (ended after its parent)`, this.spanArgs(cls, v, 1));
      } else {
        this.summary.endsWithoutBegin++; // its begin is not in the trace (lost, or before the recording)
        this.sink.instant(th.track, ns, cls.provider, `${cls.name} (end without begin)`, this.spanArgs(cls, v, 1));
      }
      return;
    }
    const stack = open.lane.stack;
    while (stack.length && stack[stack.length - 1] !== id) {
      const inner = stack.pop()!;
      th.open.delete(inner);
      th.ended.add(inner);
      this.summary.endedWithParent++;
      this.sink.end(open.lane.track, ns, null);
    }
    stack.pop();
    th.open.delete(id as SpanId);
    this.sink.end(open.lane.track, ns, this.spanArgs(cls, v, 1));
  }

  /** End the spans still open, at the last timestamp. */
  finish(): void {
    const a = this.args;
    for (const th of this.threads.values()) {
      for (const lane of th.lanes) {
        while (lane.stack.length) {
          lane.stack.pop();
          this.summary.unfinished++;
          a.keys[0] = 'unfinished';
          a.values[0] = true;
          a.length = 1;
          this.sink.end(lane.track, this.lastNs, a);
        }
      }
      th.open.clear();
    }
  }
}
