// ringtrace's own OpenTelemetry TracerProvider: spans made through the
// OpenTelemetry API (by any instrumentation) go straight into ringtrace's
// rings, with none of the SDK's machinery (span processors, exporters,
// ReadableSpan objects): the begin record when the span starts, the end record
// when it ends. The SDK's defaults are kept where an instrumentation can see
// them: parent-based sampling (a parent that is not sampled makes a
// non-recording child), suppressed tracing respected, random ids, the
// attribute/event/link rules (span.ts). With no session a span is a
// non-recording span with valid ids (propagation still works, nothing is kept).
import type { Attributes, Context, Span, SpanOptions, TraceState, Tracer, TracerProvider } from '@opentelemetry/api';
import { contextApi, INVALID_SPAN_CONTEXT, isSpanContextValid, KIND_INTERNAL, ROOT_CONTEXT, traceApi as trace,
  TRACE_NOT_SAMPLED, TRACE_SAMPLED } from './api-values';
import { currentTracer } from '../tracer';
import { addAttributes } from './attributes';
import { JsonMembers } from '../json-writer';
import { randomSpanWords, randomTraceWords, wordsOfHex } from './ids';
import { recordResource, spanRecords, type SpanRecords, warnFirstFailure } from './records';
import { RingtraceSpan, type SpanOwner } from './span';
import { UnrecordedSpan } from './unrecorded-span';
import { RECORD_TIME, toSpanTime } from './time';

/** The parent id of a root span. */
const NO_PARENT: readonly number[] = [0, 0];

/** @opentelemetry/core's key for suppressed tracing (createContextKey makes it with Symbol.for). */
const SUPPRESS_TRACING = Symbol.for('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

export interface RingtraceTracerProviderOptions {
  /** The resource's attributes, over the defaults (service.name, process.pid, telemetry.sdk.*). */
  resource?: Attributes | undefined;
}

/** The resource every span of a provider shares, recorded once per session (otel:resource). */
export function defaultResource(): Attributes {
  return {
    'service.name': process.env['OTEL_SERVICE_NAME'] || `unknown_service:${process.argv0}`,
    'process.pid': process.pid,
    'telemetry.sdk.name': 'ringtrace',
    'telemetry.sdk.language': 'nodejs',
  };
}

export class RingtraceTracerProvider implements TracerProvider, SpanOwner {
  /** Spans whose recording failed (the first is also warned about). */
  failures = 0;
  readonly records: SpanRecords = spanRecords();
  readonly resource: Attributes;
  private readonly thread = currentTracer();
  private resourceIn = -1;
  private readonly tracers = new Map<string, RingtraceTracer>();

  constructor(options: RingtraceTracerProviderOptions = {}) {
    const kv: unknown[] = [];
    addAttributes(kv, defaultResource(), Infinity); // (the SDK's Resource has no count limit)
    addAttributes(kv, options.resource, Infinity);
    this.resource = new JsonMembers(kv).toJSON() as Attributes;
  }

  getTracer(name: string, version?: string): Tracer {
    const key = `${name}@${version ?? ''}`;
    let t = this.tracers.get(key);
    if (!t) this.tracers.set(key, t = new RingtraceTracer(String(name), this));
    return t;
  }

  sessionIno(): number {
    return this.thread.sessionIno;
  }

  /** Called before a begin record: the resource first, once per session. */
  beforeBegin(): void {
    const ino = this.thread.sessionIno;
    if (ino !== this.resourceIn) this.resourceIn = recordResource(this.records, ino, this.resource);
  }

  failed(e: unknown): void {
    warnFirstFailure(this.failures++, e, 'RingtraceTracerProvider.failures');
  }

  /** Nothing is buffered: records are in the rings as soon as they are made. */
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export class RingtraceTracer implements Tracer {
  constructor(private readonly scope: string, private readonly provider: RingtraceTracerProvider) {}

  startSpan(name: string, options: SpanOptions = {}, ctx: Context = contextApi.active()): Span {
    try {
      return this.start(name, options ?? {}, ctx ?? contextApi.active());
    } catch (e) {
      this.provider.failed(e);
      return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    }
  }

  private start(name: string, options: SpanOptions, ctx: Context): Span {
    // The API's empty context (a root span's, often): nothing to look up in its map.
    const empty = ctx === ROOT_CONTEXT;
    if (!empty && ctx.getValue(SUPPRESS_TRACING) === true) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    const parentSpan = options.root || empty ? undefined : trace.getSpan(ctx);
    let traceWords: readonly number[];
    let parentWords: readonly number[] = NO_PARENT;
    let traceState: TraceState | undefined;
    let sampled = true;
    if (parentSpan instanceof RingtraceSpan || parentSpan instanceof UnrecordedSpan) { // ours: words as they are
      traceWords = parentSpan.traceWords;
      parentWords = parentSpan.spanWords;
      traceState = parentSpan.traceState;
      sampled = parentSpan instanceof RingtraceSpan || (parentSpan.traceFlags & TRACE_SAMPLED) !== 0;
    } else {
      const parent = parentSpan?.spanContext();
      if (parent !== undefined && isSpanContextValid(parent)) {
        traceWords = wordsOfHex(parent.traceId);
        parentWords = wordsOfHex(parent.spanId);
        traceState = parent.traceState;
        sampled = (parent.traceFlags & TRACE_SAMPLED) !== 0;
      } else {
        traceWords = randomTraceWords();
      }
    }
    const spanWords = randomSpanWords();
    // Parent-based sampling: a parent that is not sampled makes a child that is not.
    if (!sampled) return new UnrecordedSpan(traceWords, spanWords, TRACE_NOT_SAMPLED, traceState);
    const begin = this.provider.records.beginFromWords;
    if (!begin.enabled) return new UnrecordedSpan(traceWords, spanWords, TRACE_SAMPLED, traceState);
    const provider = this.provider;
    const kind = options.kind ?? KIND_INTERNAL;
    const text = typeof name === 'string' ? name : String(name); // (String() is a builtin call, even on a string)
    const startTime = options.startTime === undefined ? RECORD_TIME : toSpanTime(options.startTime);
    const span = new RingtraceSpan(spanWords, traceWords, traceState, text, startTime, provider.sessionIno(), provider);
    if (options.attributes) span.setAttributes(options.attributes); // before the begin: a throwing getter records nothing
    if (options.links) span.addLinks(options.links);
    provider.beforeBegin();
    if (!begin.record(spanWords, parentWords, text, traceWords, kind, this.scope)) {
      // filtered out or an invalid value: no end without its begin
      return new UnrecordedSpan(traceWords, spanWords, TRACE_SAMPLED, traceState);
    }
    return span;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, fn: F): ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, options: SpanOptions, ctx: Context, fn: F):
    ReturnType<F>;
  startActiveSpan<F extends (span: Span) => unknown>(name: string, a: F | SpanOptions, b?: F | Context, c?: F):
    ReturnType<F> | undefined {
    let options: SpanOptions | undefined;
    let ctx: Context | undefined;
    let fn: F | undefined;
    if (typeof a === 'function') {
      fn = a;
    } else if (typeof b === 'function') {
      options = a;
      fn = b as F;
    } else {
      options = a;
      ctx = b;
      fn = c;
    }
    if (typeof fn !== 'function') return undefined; // the SDK's behaviour: nothing to run
    const parentCtx = ctx ?? contextApi.active();
    const span = this.startSpan(name, options, parentCtx);
    return contextApi.with(trace.setSpan(parentCtx, span), fn as (s: Span) => ReturnType<F>, undefined, span);
  }
}
