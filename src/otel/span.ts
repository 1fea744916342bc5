// The span of ringtrace's own OpenTelemetry tracer (tracer.ts): an
// implementation of the API's Span that keeps only what its end record needs
// and records itself, a begin record when it starts and an end record when it
// ends (records.ts), with the SDK's rules for attributes, events, links,
// status and times, so instrumentations see the span they expect. No method
// throws into the app: a span that cannot be recorded is counted (`failed`).
import { type Attributes, type Exception, type HrTime, type Link, type Span, type SpanAttributeValue,
  type SpanContext, SpanStatusCode, type SpanStatus, type TimeInput } from '@opentelemetry/api';
import { addAttribute, addAttributes } from './attributes';
import { JsonMembers } from '../json-writer';
import { hrTimeBefore, isTimeInput, toHrTime } from './time';
import type { SpanRecords } from './records';

/** The SDK's default limits on a span's events and links (older ones are dropped first). */
export const EVENT_COUNT_LIMIT = 128;
export const LINK_COUNT_LIMIT = 128;
const EMPTY_OBJECT_JSON = '{}';

/** What a span needs of its tracer. */
export interface SpanOwner {
  readonly records: SpanRecords;
  /** The session the thread records into now (its inode; changes when it is replaced). */
  sessionIno(): number;
  failed(e: unknown): void;
}

/**
 * An event as the members of its JSON object: {name, attributes, time, droppedAttributesCount}
 * (a list, like the attributes: written without keyed loads).
 */
type TimedEvent = JsonMembers;
interface RecordedLink { context: SpanContext; attributes?: JsonMembers; droppedAttributesCount?: number }

export class RingtraceSpan implements Span {
  private readonly attributes = new JsonMembers();
  private events: TimedEvent[] | null = null;
  private links: RecordedLink[] | null = null;
  private status: SpanStatus = { code: SpanStatusCode.UNSET };
  private ended = false;

  /**
   * Made only once its begin is recorded, into the session `sessionIno`: its
   * end is recorded only into that same session (no end without its begin).
   */
  constructor(private readonly context: SpanContext, private name: string, private readonly startTime: HrTime,
    private readonly sessionIno: number, private readonly owner: SpanOwner) {}

  spanContext(): SpanContext {
    return this.context;
  }

  setAttribute(key: string, value: SpanAttributeValue): this {
    if (!this.ended) addAttribute(this.attributes.kv, key, value);
    return this;
  }

  setAttributes(attributes: Attributes): this {
    if (!this.ended) addAttributes(this.attributes.kv, attributes);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return this;
    let attributes: unknown = attributesOrTime;
    if (isTimeInput(attributesOrTime)) {
      if (!isTimeInput(time)) time = attributesOrTime;
      attributes = undefined;
    }
    const own = new JsonMembers();
    const dropped = addAttributes(own.kv, attributes);
    const events = this.events ??= [];
    if (events.length >= EVENT_COUNT_LIMIT) events.shift();
    events.push(new JsonMembers(['name', String(name), 'attributes', own, 'time', toHrTime(time),
      'droppedAttributesCount', dropped]));
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
    if (status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this;
    this.status = status.code === SpanStatusCode.ERROR && typeof status.message === 'string'
      ? { code: status.code, message: status.message } : { code: status.code };
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

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    this.ended = true;
    try {
      const end = this.owner.records.end;
      if (!end.enabled || this.owner.sessionIno() !== this.sessionIno) return;
      let at = toHrTime(endTime);
      if (hrTimeBefore(at, this.startTime)) at = this.startTime; // as the SDK: a span never ends before it starts
      const events = this.events;
      const links = this.links;
      end.emit(this.context.spanId, this.name, this.status.code, this.status.message ?? '', this.startTime, at,
        this.attributes.size === 0 ? EMPTY_OBJECT_JSON : this.attributes, events ?? '', // written as JSON
        links === null ? '' : JSON.stringify(links));
    } catch (e) {
      this.owner.failed(e);
    }
  }
}
