// Records (in time order) into OTLP: spans, span events, log records and
// gauge points, batched into requests handed to `out`.
//
// - A span begin opens a span; its end (same process, same ringtrace span
//   id) completes and encodes it. Its fields, and its end's, become
//   attributes; the fields of an event whose first field is `span_id` naming
//   a span still open are added to that span (auto mode's response status and
//   size). Ids: see span-lineage.ts (a child has its parent's trace id).
// - OpenTelemetry spans recorded through ringtrace/otel keep their ids, kind,
//   status, times, attributes, events and links as OpenTelemetry had them
//   (events recorded as they were added join their span by its id).
// - An event while a span is open on its thread becomes a span event of the
//   innermost one; other events become log records.
// - Counters become gauge points (metric "<provider>.<name>").
// Spans still open at the end are sent ended at the last timestamp with
// ringtrace.unfinished=true; an end whose begin is not in the trace is
// counted, not sent. Memory: the open spans (at most maxOpenSpans; beyond,
// the oldest are sent as unfinished) and one batch per signal.
import type { FieldValue } from '../decode';
import { BEGIN, ClassRoles, COUNTER, END, INSTANT } from '../export/model';
import { EVENT_HEADER } from '../layout';
import { displayName, type ClassDescription } from '../schema';
import type { StreamCursor } from '../trace/cursor';
import { Float } from './anyvalue';
import { type ResourceOf, type Signal, SignalBatch } from './batches';
import { OtlpEncoder, type Piece } from './encode';
import { KIND_INTERNAL, otlpTags, type OtlpTags } from './schema';
import { kindOf, statusFromFields } from './http-spans';
import { addSpanEvent, otelBegin, otelEnd } from './otel-spans';
import { isJsonSpanEventClass, isOtelSpanBegin, isOtelSpanEnd, isSpanEventClass,
  OTEL_PROVIDER } from '../otel/typed-classes';
import { addJsonMembers, attrsOf, newSpan, type OpenSpan, writeAttributes } from './open-span';
import { SpanLineage } from './span-lineage';
import { SpanTable } from '../trace/span-table';
import { fieldPlan, type FieldPlan, PlannedFields } from './field-plan';
import { ThreadScratch } from './thread-scratch';
import { latin1Slice } from '../buffer-internals';
import { ProtoWriter } from '../export/protowire';


export interface OtlpBuilderOptions {
  /** Epoch ns of the trace's time 0 (records carry ns since then). */
  startNs: bigint;
  /** Mixed into the ids ringtrace makes (ids.ts traceSeed). */
  seed: number;
  resourceOf: ResourceOf;
  /** The resource's recorded OpenTelemetry attributes (otel:resource records) go here. */
  onResource?: (pid: number, json: string) => void;
  /** A request: body starts its ArrayBuffer, which is handed over whole (nothing else in it is data). */
  out: (signal: Signal, body: Uint8Array, items: number) => void;
  /** Memory of earlier bodies to make the next in (at least `bytes`), when the receiver of `out` gives it back. */
  spare?: (bytes: number) => ArrayBuffer | undefined;
  /** The signals that have somewhere to go (default all): the others' items are counted in noEndpointItems. */
  routed?: ReadonlySet<Signal>;
  maxBatchItems?: number;
  maxBatchBytes?: number;
  maxOpenSpans?: number;
  /** Processes (threads) known before those with nothing open are forgotten (default 1024). */
  maxIdleKept?: number;
}

export interface OtlpSummary {
  spans: number;
  spanEvents: number;
  logs: number;
  points: number;
  unfinished: number;
  endsWithoutBegin: number;
  requests: number;
  /** Items of signals with no endpoint (only another signal's was set): built, not sent. */
  noEndpointItems: number;
}

interface Process {
  open: SpanTable<OpenSpan>;
}

const THREAD_KEY = 4194304; // tids are below 2^22

export function emptySummary(): OtlpSummary {
  return { spans: 0, spanEvents: 0, logs: 0, points: 0, unfinished: 0, endsWithoutBegin: 0, requests: 0, noEndpointItems: 0 };
}

export class OtlpBuilder {
  readonly summary = emptySummary();
  private readonly T: OtlpTags = otlpTags();
  private readonly batches: Record<Signal, SignalBatch>;
  private readonly processes = new Map<number, Process>();
  private readonly threads = new Map<number, ThreadScratch>(); // by pid * 2^22 + tid
  private lastKey = -1; // the thread of the previous lookup: runs of one thread's records are the common case
  private lastThread = new ThreadScratch();
  private readonly plans: (FieldPlan | null | undefined)[] = []; // by class id (small, dense)
  private readonly planned: PlannedFields;
  private open = 0; // spans open in every process
  private readonly roles = new ClassRoles();
  private readonly vals: FieldValue[] = [];
  private readonly eventScratch = new ProtoWriter(256);
  private readonly encoder: OtlpEncoder;
  private readonly maxItems: number;
  private readonly maxBytes: number;
  private readonly maxOpen: number;
  private readonly maxIdleKept: number;
  private lastNs = 0;
  private readonly lineage: SpanLineage;

  constructor(private readonly opts: OtlpBuilderOptions) {
    this.lineage = new SpanLineage(opts.seed);
    this.batches = { traces: new SignalBatch('traces', this.T), logs: new SignalBatch('logs', this.T),
      metrics: new SignalBatch('metrics', this.T) };
    this.encoder = new OtlpEncoder(this.T, opts.startNs);
    this.planned = new PlannedFields(this.T);
    this.maxItems = opts.maxBatchItems ?? 4096;
    this.maxBytes = opts.maxBatchBytes ?? 2 << 20;
    this.maxOpen = opts.maxOpenSpans ?? 1_000_000;
    this.maxIdleKept = opts.maxIdleKept ?? 1024;
  }

  /** Feed records [from, to) of c's current packet (see mergeRuns). */
  addRun(c: StreamCursor, from: number, to: number): void {
    const words = c.words;
    const base = c.time.sinceStartNs;
    for (let k = from; k < to; k++) {
      const w = (c.at[k]! + EVENT_HEADER) >> 2; // payload: pid, tid, fields
      const pid = words[w]!;
      const tid = words[w + 1]!;
      const ns = base + c.nsIn[k]!;
      const role = this.roles.of(c, c.ids[k]!);
      c.select(k);
      if (role === BEGIN) {
        this.begin(c, pid, tid, ns, words[w + 3]!, words[w + 2]!, words[w + 5]!, words[w + 4]!);
      }
      else if (role === END) this.end(c, pid, ns, words[w + 3]!, words[w + 2]!);
      else if (role === COUNTER) this.point(c, pid, tid, ns);
      else if (role === INSTANT) this.event(c, pid, tid, ns);
    }
    if (to > from) this.lastNs = base + c.nsIn[to - 1]!;
  }

  private threadOf(pid: number, tid: number): ThreadScratch {
    const key = pid * THREAD_KEY + tid;
    if (key === this.lastKey) return this.lastThread;
    let th = this.threads.get(key);
    if (!th) {
      if (this.threads.size >= this.maxIdleKept) this.forgetIdle();
      this.threads.set(key, th = new ThreadScratch());
    }
    this.lastKey = key;
    return this.lastThread = th;
  }

  private process(pid: number): Process {
    if (pid === this.lastPid) return this.lastProcess;
    let p = this.processes.get(pid);
    if (!p) {
      if (this.processes.size >= this.maxIdleKept) this.forgetIdle();
      this.processes.set(pid, p = { open: new SpanTable<OpenSpan>() });
    }
    this.lastPid = pid;
    return this.lastProcess = p;
  }
  private lastPid = -1; // runs of one process's records are the common case
  private lastProcess: Process = { open: new SpanTable<OpenSpan>() };

  /**
   * Forget the processes and threads with nothing open (their state is made
   * again if they come back): a live export of a host where processes come
   * and go keeps bounded memory.
   */
  private forgetIdle(): void {
    // (not the process and thread of the record at hand: its caller holds them)
    for (const [pid, p] of this.processes) if (p.open.size === 0 && p !== this.lastProcess) this.processes.delete(pid);
    for (const [key, th] of this.threads) if (th.stack.length === 0 && th !== this.lastThread) this.threads.delete(key);
  }

  /** A span begins: its ringtrace id hi:lo, its parent's parentHi:parentLo (0: none). */
  private begin(c: StreamCursor, pid: number, tid: number, ns: number, hi: number, lo: number, parentHi: number,
    parentLo: number): void {
    const cls = c.cls;
    const proc = this.process(pid);
    const th = this.threadOf(pid, tid);
    const start = th.mark();
    const parent = parentHi === 0 && parentLo === 0 ? undefined
      : this.lineage.parentIds(proc.open, pid, parentHi, parentLo);
    let s: OpenSpan;
    if (isOtelSpanBegin(cls)) {
      s = otelBegin(c.values(this.vals, true), pid, tid, ns, hi, lo, parent, parentHi, parentLo);
    } else {
      s = newSpan(pid, tid, hi, lo, cls.name, cls.provider, this.spanKind(c.id, cls), ns);
      let traceHex = '';
      let parentHex = '';
      if (this.fieldsInto(th.w, this.T.span.attributes, c, 2, s)) { // planned: the W3C id strings kept aside
        const f = this.planned;
        if (f.traceTo > f.traceFrom) traceHex = latin1Slice(c.data, f.traceFrom, f.traceTo);
        if (f.parentTo > f.parentFrom) parentHex = latin1Slice(c.data, f.parentFrom, f.parentTo);
      } else {
        traceHex = this.traceHex;
        parentHex = this.parentHex;
      }
      this.lineage.assignOwn(s, pid, hi, lo, parent, parentHi, parentLo, traceHex, parentHex);
    }
    proc.open.set(hi, lo, s);
    s.thread = th;
    th.opened(s, start);
    if (++this.open > this.maxOpen) this.finishSpan(oldest(proc.open.values()), this.lastNs, true);
  }

  /**
   * Fields [from, ...) of the current record as KeyValues under `tag` into w:
   * straight from its bytes when its class has a plan (returns true), else
   * decoded (false): a span record's into its attributes (JSON members expanded;
   * W3C id strings into traceHex/parentHex), an event's written at once.
   */
  private fieldsInto(w: ProtoWriter, tag: number, c: StreamCursor, from: number, span: OpenSpan | null): boolean {
    const cls = c.cls;
    let plan = this.plans[c.id];
    if (plan === undefined) this.plans[c.id] = plan = fieldPlan(cls, from, this.T);
    const at = c.at[c.i]!;
    const mark = w.pos;
    if (plan && this.planned.write(w, tag, plan, c.data, c.view, at + EVENT_HEADER + 8 + 8 * from, at + c.size[c.i]!)) {
      return true; // (fields before `from` are u64 span ids)
    }
    w.pos = mark;
    const v = c.values(this.vals, true); // a damaged record throws its TraceError here
    this.traceHex = '';
    this.parentHex = '';
    const spanRecord = span !== null;
    const into = span ? attrsOf(span) : this.scratchAttrs;
    if (!span) into.length = 0;
    for (let i = from; i < cls.fields.length; i++) {
      const f = cls.fields[i]!;
      if (spanRecord && cls.kind === 'span_begin' && f.type === 'string' && f.name === 'trace_id') this.traceHex = v[i] as string;
      else if (spanRecord && cls.kind === 'span_begin' && f.type === 'string' && f.name === 'parent_span_id') this.parentHex = v[i] as string;
      else addField(into, f.name, f.type, v[i]!, spanRecord);
    }
    if (!spanRecord) writeAttributes(w, this.T, tag, into);
    return false;
  }
  private traceHex = '';
  private parentHex = '';
  private readonly scratchAttrs: unknown[] = [];

  private end(c: StreamCursor, pid: number, ns: number, hi: number, lo: number): void {
    const s = this.process(pid).open.get(hi, lo);
    if (!s) {
      this.summary.endsWithoutBegin++; // its begin is not in the trace (lost, or before the recording)
      return;
    }
    const cls = c.cls;
    if (cls.fields.length > 1) { // more than its span id (a bare end, the common case, has nothing to decode)
      const v = c.values(this.vals, true);
      if (isOtelSpanEnd(cls)) otelEnd(s, v, cls, ns, this.opts.startNs);
      else for (let i = 1; i < cls.fields.length; i++) addField(attrsOf(s), cls.fields[i]!.name, cls.fields[i]!.type, v[i]!, true);
    }
    this.finishSpan(s, ns, false);
  }

  private event(c: StreamCursor, pid: number, tid: number, ns: number): void {
    const cls = c.cls;
    const f = cls.fields;
    if (cls.provider === OTEL_PROVIDER && cls.name === 'resource' && f[0]?.type === 'string') {
      this.opts.onResource?.(pid, c.values(this.vals, true)[0] as string);
      return;
    }
    const json = isJsonSpanEventClass(cls);
    const spanEvent = json || isSpanEventClass(cls);
    if (spanEvent || (f[0]?.name === 'span_id' && f[0].type === 'u64')) { // a record about a span, by its id
      const v = c.values(this.vals, true);
      const id = BigInt(v[0] as number | bigint);
      const s = this.process(pid).open.get(Number(id >> 32n), Number(id & 0xffffffffn));
      if (spanEvent && s?.otel) { // an OpenTelemetry event: its span's, wherever that is on the thread's stack
        addSpanEvent(s, this.eventScratch, this.T, cls, v, json, ns, this.opts.startNs);
        return;
      }
      if (!spanEvent && s) { // its fields join the span's
        for (let i = 1; i < f.length; i++) addField(attrsOf(s), f[i]!.name, f[i]!.type, v[i]!, false);
        return;
      }
    }
    const th = this.threadOf(pid, tid);
    const depth = th.stack.length; // (an empty stack is not read at -1: see ThreadScratch.opened)
    const inner = spanEvent || depth === 0 ? undefined : th.stack[depth - 1]; // (a span event whose span is not open: a log)
    if (inner) { // appended to the innermost span's bytes
      const m = this.encoder.spanEvent(th.w, ns, this.eventNameOf(c.id, cls));
      this.fieldsInto(th.w, this.T.event.attributes, c, 0, null);
      th.w.endShort(m);
      this.summary.spanEvents++;
      return;
    }
    const batch = this.batches.logs;
    const w = batch.writer(pid, cls.provider);
    const m = this.encoder.log(w, tid, this.nameOf(c.id, cls), ns);
    this.fieldsInto(w, this.T.log.attributes, c, 0, null);
    w.end(m);
    this.summary.logs++;
    this.added(batch);
  }

  /** Encode s (ended at ns) into the traces batch; `unfinished`: it had no end record. */
  private finishSpan(s: OpenSpan, ns: number, unfinished: boolean): void {
    const proc = this.process(s.pid);
    proc.open.delete(s.rawHi, s.rawLo);
    this.lineage.ended(s);
    this.open--;
    if (unfinished) {
      attrsOf(s).push('ringtrace.unfinished', true);
      this.summary.unfinished++;
    }
    if (s.kind !== KIND_INTERNAL && s.status === 0) statusFromFields(s);
    const batch = this.batches.traces;
    const w = batch.writer(s.pid, s.scope);
    const th = s.thread;
    this.summary.spanEvents += this.encoder.span(w, s, ns, unfinished, th.w.buf, th.w.view, s.regionStart,
      th.regionEnd(s));
    th.closed(s);
    this.summary.spans++;
    this.added(batch);
  }

  /** A span class's OTLP kind, found once. */
  private spanKind(id: number, cls: ClassDescription): number {
    let k = this.kinds[id];
    if (k === undefined) this.kinds[id] = k = kindOf(cls);
    return k;
  }
  private readonly kinds: number[] = [];

  /** A class's display name (span events, logs), made once. */
  private nameOf(id: number, cls: ClassDescription): string {
    let name = this.names.get(id);
    if (name === undefined) this.names.set(id, name = displayName(cls));
    return name;
  }
  private readonly names = new Map<number, string>();

  /** A class's span event name field, made once (not its name encoded per event). */
  private eventNameOf(id: number, cls: ClassDescription): Piece {
    let f = this.eventNames[id];
    if (f === undefined) this.eventNames[id] = f = this.encoder.eventNameField(this.nameOf(id, cls));
    return f;
  }
  private readonly eventNames: Piece[] = []; // by class id (small, dense)

  /** A counter's metric name, `provider.name`, made once (not a string built per point). */
  private metricOf(id: number, cls: ClassDescription): string {
    let name = this.metrics.get(id);
    if (name === undefined) this.metrics.set(id, name = `${cls.provider}.${cls.name}`);
    return name;
  }
  private readonly metrics = new Map<number, string>();

  private point(c: StreamCursor, pid: number, tid: number, ns: number): void {
    const cls = c.cls;
    const batch = this.batches.metrics;
    const w = batch.writer(pid, cls.provider, this.metricOf(c.id, cls));
    this.encoder.point(w, pid, tid, ns, c.values(this.vals, true)[0] as number);
    this.summary.points++;
    this.added(batch);
  }

  private added(batch: SignalBatch): void {
    batch.added();
    if (batch.items >= this.maxItems || batch.bytes >= this.maxBytes) this.send(batch);
  }

  private send(batch: SignalBatch): void {
    if (batch.items === 0) return;
    const items = batch.items;
    if (this.opts.routed && !this.opts.routed.has(batch.signal)) {
      this.summary.noEndpointItems += items;
      batch.discard();
      return;
    }
    const body = batch.take(this.opts.resourceOf, this.opts.spare);
    this.summary.requests++;
    this.opts.out(batch.signal, body, items);
  }

  /** Send what the batches hold (live: at each flush). */
  flush(): void {
    this.send(this.batches.traces);
    this.send(this.batches.logs);
    this.send(this.batches.metrics);
  }

  /** The end of the trace: spans still open are sent as unfinished, then every batch. */
  finish(): void {
    for (const proc of this.processes.values()) {
      for (const s of proc.open.values().sort((a, b) => a.startNs - b.startNs)) {
        this.finishSpan(s, Math.max(this.lastNs, s.startNs), true);
      }
    }
    this.flush();
  }
}

/** The span that began first (past maxOpenSpans it is sent as unfinished: a lost end most likely left it open). */
function oldest(spans: OpenSpan[]): OpenSpan {
  return spans.reduce((a, b) => (b.startNs < a.startNs ? b : a));
}

/** One field as attributes: a span record's `args` (span(name, fields)'s JSON) as its members. */
function addField(attrs: unknown[], name: string, type: string, v: FieldValue, spanRecord: boolean): void {
  if (spanRecord && name === 'args' && type === 'string') {
    addJsonMembers(attrs, v as string);
    return;
  }
  attrs.push(name, (type === 'f64' || type === 'f32') && Number.isInteger(v) ? new Float(v as number) : v);
}
