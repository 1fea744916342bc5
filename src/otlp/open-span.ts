// A span between its begin and end records, as the OTLP builder keeps it:
// its ids, its bytes so far (thread-scratch.ts), and attributes that come as
// values (decoded fields, JSON members) as flat key/value lists.
import type { ProtoWriter } from '../export/protowire';
import { writeKeyValue } from './anyvalue';
import { jsonObject } from '../export/record-args';
import { FLAGS_LOCAL, type OtlpTags } from './schema';
import type { TraceId } from './ids';
import { ThreadScratch } from './thread-scratch';

/** What a child takes from its parent. */
export interface SpanIds {
  traceId: TraceId;
  idHi: number;
  idLo: number;
}

/** A span from its begin record to its end; made by newSpan (one shape for all: V8 keeps its accesses fast). */
export interface OpenSpan extends SpanIds {
  pid: number;
  tid: number;
  rawHi: number; // its ringtrace span id (OpenTelemetry's own for its spans) as two words
  rawLo: number;
  thread: ThreadScratch; // its thread's open spans and their bytes
  regionStart: number; // its bytes in thread.w: planned attributes, span events
  frozenEnd: number; // where they end once a span began above it; -1 while it is the innermost
  otel: boolean; // recorded through ringtrace/otel: its span id is OpenTelemetry's
  parentHi: number; // its parent's (both 0: a root)
  parentLo: number;
  flags: number; // FLAGS_LOCAL, or FLAGS_REMOTE when its parent is another process's
  name: string;
  scope: string;
  kind: number;
  startNs: number; // since the trace's time 0
  startUnix: bigint | undefined; // OpenTelemetry's own times, when it recorded them
  endUnix: bigint | undefined;
  attrs: unknown[]; // key, value, key, value... (NO_ATTRS until one comes: see attrsOf)
  otelEvents: string; // JSON, as ringtrace/otel keeps them in the end record
  typedEvents: Uint8Array[]; // encoded Span.Event fields of its otel:span_event records (NO_EVENTS until one comes)
  droppedEvents: number; // typed events past the limit, oldest first
  otelLinks: string;
  status: number;
  statusMessage: string;
}

/** Shared by the spans with no attributes as values (most: typed fields are written as bytes); never added to. */
const NO_ATTRS: unknown[] = [];

/** s's attributes as values, to add to. */
export function attrsOf(s: OpenSpan): unknown[] {
  return s.attrs === NO_ATTRS ? (s.attrs = []) : s.attrs;
}

/** Shared by the spans with no typed events; never added to. */
export const NO_EVENTS: Uint8Array[] = [];

export const NO_TRACE: TraceId = { w0: 0, w1: 0, w2: 0, w3: 0 };
const NO_THREAD = new ThreadScratch(); // until the span is opened on its thread's

export function newSpan(pid: number, tid: number, rawHi: number, rawLo: number, name: string, scope: string,
  kind: number, startNs: number): OpenSpan {
  return { pid, tid, rawHi, rawLo, thread: NO_THREAD, regionStart: 0, frozenEnd: -1, otel: false,
    traceId: NO_TRACE, idHi: 0, idLo: 0, parentHi: 0, parentLo: 0, flags: FLAGS_LOCAL, name, scope, kind, startNs,
    startUnix: undefined, endUnix: undefined, attrs: NO_ATTRS, otelEvents: '', typedEvents: NO_EVENTS,
    droppedEvents: 0, otelLinks: '', status: 0, statusMessage: '' };
}

/** A JSON object's members as attributes (kept whole as `args` when it is not an object). */
export function addJsonMembers(attrs: unknown[], json: string): void {
  if (!json) return;
  const o = jsonObject(json);
  if (!o) {
    attrs.push('args', json);
    return;
  }
  for (const k in o) attrs.push(k, o[k]);
}

export function writeAttributes(w: ProtoWriter, T: OtlpTags, tag: number, attrs: unknown[]): void {
  for (let i = 0; i < attrs.length; i += 2) writeKeyValue(w, T, tag, attrs[i] as string, attrs[i + 1]);
}
