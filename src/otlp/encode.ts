// Encoding complete spans, log records and gauge points as OTLP messages
// (each framed as its scope's repeated field), with epoch times from the
// trace's ns (records) or OpenTelemetry's own unix times.
import { ProtoWriter, putVarint } from '../export/protowire';
import { TWO32 } from '../int64';
import { copyBytes, putWordsFrom, wordsOf } from '../export/words';
import { writeAnyValue, writeKeyValue } from './anyvalue';
import { type OpenSpan, writeAttributes } from './open-span';
import { writeOtelEvents, writeOtelLinks } from './otel-spans';
import type { OtlpTags } from './schema';

/** Bytes made once and copied into many messages by words (paddedPiece), with a view of their memory. */
export interface Piece {
  bytes: Uint8Array;
  view: DataView;
}

/** A string field's bytes: tag, length, UTF-8 (names made once and copied into many messages). */
function stringField(tag: number, s: string): Uint8Array {
  const w = new ProtoWriter(16);
  w.varint(tag);
  w.string(s);
  return w.buf.slice(0, w.pos);
}

/** A piece whose memory runs to a multiple of 4 bytes past its end: copied by whole words, never read past. */
function paddedPiece(bytes: Uint8Array): Piece {
  const padded = wordsOf(bytes).buffer;
  return { bytes: new Uint8Array(padded, 0, bytes.length), view: new DataView(padded) };
}

/** A tag that is one byte as a varint (the head's and the times' are: fields 1-15), else a bug in the schema. */
function oneByte(tag: number): number {
  if (tag >= 128) throw new Error(`OTLP tag ${tag} is not one byte`);
  return tag;
}

export class OtlpEncoder {
  private readonly startHi: number;
  private readonly startLo: number;
  // The head's tags as the bytes they are (span.flags, field 16, takes two).
  private readonly traceIdTag: number;
  private readonly spanIdTag: number;
  private readonly parentTag: number;
  private readonly kindTag: number;
  private readonly startTag: number;
  private readonly endTag: number;
  private readonly flagsTag0: number;
  private readonly flagsTag1: number;
  private readonly eventsTag: number;
  private readonly spansTag: number;
  private readonly eventTimeTag: number;

  constructor(private readonly T: OtlpTags, private readonly startNs: bigint) {
    this.startHi = Number(startNs >> 32n);
    this.startLo = Number(startNs & 0xffffffffn);
    const S = T.span;
    this.traceIdTag = oneByte(S.trace_id);
    this.spanIdTag = oneByte(S.span_id);
    this.parentTag = oneByte(S.parent_span_id);
    this.kindTag = oneByte(S.kind);
    this.startTag = oneByte(S.start_time_unix_nano);
    this.endTag = oneByte(S.end_time_unix_nano);
    this.eventsTag = oneByte(S.events);
    this.spansTag = oneByte(T.scopeSpans.spans);
    this.eventTimeTag = oneByte(T.event.time_unix_nano);
    for (const tag of [T.log.time_unix_nano, T.point.time_unix_nano]) oneByte(tag); // see timeAt
    if (S.flags < 128 || S.flags >= 16384) throw new Error(`OTLP tag ${S.flags} is not two bytes`);
    this.flagsTag0 = (S.flags & 127) | 128;
    this.flagsTag1 = S.flags >>> 7;
  }

  /**
   * Span s, ended at ns (`unfinished`: without an end record, at the trace's
   * end), with bytes[from, to) (attributes and span events already encoded); returns
   * how many OpenTelemetry events it had.
   *
   * The fields every span has (ids, flags, name, kind, times, thread, the
   * bytes encoded so far) after one reserve and through local stores: tags
   * as constant bytes, the name and thread fields and the span's bytes by
   * words. (A writer call per field cost the span's encoding about a third of
   * its time; a call per part, and a varint call per tag, much of what was
   * left.) What only some spans have is rest()'s.
   */
  span(w: ProtoWriter, s: OpenSpan, ns: number, unfinished: boolean, bytes: Uint8Array, view: DataView, from: number,
    to: number): number {
    const name = this.nameField(s.name);
    const nameLength = name.bytes.length;
    const thread = this.threadAttribute(s.tid);
    const threadLength = thread.bytes.length;
    const parent = s.parentHi !== 0 || s.parentLo !== 0;
    const rare = s.typedEvents.length || s.otelEvents || s.droppedEvents > 0 || s.otelLinks || s.status !== 0 ||
      s.statusMessage;
    // ids, [parent,] flags, name, kind, times, thread, bytes so far
    const fixed = 18 + 10 + (parent ? 10 : 0) + 6 + nameLength + 2 + 2 * 9 + threadLength + (to - from);
    // Its length, when only those make it (most spans): written as it is, else 4 bytes left for
    // w.end() (a varint padded: 2-3 bytes more per span, all to compress and send).
    const length = rare || s.attrs.length ? -1 : fixed;
    w.reserve(1 + 4 + fixed); // (its tag, a length of up to 4 bytes)
    const b = w.buf;
    const v = w.view;
    let p = w.pos;
    b[p] = this.spansTag;
    const m = p + 1; // where w.begin() would leave the 4-byte length for w.end()
    p = length < 0 ? p + 5 : putVarint(b, m, length);
    const start = p;
    b[p] = this.traceIdTag;
    b[p + 1] = 16;
    const t = s.traceId;
    v.setUint32(p + 2, t.w0); // big-endian: an id's bytes in the order its hex reads
    v.setUint32(p + 6, t.w1);
    v.setUint32(p + 10, t.w2);
    v.setUint32(p + 14, t.w3);
    b[p + 18] = this.spanIdTag;
    b[p + 19] = 8;
    v.setUint32(p + 20, s.idHi);
    v.setUint32(p + 24, s.idLo);
    p += 28;
    if (parent) {
      b[p] = this.parentTag;
      b[p + 1] = 8;
      v.setUint32(p + 2, s.parentHi);
      v.setUint32(p + 6, s.parentLo);
      p += 10;
    }
    b[p] = this.flagsTag0;
    b[p + 1] = this.flagsTag1;
    v.setUint32(p + 2, s.flags, true);
    p = putWordsFrom(v, p + 6, name.view, 0, nameLength); // (its memory is padded: no read past it)
    b[p] = this.kindTag;
    b[p + 1] = s.kind; // (OTLP's kinds are 0-5)
    p = this.timeAt(b, v, p + 2, this.startTag, s.startNs, s.startUnix);
    p = this.timeAt(b, v, p, this.endTag, ns, unfinished ? undefined : s.endUnix);
    if (s.attrs.length) { // attributes as values come before the thread's
      w.pos = p;
      writeAttributes(w, this.T, this.T.span.attributes, s.attrs);
      w.reserve(threadLength + (to - from));
      p = w.pos;
    }
    p = putWordsFrom(w.view, p, thread.view, 0, threadLength);
    // Its planned attributes and span events, by words up to 1 KiB (~150 bytes copied with set(): ~8 % of an export).
    w.pos = copyBytes(w.buf, w.view, p, bytes, view, from, to, 1024);
    if (length >= 0) {
      if (w.pos - start !== length) throw new Error(`OTLP span sized ${length} bytes, written ${w.pos - start}`); // a bug
      return 0;
    }
    const events = rare ? this.rest(w, s) : 0;
    w.end(m);
    return events;
  }

  /** What only some spans have: OpenTelemetry's events and links, a status; returns how many events. */
  private rest(w: ProtoWriter, s: OpenSpan): number {
    const T = this.T;
    for (const e of s.typedEvents) { // events recorded as they were added, then those kept to the end
      w.reserve(e.length);
      w.buf.set(e, w.pos);
      w.pos += e.length;
    }
    let events = s.typedEvents.length;
    if (s.otelEvents) events += writeOtelEvents(w, T, s.otelEvents);
    if (s.droppedEvents > 0) {
      w.varint(T.span.dropped_events_count);
      w.varint(s.droppedEvents);
    }
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
    return events;
  }

  /** Span.name's field (tag, length, UTF-8), made once per name: span names repeat, often in runs. */
  private nameField(name: string): Piece {
    if (name === this.lastName) return this.lastNameField;
    let f = this.names.get(name);
    if (!f) {
      if (this.names.size > 4096) this.names.clear(); // names made of data: keep the cache small
      this.names.set(name, f = paddedPiece(stringField(this.T.span.name, name)));
    }
    this.lastName = name;
    return this.lastNameField = f;
  }
  private readonly names = new Map<string, Piece>();
  private lastName: string | undefined;
  private lastNameField: Piece = paddedPiece(new Uint8Array(0));

  /** A span's thread.id attribute (a whole KeyValue field), made once per thread. */
  private threadAttribute(tid: number): Piece {
    if (tid === this.lastTid) return this.lastThreadAttribute;
    let f = this.threadAttributes.get(tid);
    if (!f) {
      if (this.threadAttributes.size > 4096) this.threadAttributes.clear(); // threads come and go while recording
      const w = new ProtoWriter(32);
      writeKeyValue(w, this.T, this.T.span.attributes, 'thread.id', tid);
      this.threadAttributes.set(tid, f = paddedPiece(w.buf.subarray(0, w.pos)));
    }
    this.lastTid = tid;
    return this.lastThreadAttribute = f;
  }
  private readonly threadAttributes = new Map<number, Piece>();
  private lastTid = -1;
  private lastThreadAttribute = paddedPiece(new Uint8Array(0));

  /** Span.Event.name's field (tag, length, UTF-8) for `name`, to pass to spanEvent. */
  eventNameField(name: string): Piece {
    return paddedPiece(stringField(this.T.event.name, name));
  }

  /**
   * A span event whose name field is `nameField` (eventNameField: made once
   * per class): the caller writes its attributes (T.event.attributes) and
   * ends it (w.endShort: a one-byte length, widened in the rare event of 128
   * bytes or more). One reserve and local stores, as span().
   */
  spanEvent(w: ProtoWriter, ns: number, nameField: Piece): number {
    const nameLength = nameField.bytes.length;
    w.reserve(1 + 1 + 9 + nameLength);
    const b = w.buf;
    const m = w.pos + 1; // its length byte, as w.beginShort() leaves it for w.endShort()
    b[w.pos] = this.eventsTag;
    const p = this.timeAt(b, w.view, m + 1, this.eventTimeTag, ns, undefined);
    w.pos = putWordsFrom(w.view, p, nameField.view, 0, nameLength);
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
    w.reserve(18);
    w.pos = this.timeAt(w.buf, w.view, w.pos, tag, ns, unix);
  }

  /** time() at b[p] (`v` views b; 18 bytes reserved; `tag` one byte); returns the offset after it. */
  private timeAt(b: Uint8Array, v: DataView, p: number, tag: number, ns: number, unix: bigint | undefined): number {
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
    b[p] = tag;
    v.setUint32(p + 1, lo, true);
    v.setUint32(p + 5, hi, true);
    return p + 9;
  }
}
