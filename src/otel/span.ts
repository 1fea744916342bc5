// The span of ringtrace's own OpenTelemetry tracer (tracer.ts): an
// implementation of the API's Span that keeps only what its end record needs
// and records itself, a begin record when it starts, each event as it is
// added (span-event-records.ts) and an end record when it ends, its
// attributes as typed fields (span-end-records.ts) or as JSON (records.ts),
// with the SDK's rules for attributes, events, links, status and times, so
// instrumentations see the span they expect. No method
// throws into the app: a span that cannot be recorded is counted (`failed`).
import type { Attributes, Exception, Link, Span, SpanAttributeValue, SpanContext, SpanStatus,
  TimeInput, TraceState } from '@opentelemetry/api';
import { STATUS_ERROR, STATUS_OK, STATUS_UNSET, TRACE_SAMPLED } from './api-values';
import { contextOfWords } from './ids';
import { addAttribute, addAttributes, fillAttributes } from './attributes';
import { JsonMembers } from '../json-writer';
import { isTimeInput, RECORD_TIME, type SpanTime, spanTimeBefore, toSpanTime } from './time';
import type { SpanRecords } from './records';
import { recordSpanEvent } from './span-event-records';
import { recordTypedEnd } from './span-end-records';

/** The SDK's default limit on a span's links (older ones are dropped first). */
export const LINK_COUNT_LIMIT = 128;
const EMPTY_OBJECT_JSON = '{}';

/** What a span needs of its tracer. */
export interface SpanOwner {
  readonly records: SpanRecords;
  /** The session the thread records into now (its inode; changes when it is replaced). */
  sessionIno(): number;
  failed(e: unknown): void;
}

interface RecordedLink { context: SpanContext; attributes?: JsonMembers; droppedAttributesCount?: number }

/**
 * Kept until the end (setAttribute, updateName and the limits change them
 * until then) in the shapes that allocate least: attributes and links are
 * made on first use, the status is two fields, times are numbers (SpanTime).
 * A span started without a time leaves its times to its records (RECORD_TIME:
 * the begin's, each event's, the end's); one started at a given time reads
 * the clock for the times it is not given, so its times come from one clock.
 */
export class RingtraceSpan implements Span {
  /** The API's view of the ids, made when first asked for (spanContext). */
  private context: SpanContext | null = null;
  private attributes: JsonMembers | null = null;
  private links: RecordedLink[] | null = null;
  private statusCode = STATUS_UNSET;
  private statusMessage = '';
  private ended = false;

  /**
   * Made only once its begin is recorded, into the session `sessionIno`: its
   * end is recorded only into that same session (no end without its begin).
   * Its ids are words (ids.ts), what its records take; a child of it takes
   * its trace's words and state from it as they are.
   */
  constructor(readonly spanWords: readonly number[], readonly traceWords: readonly number[],
    readonly traceState: TraceState | undefined, private name: string, private readonly startTime: SpanTime,
    private readonly sessionIno: number, private readonly owner: SpanOwner) {}

  spanContext(): SpanContext {
    return this.context ??= contextOfWords(this.traceWords, this.spanWords, TRACE_SAMPLED, this.traceState);
  }

  setAttribute(key: string, value: SpanAttributeValue): this {
    if (!this.ended) addAttribute((this.attributes ??= new JsonMembers()).kv, key, value);
    return this;
  }

  setAttributes(attributes: Attributes): this {
    if (this.ended || typeof attributes !== 'object' || attributes === null) return this;
    if (this.attributes !== null) {
      addAttributes(this.attributes.kv, attributes);
    } else {
      // The first: appended to an empty list, which V8 gives room for 17 values: one walk of them
      // (not a count first), and attributes set later (a status) fit without growing the list.
      const kv: unknown[] = [];
      fillAttributes(kv, 0, attributes);
      this.attributes = new JsonMembers(kv);
    }
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return this;
    let attributes: unknown = attributesOrTime;
    if (isTimeInput(attributesOrTime)) {
      if (!isTimeInput(time)) time = attributesOrTime;
      attributes = undefined;
    }
    if (this.owner.sessionIno() !== this.sessionIno) return this; // its end will not be recorded either
    try {
      recordSpanEvent(this.spanWords, typeof name === 'string' ? name : String(name), // (String(): a builtin call)
        typeof attributes === 'object' ? attributes : null, this.timeOf(time));
    } catch (e) {
      this.owner.failed(e); // an attribute's getter threw: the event is not recorded
    }
    return this;
  }

  addLink(link: Link): this {
    if (this.ended || typeof link !== 'object' || link === null) return this;
    const own = new JsonMembers();
    const dropped = addAttributes(own.kv, link.attributes);
    const recorded: RecordedLink = { context: link.context };
    if (own.size > 0) recorded.attributes = own;
    if (dropped > 0) recorded.droppedAttributesCount = dropped;
    const links = this.links ??= [];
    if (links.length >= LINK_COUNT_LIMIT) links.shift();
    links.push(recorded);
    return this;
  }

  addLinks(links: Link[]): this {
    if (Array.isArray(links)) for (const link of links) this.addLink(link);
    return this;
  }

  /** As the SDK: UNSET is ignored, OK is final, a message only with ERROR. */
  setStatus(status: SpanStatus): this {
    if (this.ended || typeof status !== 'object' || status === null) return this;
    if (status.code === STATUS_UNSET || this.statusCode === STATUS_OK) return this;
    this.statusCode = status.code;
    this.statusMessage = status.code === STATUS_ERROR && typeof status.message === 'string'
      ? status.message : '';
    return this;
  }

  updateName(name: string): this {
    if (!this.ended) this.name = String(name);
    return this;
  }

  isRecording(): boolean {
    return !this.ended;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') {
      attributes['exception.message'] = exception;
    } else if (exception) {
      const e = exception as { code?: unknown; name?: unknown; message?: unknown; stack?: unknown };
      if (e.code) attributes['exception.type'] = String(e.code);
      else if (e.name) attributes['exception.type'] = String(e.name);
      if (e.message) attributes['exception.message'] = String(e.message);
      if (e.stack) attributes['exception.stacktrace'] = String(e.stack);
    }
    if (attributes['exception.type'] !== undefined || attributes['exception.message'] !== undefined) {
      this.addEvent('exception', attributes, time);
    }
  }

  /** An event's or the end's time: `input`, or when none is given, its record's or (a given start) the clock's. */
  private timeOf(input: TimeInput | undefined): SpanTime {
    return input === undefined && this.startTime === RECORD_TIME ? RECORD_TIME : toSpanTime(input);
  }

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    this.ended = true;
    try {
      const end = this.owner.records.end;
      if (!end.enabled || this.owner.sessionIno() !== this.sessionIno) return;
      let at = this.timeOf(endTime);
      // As the SDK: a span never ends before it starts (readers apply it to a start left to the begin record).
      if (at !== RECORD_TIME && this.startTime !== RECORD_TIME && spanTimeBefore(at, this.startTime)) {
        at = this.startTime;
      }
      const attributes = this.attributes;
      const links = this.links === null ? '' : JSON.stringify(this.links);
      if (recordTypedEnd(this.spanWords, this.name, this.statusCode, this.statusMessage, this.startTime, at, links,
        attributes === null ? null : attributes.kv)) return;
      end.emit(this.spanContext().spanId, this.name, this.statusCode, this.statusMessage, this.startTime, at,
        attributes === null || attributes.size === 0 ? EMPTY_OBJECT_JSON : attributes, '', // (events: recorded as added)
        links);
    } catch (e) {
      this.owner.failed(e);
    }
  }
}
