// The tracing a benchmark server does per request, one implementation per
// tool, all doing the same work: a span started after routing (method, path,
// status), one event inside it (3 integers and a string), the span ended after
// the response. For the OpenTelemetry SDK: a span with attributes and an
// event, batch processor, an exporter that only counts (otel) or OTLP/HTTP
// protobuf to a local receiver (otel_otlp); for the bridge the
// same calls to ringtrace's own TracerProvider (bridge_bare: only the span, no
// attributes, event or status: the share of its plumbing). For pino: three log
// lines to a file through its asynchronous destination. For ringtrace's auto
// mode (src/auto/): nothing in the request path; while the tool is current,
// auto mode is on (its server span, runtime counters), without
// async context (auto) or entering each request span as it (auto_context);
// auto_http: its http part alone (no runtime counters, GC events, sockets);
// channels_noop: subscribers that do nothing on the server's two channels;
// gc_observer_noop: a 'gc' PerformanceObserver that does nothing (what auto
// mode's gc part cost through Node's observer); gc_part: auto mode's gc part
// alone, recording every pause (V8's callbacks where found).
import type { Span, Tracer } from '@opentelemetry/api';
import * as dc from 'node:diagnostics_channel';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { provider } from '../../src/index';
import { readOptions } from '../../src/auto/options';
import { startAuto, stopAuto } from '../../src/auto/start';
import { type GcTracing, startGcTracing } from '../../src/auto/gc';

export interface RequestTracing {
  start(method: string, path: string): unknown;
  work(items: number, bytes: number, user: number, note: string): void;
  end(span: unknown, status: number): void;
  /** Finish the work the tool left for later (a batch export, a buffered write). */
  flush(): Promise<void>;
  /** Flush, then how many records arrived at the tool's output (-1: ringtrace, whose trace is read instead). */
  finish(): Promise<number>;
  /** The server switched to this tool / away from it (auto mode is on only meanwhile). */
  enter?(): void;
  leave?(): void;
}

function none(): RequestTracing {
  return { start: () => undefined, work: () => undefined, end: () => undefined, flush: async () => undefined,
    finish: async () => 0 };
}

function ringtrace(): RequestTracing {
  const app = provider('app');
  // A request is a root span: it reads no current span (which would turn auto mode's context on, see auto()).
  const request = app.spanType('request', ['method:string', 'path:string', 'status:u16'], { root: true });
  const work = app.event('work', ['items:u32', 'bytes:u32', 'user:u32', 'note:string']);
  return {
    start: (method, p) => request.start(method, p, 200),
    work: (items, bytes, user, note) => work.emit(items, bytes, user, note),
    end: (span) => (span as { end(): void }).end(),
    flush: async () => undefined, // the recorder, another process, reads the rings
    finish: async () => -1, // the trace itself is counted
  };
}

/**
 * Auto mode, every part, default interval. `context` 'on-read' (the default):
 * this server's code reads no current span, so no async context is entered;
 * 'always' (RINGTRACE_AUTO_CONTEXT=1): what an app whose handlers make their
 * own spans or outgoing calls gets.
 */
function auto(context: 'on-read' | 'always', parts?: string): RequestTracing {
  // BENCH_AUTO_PARTS=http,gc: only these parts (splitting the cost); default every part.
  const options = { ...readOptions({ RINGTRACE_AUTO: parts ?? process.env['BENCH_AUTO_PARTS'] }), context };
  return { ...none(), finish: async () => -1, enter: () => { startAuto(options); }, leave: () => stopAuto() };
}

/** A request's span through the OpenTelemetry API: attributes, an event, the status at the end. */
function otelCalls(tracer: Tracer): Pick<RequestTracing, 'start' | 'work' | 'end'> {
  let current: Span | undefined;
  return {
    start: (method, p) => (current = tracer.startSpan('request', { attributes: { method, path: p } })),
    work: (items, bytes, user, note) => current?.addEvent('work', { items, bytes, user, note }),
    end: (span, status) => {
      (span as Span).setAttribute('status', status);
      (span as Span).end();
    },
  };
}

/** What a span exporter must do for the batch processor (the SDK's SpanExporter, reduced). */
interface Exporter {
  export(spans: unknown[], done: (r: { code: number }) => void): void;
  shutdown(): Promise<void>;
}

/**
 * The OpenTelemetry SDK with a batch processor, exporting through `exporter`
 * (given a callback counting the spans it delivered).
 */
async function otel(makeExporter: (delivered: (n: number) => void) => Promise<Exporter>): Promise<RequestTracing> {
  const sdk = await import('@opentelemetry/sdk-trace-base');
  let exported = 0;
  const exporter = await makeExporter((n) => { exported += n; });
  const processor = new sdk.BatchSpanProcessor(exporter as never);
  const tracer = new sdk.BasicTracerProvider({ spanProcessors: [processor] }).getTracer('app');
  return {
    ...otelCalls(tracer),
    flush: () => processor.forceFlush(),
    finish: async () => {
      await processor.forceFlush();
      return exported;
    },
  };
}

/** An exporter that only counts: the SDK's own cost, with nothing leaving the process. */
async function countingExporter(delivered: (n: number) => void): Promise<Exporter> {
  return {
    export(spans, done) {
      delivered(spans.length);
      done({ code: 0 });
    },
    shutdown: () => Promise.resolve(),
  };
}

/**
 * OpenTelemetry's OTLP/HTTP protobuf exporter, posting to the receiver that
 * bench:http runs (BENCH_OTLP_URL): what a service sending its spans to a
 * collector pays, as the bridge's spans leave the process in the trace.
 */
async function otlpExporter(delivered: (n: number) => void): Promise<Exporter> {
  const url = process.env['BENCH_OTLP_URL'];
  if (!url) throw new Error('otel_otlp needs BENCH_OTLP_URL, the receiver bench:http starts');
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  const otlp = new OTLPTraceExporter({ url });
  return {
    export(spans, done) {
      otlp.export(spans as never, (r) => {
        if (r.code === 0) delivered(spans.length);
        done(r);
      });
    },
    shutdown: () => otlp.shutdown(),
  };
}

/**
 * The same calls as otel(), through the OpenTelemetry API to ringtrace's own
 * TracerProvider (ringtrace/otel): recorded by the recorder like ringtrace().
 */
async function bridge(): Promise<RequestTracing> {
  const { RingtraceTracerProvider } = await import('../../src/otel/index.js');
  const tracer = new RingtraceTracerProvider().getTracer('app');
  return { ...otelCalls(tracer), flush: async () => undefined, finish: async () => -1 };
}

/** The bridge's span alone (startSpan, end): what its attributes, event and status add is bridge's less this. */
async function bridgeBare(): Promise<RequestTracing> {
  const { RingtraceTracerProvider } = await import('../../src/otel/index.js');
  const tracer = new RingtraceTracerProvider().getTracer('app');
  return { start: () => tracer.startSpan('request'), work: () => undefined, end: (s) => (s as Span).end(),
    flush: async () => undefined, finish: async () => -1 };
}

/**
 * Subscribers that do nothing on the two channels auto mode's server spans
 * use: what Node's own publishing costs any tracer built on them.
 */
function channelsNoop(): RequestTracing {
  const names = ['http.server.request.start', 'http.server.response.finish'];
  const noop = () => undefined;
  return { ...none(), enter: () => { for (const n of names) dc.subscribe(n, noop); },
    leave: () => { for (const n of names) dc.unsubscribe(n, noop); } };
}

/** A 'gc' PerformanceObserver whose callback does nothing: what Node's delivery of GC entries costs. */
function gcObserverNoop(): RequestTracing {
  const observer = new PerformanceObserver(() => undefined);
  return { ...none(), enter: () => observer.observe({ entryTypes: ['gc'] }), leave: () => observer.disconnect() };
}

/** Auto mode's gc part alone (src/auto/gc.ts), on while the tool is current. */
function gcPart(): RequestTracing {
  let tracing: GcTracing | undefined;
  const failed = (e: unknown) => { throw e; };
  return { ...none(), enter: () => { tracing = startGcTracing(failed); }, leave: () => tracing?.stop() };
}

async function pino(): Promise<RequestTracing> {
  const pinoLib = (await import('pino')).default;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rt-bench-http-pino-')), 'log');
  const dest = pinoLib.destination({ dest: file, sync: false });
  await new Promise((r) => dest.once('ready', r));
  const log = pinoLib({ level: 'info' }, dest);
  return {
    start: (method, p) => {
      log.info({ method, path: p }, 'request');
      return Date.now();
    },
    work: (items, bytes, user, note) => log.info({ items, bytes, user, note }, 'work'),
    end: (started, status) => log.info({ status, ms: Date.now() - (started as number) }, 'done'),
    flush: async () => dest.flushSync(),
    finish: async () => {
      dest.flushSync();
      const lines = fs.readFileSync(file, 'utf8').split('\n').length - 1;
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
      return lines;
    },
  };
}

export async function tracingFor(mode: string): Promise<RequestTracing> {
  switch (mode) {
    case 'none': return none();
    case 'ringtrace': return ringtrace();
    case 'auto': return auto('on-read');
    case 'auto_context': return auto('always');
    case 'auto_http': return auto('on-read', 'http');
    case 'otel': return otel(countingExporter);
    case 'otel_otlp': return otel(otlpExporter);
    case 'bridge': return bridge();
    case 'bridge_bare': return bridgeBare();
    case 'pino': return pino();
    case 'channels_noop': return channelsNoop();
    case 'gc_observer_noop': return gcObserverNoop();
    case 'gc_part': return gcPart();
    default: throw new Error(`unknown tracing mode '${mode}' (none, ringtrace, auto, auto_context, auto_http, channels_noop, gc_observer_noop, gc_part, bridge, bridge_bare, otel, otel_otlp, pino)`);
  }
}
