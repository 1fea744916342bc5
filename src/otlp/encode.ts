// Encoding complete spans, log records and gauge points as OTLP messages
// (each framed as its scope's repeated field), with epoch times from the
// trace's ns (records) or OpenTelemetry's own unix times.
import { ProtoWriter } from '../export/protowire';
import { TWO32 } from '../int64';
import { copyBytes } from '../export/words';
import { writeAnyValue, writeKeyValue } from './anyvalue';
import { writeSpanId, writeTraceId } from './ids';
import { type OpenSpan, writeAttributes } from './open-span';
import { writeOtelEvents, writeOtelLinks } from './otel-spans';
import type { OtlpTags } from './schema';

/** Bytes made once and copied into many messages, with a view of them for copyBytes' word stores. */
interface Piece {
  bytes: Uint8Array;
  view: DataView;
}

function piece(w: ProtoWriter): Piece {
  const bytes = w.buf.slice(0, w.pos);
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/**
 * bytes[from, to) appended to w (`view` views bytes' memory). By words up to
 * 1 KiB: a span's bytes (~150) copied with set() cost an export ~8 %.
 */
function putBytes(w: ProtoWriter, bytes: Uint8Array, view: DataView, from: number, to: number): void {
  w.reserve(to - from);
  w.pos = copyBytes(w.buf, w.view, w.pos, bytes, view, from, to, 1024);
}

function putPiece(w: ProtoWriter, p: Piece): void {
  putBytes(w, p.bytes, p.view, 0, p.bytes.length);
}

export class OtlpEncoder {
  private readonly startHi: number;
  private readonly startLo: number;

  constructor(private readonly T: OtlpTags, private readonly startNs: bigint) {
    this.startHi = Number(startNs >> 32n);
    this.startLo = Number(startNs & 0xffffffffn);
  }

  /**
   * Span s, ended at ns (`unfinished`: without an end record, at the trace's
   * end), with bytes[from, to) (attributes and span events already encoded); returns
   * how many OpenTelemetry events it had.
   */
  span(w: ProtoWriter, s: OpenSpan, ns: number, unfinished: boolean, bytes: Uint8Array, view: DataView, from: number,
    to: number): number {
    const T = this.T;
    let events = 0;
    w.varint(T.scopeSpans.spans);
    const m = w.begin();
    writeTraceId(w, T.span.trace_id, s.traceId);
    writeSpanId(w, T.span.span_id, s.idHi, s.idLo);
    if (s.parentHi !== 0 || s.parentLo !== 0) writeSpanId(w, T.span.parent_span_id, s.parentHi, s.parentLo);
    w.varint(T.span.flags);
    w.fixed32(s.flags);
    putPiece(w, this.nameField(s.name));
    w.varint(T.span.kind);
    w.varint(s.kind);
    this.time(w, T.span.start_time_unix_nano, s.startNs, s.startUnix);
    this.time(w, T.span.end_time_unix_nano, ns, unfinished ? undefined : s.endUnix);
    writeAttributes(w, T, T.span.attributes, s.attrs);
    putPiece(w, this.threadAttribute(s.tid));
    putBytes(w, bytes, view, from, to); // its planned attributes and span events, encoded as they came
    if (s.otelEvents) events = writeOtelEvents(w, T, s.otelEvents);
    if (s.otelLinks) writeOtelLinks(w, T, s.otelLinks);
    if (s.status !== 0 || s.statusMessage) {
      w.varint(T.span.status);
      const st = w.begin();
      if (s.statusMessage) {
        w.varint(T.status.message);
        w.string(s.statusMessage);
      }
      w.varint(T.status.code);
      w.varint(s.status);
      w.end(st);
    }
    w.end(m);
    return events;
  }

  /** Span.name's field (tag, length, UTF-8), made once per name: span names repeat. */
  private nameField(name: string): Piece {
    let f = this.names.get(name);
    if (!f) {
      if (this.names.size > 4096) this.names.clear(); // names made of data: keep the cache small
      const w = new ProtoWriter(16);
      w.varint(this.T.span.name);
      w.string(name);
      this.names.set(name, f = piece(w));
    }
    return f;
  }
  private readonly names = new Map<string, Piece>();

  /** A span's thread.id attribute (a whole KeyValue field), made once per thread. */
  private threadAttribute(tid: number): Piece {
    if (tid === this.lastTid) return this.lastThreadAttribute;
    let f = this.threadAttributes.get(tid);
    if (!f) {
      if (this.threadAttributes.size > 4096) this.threadAttributes.clear(); // threads come and go while recording
      const w = new ProtoWriter(32);
      writeKeyValue(w, this.T, this.T.span.attributes, 'thread.id', tid);
      this.threadAttributes.set(tid, f = piece(w));
    }
    this.lastTid = tid;
    return this.lastThreadAttribute = f;
  }
  private readonly threadAttributes = new Map<number, Piece>();
  private lastTid = -1;
  private lastThreadAttribute = piece(new ProtoWriter(0));

  /** A span event named `name`: the caller writes its attributes (T.event.attributes) and ends it (w.end). */
  spanEvent(w: ProtoWriter, ns: number, name: string): number {
    const T = this.T;
    w.varint(T.span.events);
    const m = w.begin();
    this.time(w, T.event.time_unix_nano, ns, undefined);
    w.varint(T.event.name);
    w.string(name);
    return m;
  }

  /** An event outside spans as a log record: the caller writes its attributes (T.log.attributes) and ends it. */
  log(w: ProtoWriter, tid: number, name: string, ns: number): number {
    const T = this.T;
    w.varint(T.scopeLogs.log_records);
    const m = w.begin();
    this.time(w, T.log.time_unix_nano, ns, undefined);
    w.varint(T.log.body);
    const body = w.begin();
    writeAnyValue(w, T, name);
    w.end(body);
    writeKeyValue(w, T, T.log.attributes, 'thread.id', tid);
    w.varint(T.log.event_name);
    w.string(name);
    return m;
  }

  /** A counter's value as a gauge point. */
  point(w: ProtoWriter, pid: number, tid: number, ns: number, value: number): void {
    const T = this.T;
    w.varint(T.gauge.data_points);
    const m = w.begin();
    if (tid !== pid) writeKeyValue(w, T, T.point.attributes, 'thread.id', tid); // a worker's own series
    this.time(w, T.point.time_unix_nano, ns, undefined);
    w.varint(T.point.as_double);
    w.double(value);
    w.end(m);
  }

  /** A fixed64 epoch time: OpenTelemetry's own (unix) or ns since the trace's time 0. */
  time(w: ProtoWriter, tag: number, ns: number, unix: bigint | undefined): void {
    let hi: number;
    let lo: number;
    if (unix !== undefined || ns < 0) {
      const t = unix ?? this.startNs + BigInt(Math.floor(ns));
      hi = Number((t >> 32n) & 0xffffffffn);
      lo = Number(t & 0xffffffffn);
    } else {
      const n = Math.floor(ns);
      const high = Math.floor(n / TWO32); // (a float modulo costs more than this)
      lo = this.startLo + (n - high * TWO32);
      hi = this.startHi + high;
      if (lo >= TWO32) {
        lo -= TWO32;
        hi++;
      }
    }
    w.varint(tag);
    w.fixed64(hi, lo);
  }
}
