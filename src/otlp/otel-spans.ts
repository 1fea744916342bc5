// OpenTelemetry spans recorded through ringtrace/otel (src/otel/records.ts:
// begin span_id, parent_id, span_name, trace_id, kind, scope; end span_id,
// span_name, status_code, status_message, start_unix_ns, end_unix_ns, and
// attributes, events and links as JSON, or links then attributes as fields;
// events as records of their own, typed-classes.ts) back into OTLP as
// OpenTelemetry's own exporter would send them: its ids, kind, status, times,
// attributes, events and links.
import type { FieldValue } from '../decode';
import type { ProtoWriter } from '../export/protowire';
import { writeKeyValue } from './anyvalue';
import { addJsonMembers, attrsOf, newSpan, NO_EVENTS, type OpenSpan, type SpanIds } from './open-span';
import type { ClassDescription } from '../schema';
import { EVENT_COUNT_LIMIT, isTypedSpanEndClass, SPAN_END_FIXED } from '../otel/typed-classes';
import { hexSpanId, hexTraceId, writeSpanId, writeTraceId } from './ids';
import { FLAGS_REMOTE, type OtlpTags } from './schema';
import { jsonObject } from '../export/record-args';

/**
 * An OpenTelemetry span's begin (its id hi:lo is OpenTelemetry's); `parent`
 * is the open (or recently ended) span its parent id names, if any.
 */
export function otelBegin(v: FieldValue[], pid: number, tid: number, ns: number, hi: number, lo: number,
  parent: SpanIds | undefined, parentHi: number, parentLo: number): OpenSpan {
  const kind = v[4] as number;
  const s = newSpan(pid, tid, hi, lo, v[2] as string, v[5] as string, kind >= 0 && kind <= 4 ? kind + 1 : 0, ns);
  s.otel = true;
  s.idHi = hi;
  s.idLo = lo;
  s.traceId = hexTraceId(v[3] as string) ?? parent?.traceId ?? s.traceId;
  if (parent) {
    s.parentHi = parent.idHi;
    s.parentLo = parent.idLo;
  } else if (parentHi !== 0 || parentLo !== 0) {
    s.parentHi = parentHi;
    s.parentLo = parentLo;
    s.flags = FLAGS_REMOTE; // a parent not among this process's spans: most likely another process's
  }
  return s;
}

/**
 * A recorded OpenTelemetry time (Unix ns); 0, a time the span was not given:
 * its record's own, `ns` since the trace's time 0 (`traceStartNs`, Unix ns).
 */
export function otelTime(recorded: FieldValue, ns: number, traceStartNs: bigint): bigint {
  const t = BigInt(recorded as number | bigint);
  return t !== 0n ? t : traceStartNs + BigInt(Math.floor(ns));
}

/**
 * Its end (recorded `endNs` since the trace's time 0): the final name,
 * status, start and end times (OpenTelemetry's own, or its begin's and end's
 * records'; an end before the start is moved to it, as the SDK does),
 * links, and attributes (and events) as JSON or, in a typed end, as fields.
 */
export function otelEnd(s: OpenSpan, v: FieldValue[], cls: ClassDescription, endNs: number,
  traceStartNs: bigint): void {
  s.name = v[1] as string;
  const code = v[2] as number;
  s.status = code <= 2 ? code : 0; // UNSET, OK, ERROR: the same numbers in the API and in OTLP
  s.statusMessage = v[3] as string;
  const start = otelTime(v[4]!, s.startNs, traceStartNs);
  const end = otelTime(v[5]!, endNs, traceStartNs);
  s.startUnix = start;
  s.endUnix = end < start ? start : end;
  if (isTypedSpanEndClass(cls)) {
    s.otelLinks = v[6] as string;
    const f = cls.fields;
    if (f.length > SPAN_END_FIXED.length) {
      const attrs = attrsOf(s);
      for (let i = SPAN_END_FIXED.length; i < f.length; i++) attrs.push(f[i]!.name, v[i]);
    }
    return;
  }
  addJsonMembers(attrsOf(s), v[6] as string);
  s.otelEvents = v[7] as string;
  s.otelLinks = v[8] as string;
}

/**
 * A span event recorded as it was added (otel:span_event: span id, name,
 * OpenTelemetry time (0: the record's own, `ns`, otelTime), then its attributes; `json`: otel:span_event_json, its
 * dropped attribute count and attributes as JSON; `v` decoded with safe
 * numbers), encoded with `w` as scratch and kept on s: the last
 * EVENT_COUNT_LIMIT of them, the older counted as dropped, as the SDK keeps
 * a span's events.
 */
export function addSpanEvent(s: OpenSpan, w: ProtoWriter, T: OtlpTags, cls: ClassDescription, v: FieldValue[],
  json: boolean, ns: number, traceStartNs: bigint): void {
  w.pos = 0;
  w.varint(T.span.events);
  const m = w.begin();
  const t = BigInt.asUintN(64, otelTime(v[2]!, ns, traceStartNs));
  w.varint(T.event.time_unix_nano);
  w.fixed64(Number(t >> 32n), Number(t & 0xffffffffn));
  w.varint(T.event.name);
  w.string(v[1] as string);
  if (json) {
    writeObject(w, T, T.event.attributes, jsonObject(v[4] as string)); // (cut at the string limit: none)
    if ((v[3] as number) > 0) {
      w.varint(T.event.dropped_attributes_count);
      w.varint(v[3] as number);
    }
  } else {
    for (let i = 3; i < cls.fields.length; i++) writeKeyValue(w, T, T.event.attributes, cls.fields[i]!.name, v[i]);
  }
  w.end(m);
  const events = s.typedEvents === NO_EVENTS ? (s.typedEvents = []) : s.typedEvents;
  if (events.length === EVENT_COUNT_LIMIT) {
    events.shift();
    s.droppedEvents++;
  }
  events.push(Uint8Array.prototype.slice.call(w.buf, 0, w.pos)); // a copy (Buffer#slice would share the scratch)
}

interface RecordedEvent { name?: unknown; attributes?: unknown; time?: unknown; droppedAttributesCount?: unknown }
interface RecordedLink {
  context?: { traceId?: unknown; spanId?: unknown; traceState?: unknown; traceFlags?: unknown; isRemote?: unknown };
  attributes?: unknown;
}

function parseArray(json: string): unknown[] {
  try {
    const a: unknown = JSON.parse(json);
    return Array.isArray(a) ? a : [];
  } catch {
    return []; // cut at the record's string limit: the span goes without them
  }
}

function writeObject(w: ProtoWriter, T: OtlpTags, tag: number, o: unknown): void {
  if (o === null || typeof o !== 'object') return;
  const attrs = o as Record<string, unknown>;
  for (const k in attrs) writeKeyValue(w, T, tag, k, attrs[k]);
}

/** The span's events (JSON [{name, attributes, time: [s, ns], droppedAttributesCount}]); returns how many. */
export function writeOtelEvents(w: ProtoWriter, T: OtlpTags, json: string): number {
  let n = 0;
  for (const item of parseArray(json)) {
    const e = item as RecordedEvent;
    const time = Array.isArray(e.time) ? e.time as unknown[] : [];
    const sec = typeof time[0] === 'number' ? time[0] : 0;
    const nano = typeof time[1] === 'number' ? time[1] : 0;
    w.varint(T.span.events);
    const m = w.begin();
    const t = BigInt.asUintN(64, BigInt(Math.trunc(sec)) * 1_000_000_000n + BigInt(Math.trunc(nano)));
    w.varint(T.event.time_unix_nano);
    w.fixed64(Number(t >> 32n), Number(t & 0xffffffffn));
    w.varint(T.event.name);
    w.string(String(e.name ?? ''));
    writeObject(w, T, T.event.attributes, e.attributes);
    if (typeof e.droppedAttributesCount === 'number' && e.droppedAttributesCount > 0) {
      w.varint(T.event.dropped_attributes_count);
      w.varint(e.droppedAttributesCount);
    }
    w.end(m);
    n++;
  }
  return n;
}

/** The span's links (JSON [{context: {traceId, spanId, traceState}, attributes}]). */
export function writeOtelLinks(w: ProtoWriter, T: OtlpTags, json: string): void {
  for (const item of parseArray(json)) {
    const l = item as RecordedLink;
    const traceId = hexTraceId(String(l.context?.traceId ?? ''));
    const spanId = hexSpanId(String(l.context?.spanId ?? ''));
    if (!traceId || !spanId) continue;
    w.varint(T.span.links);
    const m = w.begin();
    writeTraceId(w, T.link.trace_id, traceId);
    writeSpanId(w, T.link.span_id, spanId[0], spanId[1]);
    if (typeof l.context?.traceState === 'string' && l.context.traceState) {
      w.varint(T.link.trace_state);
      w.string(l.context.traceState);
    }
    writeObject(w, T, T.link.attributes, l.attributes);
    const traceFlags = typeof l.context?.traceFlags === 'number' ? l.context.traceFlags & 0xff : 0;
    w.varint(T.link.flags);
    w.fixed32(traceFlags | (l.context?.isRemote === true ? 0x300 : 0x100));
    w.end(m);
  }
}
