// RingtraceSpanProcessor: an OpenTelemetry SpanProcessor that records each
// span into ringtrace's rings, a begin record at onStart and an end record at
// onEnd (records.ts), so they are timed by ringtrace's clock at the span's
// start and end. With no session (or the classes not selected) a span costs
// two property checks. Nothing here throws into the app: a failure is
// counted, and warned about once.
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { currentTracer } from '../tracer';
import { spanRecords, type SpanRecords } from './records';

export class RingtraceSpanProcessor implements SpanProcessor {
  /** Spans whose recording failed (each failure is also counted here; the first is warned about). */
  failures = 0;
  private readonly records: SpanRecords = spanRecords();
  /** The session the resource was last recorded into (tracer.sessionIno). */
  private resourceIn = -1;
  private readonly tracer = currentTracer();

  onStart(span: Span, _parentContext: Context): void {
    const begin = this.records.begin;
    if (!begin.enabled) return;
    try {
      if (this.tracer.sessionIno !== this.resourceIn) this.recordResource(span);
      const sc = span.spanContext();
      const parent = span.parentSpanContext;
      begin.emit(sc.spanId, parent === undefined ? '' : parent.spanId, span.name,
        sc.traceId, span.kind, span.instrumentationScope.name);
    } catch (e) {
      this.failed(e);
    }
  }

  onEnd(span: ReadableSpan): void {
    const end = this.records.end;
    if (!end.enabled) return;
    try {
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

  /** The process's resource attributes, once per session (an otel:resource event before its first span). */
  private recordResource(span: Span): void {
    this.resourceIn = this.tracer.sessionIno;
    const resource = this.records.resource;
    if (resource.enabled) resource.emit(JSON.stringify(span.resource.attributes));
  }

  private failed(e: unknown): void {
    if (this.failures++ === 0) {
      process.emitWarning(`ringtrace: a span could not be recorded (${String(e)}); later failures are only counted ` +
        'in RingtraceSpanProcessor.failures', 'RingtraceWarning');
    }
  }
}
