// What a span costs through the OpenTelemetry bridge. Prints
// `ringtrace otel <case> ns_per_span=<x>` lines: the median of 5 fresh
// processes (3 with --quick), each the median of timed chunks of 20,000
// spans (bench/median.ts), and the bytes a span allocates (one more process
// per case, its young generation big enough that no collection falls inside
// a chunk; what the SDK's batch queue holds counts too). Every case makes a
// span with the same 4 attributes (two strings, two integers) and ends it;
// with --shape request, the span bench:http's server makes instead (2
// attributes, an event with 4, a status attribute set at the end):
//   sdk_batch         the SDK with a BatchSpanProcessor and a no-op exporter (flushed untimed between chunks)
//   sdk_ringtrace     the SDK with RingtraceSpanProcessor, recording into a session (drained untimed, counted)
//   sdk_ringtrace_off the same with no session: the processor's property checks
//   sdk_bare          the SDK with no processor at all: the SDK's own share
//   provider          ringtrace's own TracerProvider (no SDK), recording into a session (drained, counted)
//   provider_off      the same with no session: a non-recording span with fresh ids
//   ringtrace_typed   ringtrace's own typed span (provider.spanType) with the same 4 values
//   attributes_json   JSON.stringify of such a span's attributes alone (what the processor records them as)
// A ringtrace case fails unless each chunk's drain delivered exactly its records.
// Usage: node dist/bench/otel.js [--quick] [--shape attributes|request] [case...]
//   (--case NAME [--bytes]: one run, used internally)
import { spawnSync } from 'node:child_process';
import type { Tracer } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter, type SpanProcessor }
  from '@opentelemetry/sdk-trace-base';
import { currentTracer, provider, Session } from '../src/index';
import { RingtraceSpanProcessor, RingtraceTracerProvider } from '../src/otel/index';
import { median } from './median';
import { kernelClocksource } from '../src/clocksource';
import { arg, helpOnRequest } from './arg';
import * as v8 from 'node:v8';

helpOnRequest();

const CHUNK = 20_000;
const quick = process.argv.includes('--quick');
const CHUNKS = quick ? 7 : 21;
const RUNS = quick ? 3 : 5;
const CASES = ['sdk_batch', 'sdk_ringtrace', 'sdk_ringtrace_off', 'sdk_bare', 'provider', 'provider_off', 'ringtrace_typed', 'attributes_json'];
const caseArg = process.argv.indexOf('--case');
const only = caseArg > 0 ? process.argv[caseArg + 1] : undefined;
const SHAPES = ['attributes', 'request'];
const shape = arg('--shape', 'attributes');
if (!SHAPES.includes(shape)) throw new Error(`unknown --shape ${shape}; shapes: ${SHAPES.join(', ')}`);
/** Spans in the chunk whose allocation is measured (its garbage must fit the young generation). */
const BYTES_CHUNK = 10_000;
const YOUNG_MB = 256;
const sessionName = `bench-otel-${process.pid}`;
process.env['RINGTRACE_SESSION'] = sessionName; // before any class exists: the tracer reads it once

const noopExporter: SpanExporter = {
  export(_spans: ReadableSpan[], done) { done({ code: 0 }); },
  shutdown: () => Promise.resolve(),
};

/**
 * ns per span: the median chunk after two warm-up chunks; `between` runs
 * untimed after each. With --bytes: instead, the heap bytes one chunk adds
 * per span, after two warm-up chunks and a full collection.
 */
async function timeChunks(body: (n: number) => void, between: () => Promise<void> | void): Promise<number> {
  if (process.argv.includes('--bytes')) return bytesPerSpan(body, between);
  const times: number[] = [];
  for (let k = -2; k < CHUNKS; k++) {
    const t0 = performance.now();
    body(CHUNK);
    const t1 = performance.now();
    await between();
    if (k >= 0) times.push(((t1 - t0) * 1e6) / CHUNK);
  }
  return median(times);
}

async function bytesPerSpan(body: (n: number) => void, between: () => Promise<void> | void): Promise<number> {
  for (let k = 0; k < 2; k++) {
    body(BYTES_CHUNK);
    await between();
  }
  (globalThis as { gc?: () => void }).gc!();
  const before = v8.getHeapStatistics().used_heap_size;
  body(BYTES_CHUNK);
  const after = v8.getHeapStatistics().used_heap_size;
  await between();
  if (after <= before) throw new Error(`a collection fell inside the measured chunk (${before} -> ${after} bytes)`);
  return (after - before) / BYTES_CHUNK;
}

const attributes = () => ({ 'http.request.method': 'GET', 'http.route': '/items/:id', 'http.response.status_code': 200,
  'server.port': 8080 });

function sdkBody(processors: SpanProcessor[]): (n: number) => void {
  return spanBody(new BasicTracerProvider({ spanProcessors: processors }).getTracer('bench'));
}

function spanBody(tracer: Tracer): (n: number) => void {
  if (shape === 'request') { // bench/server/tracing.ts's otelCalls
    return (n) => {
      for (let i = 0; i < n; i++) {
        const span = tracer.startSpan('request', { attributes: { method: 'GET', path: '/items/12' } });
        span.addEvent('work', { items: i & 7, bytes: 96, user: 3, note: 'rendered' });
        span.setAttribute('status', 200);
        span.end();
      }
    };
  }
  return (n) => {
    for (let i = 0; i < n; i++) tracer.startSpan('GET /items/:id', { attributes: attributes() }).end();
  };
}

/** ringtrace's own calls for the same span: a typed span (and a typed event, for the request shape). */
function typedBody(): { body: (n: number) => void; records: number } {
  const app = provider('bench');
  if (shape === 'request') {
    const request = app.spanType('request', ['method:string', 'path:string', 'status:u16']);
    const work = app.event('work', ['items:u32', 'bytes:u32', 'user:u32', 'note:string']);
    return { records: 3, body: (n) => {
      for (let i = 0; i < n; i++) {
        const span = request.start('GET', '/items/12', 200);
        work.emit(i & 7, 96, 3, 'rendered');
        span.end();
      }
    } };
  }
  const typed = app.spanType('request', ['method:string', 'route:string', 'status:u16', 'port:u16']);
  return { records: 2, body: (n) => { for (let i = 0; i < n; i++) typed.start('GET', '/items/:id', 200, 8080).end(); } };
}

let jsonLength = 0;
function jsonBody(): (n: number) => void {
  const span = new BasicTracerProvider().getTracer('bench').startSpan('x', { attributes: attributes() });
  const attrs = (span as unknown as ReadableSpan).attributes; // the SDK's own object, as onEnd sees it
  return (n) => {
    for (let i = 0; i < n; i++) jsonLength += JSON.stringify(attrs).length;
  };
}

async function run(name: string): Promise<number> {
  if (name === 'sdk_bare') return timeChunks(sdkBody([]), () => {});
  if (name === 'attributes_json') return timeChunks(jsonBody(), () => { if (jsonLength === 0) throw new Error('no JSON'); });
  if (name === 'sdk_batch') {
    const batch = new BatchSpanProcessor(noopExporter, { maxQueueSize: CHUNK, maxExportBatchSize: 512,
      scheduledDelayMillis: 60_000 });
    return timeChunks(sdkBody([batch]), () => batch.forceFlush());
  }
  if (name === 'sdk_ringtrace_off') return timeChunks(sdkBody([new RingtraceSpanProcessor()]), () => {});
  if (name === 'provider_off') return timeChunks(spanBody(new RingtraceTracerProvider().getTracer('bench')), () => {});
  const session = Session.create(sessionName, { subBufferSize: 1 << 20, subBuffers: 32 });
  try {
    const typed = name === 'ringtrace_typed' ? typedBody() : undefined;
    const body = typed ? typed.body : name === 'provider' ? spanBody(new RingtraceTracerProvider().getTracer('bench'))
      : sdkBody([new RingtraceSpanProcessor()]);
    currentTracer().poll();
    const consumer = session.consumer();
    const chunk = process.argv.includes('--bytes') ? BYTES_CHUNK : CHUNK;
    let first = true;
    return await timeChunks(body, () => {
      const got = consumer.discard(true).records;
      // A span's begin and end (and, from the provider, its event: the SDK's processor keeps it in the end).
      const perSpan = typed ? typed.records : name === 'provider' && shape === 'request' ? 3 : 2;
      const want = perSpan * chunk + (first && !typed ? 1 : 0); // + otel:resource once
      first = false;
      if (got !== want) throw new Error(`${name}: a chunk emitted ${want} records, the rings delivered ${got}`);
    });
  } finally {
    session.remove();
    session.close();
  }
}

function parent(): void {
  const cases = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--shape');
  const clock = kernelClocksource();
  console.log(`# node ${process.version}, clocksource ${clock}, ${RUNS} processes per case, chunks of ${CHUNK}, ` +
    `span shape ${shape}; bytes: one process, a chunk of ${BYTES_CHUNK} in a ${YOUNG_MB} MB young generation`);
  const child = (name: string, flags: string[], extra: string[]): number => {
    const p = spawnSync(process.execPath, [...flags, __filename, '--case', name, '--shape', shape, ...extra,
      ...(quick ? ['--quick'] : [])], { encoding: 'utf8' });
    if (p.status !== 0) throw new Error(`${name}: ${p.stderr}`);
    return Number(p.stdout.trim());
  };
  for (const name of cases.length ? cases : CASES) {
    if (!CASES.includes(name)) throw new Error(`unknown case ${name}; cases: ${CASES.join(', ')}`);
    const runs: number[] = [];
    for (let r = 0; r < RUNS; r++) runs.push(child(name, [], []));
    const bytes = child(name, ['--expose-gc', `--min-semi-space-size=${YOUNG_MB}`, `--max-semi-space-size=${YOUNG_MB}`],
      ['--bytes']);
    console.log(`ringtrace otel ${name} ns_per_span=${median(runs).toFixed(1)} min=${Math.min(...runs).toFixed(1)} ` +
      `runs=${runs.map((x) => x.toFixed(1)).join(',')} bytes_per_span=${bytes.toFixed(0)}`);
  }
}

if (only === undefined) {
  parent();
} else {
  run(only).then((ns) => console.log(ns.toFixed(2)), (e: unknown) => {
    console.error(`bench/otel: ${(e as Error).message}`);
    process.exit(1);
  });
}
