// RingtraceSpanProcessor: an OpenTelemetry SpanProcessor that records each
// span into ringtrace's rings, a begin record at onStart and an end record at
// onEnd (records.ts), so they are timed by ringtrace's clock at the span's
// start and end. With no session (or the classes not selected) a span costs
// two property checks and a field write. Nothing here throws into the app: a failure is
// counted, and warned about once.
//
// An end is recorded only if its begin was: a span that started with no
// session (its start no later than the last such start: the SDK's clock is
// monotonic) or whose begin the session's filter left out is ended silently,
// like a native span, rather than leaving an end without its begin.
import type { Context, HrTime } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { currentTracer } from '../tracer';
import { recordResource, spanRecords, type SpanRecords, warnFirstFailure } from './records';
import { hrTimeBefore } from './time';

export class RingtraceSpanProcessor implements SpanProcessor {
  /** Spans whose recording failed (each failure is also counted here; the first is warned about). */
  failures = 0;
  private readonly records: SpanRecords = spanRecords();
  /** The session the resource was last recorded into (tracer.sessionIno). */
  private resourceIn = -1;
  private readonly tracer = currentTracer();
  /** The start time of the last span started while recording was off (a field write per span then). */
  private lastOff: HrTime | undefined;
  /** Spans started while recording whose begin was not recorded (filtered out, invalid): rare. */
  private readonly unrecorded = new WeakSet<object>();
  private unrecordedCount = 0;

  onStart(span: Span, _parentContext: Context): void {
    const begin = this.records.begin;
    if (!begin.enabled) {
      this.lastOff = span.startTime;
      return;
    }
    try {
      const ino = this.tracer.sessionIno;
      if (ino !== this.resourceIn) this.resourceIn = recordResource(this.records, ino, span.resource.attributes);
      const sc = span.spanContext();
      const parent = span.parentSpanContext;
      if (!begin.record(sc.spanId, parent === undefined ? '' : parent.spanId, span.name,
        sc.traceId, span.kind, span.instrumentationScope.name)) {
        this.unrecorded.add(span);
        this.unrecordedCount++;
      }
    } catch (e) {
      this.failed(e);
    }
  }

  onEnd(span: ReadableSpan): void {
    const end = this.records.end;
    if (!end.enabled) return;
    try {
      const off = this.lastOff;
      if (off !== undefined && !hrTimeBefore(off, span.startTime)) return; // began while off: no begin record
      if (this.unrecordedCount !== 0 && this.unrecorded.delete(span)) {
        this.unrecordedCount--;
        return;
      }
      const status = span.status;
      const events = span.events;
      const links = span.links;
      end.emit(span.spanContext().spanId, span.name, status.code, status.message ?? '',
        span.startTime, span.endTime, JSON.stringify(span.attributes),
        events.length === 0 ? '' : JSON.stringify(events), links.length === 0 ? '' : JSON.stringify(links));
    } catch (e) {
      this.failed(e);
    }
  }

  forceFlush(): Promise<void> {
    return Promise.resolve(); // records are in the rings as soon as they are emitted
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  private failed(e: unknown): void {
    warnFirstFailure(this.failures++, e, 'RingtraceSpanProcessor.failures');
  }
}
