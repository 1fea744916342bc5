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
// nest, marked ended_with_parent=true; their own later ends (if any) become
// instants "<name> (ended after its parent)". Spans still open when the trace ends are ended at its last
// timestamp with the annotation unfinished=true. Every such case is counted
// in the summary.
import type { ClassDescription } from '../schema';
import { DENSE_IDS, type StreamCursor } from '../trace/cursor';
import { EVENT_HEADER } from '../layout';
import type { Names } from './processes';
import { TWO32 } from '../int64';

export type TrackKind = 'process' | 'thread' | 'lane' | 'counter';
/** The annotation (set to true) on the end of a span that had no end record of its own. */
export type EndMark = 'ended_with_parent' | 'unfinished';

export interface Track {
  id: number; // unique, > 0 (Perfetto uuid)
  kind: TrackKind;
  pid: number;
  tid: number;
  name: string;
  parent: Track | undefined;
  thread: ThreadState | undefined; // the thread whose sequence it belongs to
}

/**
 * What the model hands each record to: the track it goes on, its time
 * (ns since the trace start) and the record itself (record k of the cursor's
 * current packet), whose arguments the sink reads as it likes.
 */
export interface TimelineSink {
  track(t: Track): void;
  /** Record k begins a span (slice) on t. */
  begin(t: Track, ns: number, c: StreamCursor, k: number): void;
  /** Record k ends the innermost span of t. */
  end(t: Track, ns: number, c: StreamCursor, k: number): void;
  /**
   * The innermost span of t ends without a record of its own, marked with
   * `why`: it was still open when its parent ended, or when the trace did.
   */
  endWithout(t: Track, ns: number, why: EndMark): void;
  /** Record k as an instant on t, named after its class and `suffix`. */
  instant(t: Track, ns: number, c: StreamCursor, k: number, suffix: string): void;
  /** Record k is a counter value (its first field, f64) on counter track t. */
  counter(t: Track, ns: number, c: StreamCursor, k: number): void;
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

interface Lane {
  track: Track;
  stack: SpanId[];
}

export interface ThreadState {
  pid: number;
  tid: number;
  seq: number; // 1-based index: the Perfetto packet sequence of this thread
  track: Track;
  lanes: Lane[]; // open spans are on their lane's stack (a Map of open spans cost ~7 % of an export)
  ended: Set<SpanId>; // ended early with their parent; their real end is still to come
  counters: Map<number, Track>; // class id -> counter track
  sinkState: unknown; // the sink's own per-thread state (Perfetto: its sequence)
}

// What the model does with a class's records (by class id).
const UNSEEN = 0;
export const INSTANT = 1;
export const BEGIN = 2;
export const END = 3;
export const COUNTER = 4;

/** How records of a class are shown: spans and counters need the fields they are read by. */
function roleOf(cls: ClassDescription): number {
  const f = cls.fields;
  const u64 = (i: number, name: string) => f[i]?.type === 'u64' && f[i]!.name === name;
  if (cls.kind === 'span_begin' && u64(0, 'span_id') && u64(1, 'parent_id')) return BEGIN;
  if (cls.kind === 'span_end' && u64(0, 'span_id')) return END;
  if (cls.kind === 'counter' && f[0]?.type === 'f64') return COUNTER;
  return INSTANT; // events, and span or counter records of a shape the model does not know
}

/** Each class's role, found once: by class id (dense: registry line numbers), a Map beyond. */
export class ClassRoles {
  private readonly dense = new Uint8Array(DENSE_IDS);
  private readonly big = new Map<number, number>();

  /** The role (INSTANT, BEGIN, END, COUNTER) of class `id` of c's trace. */
  of(c: StreamCursor, id: number): number {
    if (id < DENSE_IDS) {
      const r = this.dense[id]!;
      if (r !== UNSEEN) return r;
      return (this.dense[id] = roleOf(c.classOf(id)));
    }
    let r = this.big.get(id);
    if (r === undefined) this.big.set(id, (r = roleOf(c.classOf(id))));
    return r;
  }
}

function top(lane: Lane): SpanId | undefined {
  return lane.stack.length ? lane.stack[lane.stack.length - 1] : undefined;
}

/** A span id (u64) at word w of a packet: a number below 2^53, a bigint beyond. */
function spanId(words: Uint32Array, w: number): SpanId {
  const hi = words[w + 1]!;
  return hi < 0x200000 ? hi * TWO32 + words[w]! : (BigInt(hi) << 32n) | BigInt(words[w]!);
}

export class TimelineModel {
  readonly summary: ModelSummary = { events: 0, spans: 0, asyncLanes: 0, endedWithParent: 0, unfinished: 0,
    endsWithoutBegin: 0 };
  private readonly processes = new Map<number, Track>();
  private readonly threads = new Map<number, ThreadState>(); // by pid * 2^22 + tid
  private nextTrack = 1;
  private lastNs = 0;
  private readonly roles = new ClassRoles();
  // The thread of the previous record: runs of one thread's records are the common case.
  private lastKey = -1;
  private lastThread: ThreadState | undefined;

  constructor(private readonly sink: TimelineSink, private readonly names: Names) {}

  private newTrack(kind: TrackKind, pid: number, tid: number, name: string, parent: Track | undefined,
    thread: ThreadState | undefined): Track {
    const t: Track = { id: this.nextTrack++, kind, pid, tid, name, parent, thread };
    this.sink.track(t);
    return t;
  }

  private thread(pid: number, tid: number): ThreadState {
    const key = pid * 4194304 + tid;
    if (key === this.lastKey) return this.lastThread!;
    let th = this.threads.get(key);
    if (!th) {
      let proc = this.processes.get(pid);
      if (!proc) {
        proc = this.newTrack('process', pid, pid, this.names.process(pid), undefined, undefined);
        this.processes.set(pid, proc);
      }
      th = { pid, tid, seq: this.threads.size + 1, track: undefined as unknown as Track, lanes: [], ended: new Set(),
        counters: new Map(), sinkState: undefined };
      th.track = this.newTrack('thread', pid, tid, this.names.thread(pid, tid), proc, th);
      th.lanes.push({ track: th.track, stack: [] });
      this.threads.set(key, th);
    }
    this.lastKey = key;
    this.lastThread = th;
    return th;
  }

  /** Feed records [from, to) of c's current packet (records must come in time order: see mergeRuns). */
  addRun(c: StreamCursor, from: number, to: number): void {
    const words = c.words; // records are 8-aligned: pid, tid and span ids are whole words
    const at = c.at;
    const size = c.size;
    const ids = c.ids;
    const nsIn = c.nsIn;
    const base = c.time.sinceStartNs;
    for (let k = from; k < to; k++) {
      const p = at[k]! + EVENT_HEADER; // payload: pid, tid, fields
      const w = p >> 2;
      const th = this.thread(words[w]!, words[w + 1]!);
      const ns = base + nsIn[k]!;
      const id = ids[k]!;
      const role = this.roles.of(c, id);
      if (role === INSTANT) {
        this.sink.instant(th.track, ns, c, k, '');
      } else if (role === COUNTER) {
        this.sink.counter(this.counterTrack(th, id, c.classOf(id)), ns, c, k);
      } else {
        const idsEnd = p + 8 + (role === BEGIN ? 16 : 8);
        if (idsEnd > at[k]! + size[k]!) this.damaged(c, k);
        if (role === BEGIN) this.spanBegin(th, ns, c, k, spanId(words, w + 2), spanId(words, w + 4));
        else this.spanEnd(th, ns, c, k, spanId(words, w + 2));
      }
    }
    if (to > from) this.lastNs = base + nsIn[to - 1]!;
    this.summary.events += to - from;
  }

  /** A record too short for its class: decoding it raises the TraceError that names it. */
  private damaged(c: StreamCursor, k: number): never {
    c.select(k);
    c.values([]);
    throw new Error(`${c.stream}: record ${k} of a packet does not match its class`); // not reached
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

  private spanBegin(th: ThreadState, ns: number, c: StreamCursor, k: number, id: SpanId, parent: SpanId): void {
    this.summary.spans++;
    const lanes = th.lanes;
    // On its parent's lane if the parent is the innermost span there, else on the first free lane.
    let lane: Lane | undefined;
    for (let i = 0; i < lanes.length && !lane; i++) if (top(lanes[i]!) === parent) lane = lanes[i];
    for (let i = 0; i < lanes.length && !lane; i++) if (lanes[i]!.stack.length === 0) lane = lanes[i];
    if (!lane) {
      const n = lanes.length;
      lane = { track: this.newTrack('lane', th.pid, th.tid, `${th.track.name} (async ${n})`, th.track, th), stack: [] };
      lanes.push(lane);
      this.summary.asyncLanes++;
    }
    lane.stack.push(id);
    this.sink.begin(lane.track, ns, c, k);
  }

  private spanEnd(th: ThreadState, ns: number, c: StreamCursor, k: number, id: SpanId): void {
    const lanes = th.lanes;
    for (let i = 0; i < lanes.length; i++) { // the common case: the innermost span of a lane ends
      if (top(lanes[i]!) === id) {
        lanes[i]!.stack.pop();
        return this.sink.end(lanes[i]!.track, ns, c, k);
      }
    }
    for (const lane of lanes) {
      const stack = lane.stack;
      const at = stack.lastIndexOf(id);
      if (at < 0) continue;
      while (stack.length > at + 1) { // spans started inside it and still open end with it
        th.ended.add(stack.pop()!);
        this.summary.endedWithParent++;
        this.sink.endWithout(lane.track, ns, 'ended_with_parent');
      }
      stack.pop();
      return this.sink.end(lane.track, ns, c, k);
    }
    if (th.ended.delete(id)) {
      this.sink.instant(th.track, ns, c, k, ' (ended after its parent)');
    } else {
      this.summary.endsWithoutBegin++; // its begin is not in the trace (lost, or before the recording)
      this.sink.instant(th.track, ns, c, k, ' (end without begin)');
    }
  }

  /** End the spans still open, at the last timestamp. */
  finish(): void {
    for (const th of this.threads.values()) {
      for (const lane of th.lanes) {
        while (lane.stack.length) {
          lane.stack.pop();
          this.summary.unfinished++;
          this.sink.endWithout(lane.track, this.lastNs, 'unfinished');
        }
      }
    }
  }
}
