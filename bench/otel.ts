// What a span costs through the OpenTelemetry bridge. Prints
// `ringtrace otel <case> ns_per_span=<x>` lines: the median of 5 fresh
// processes (3 with --quick), each the median of timed chunks of 20,000
// spans (bench/median.ts). Every case makes a span with the same 4
// attributes (two strings, two integers) and ends it:
//   sdk_batch         the SDK with a BatchSpanProcessor and a no-op exporter (flushed untimed between chunks)
//   sdk_ringtrace     the SDK with RingtraceSpanProcessor, recording into a session (drained untimed, counted)
//   sdk_ringtrace_off the same with no session: the processor's property checks
//   sdk_bare          the SDK with no processor at all: the SDK's own share
//   provider          ringtrace's own TracerProvider (no SDK), recording into a session (drained, counted)
//   provider_off      the same with no session: a non-recording span with fresh ids
//   ringtrace_typed   ringtrace's own typed span (provider.spanType) with the same 4 values
//   attributes_json   JSON.stringify of such a span's attributes alone (what the processor records them as)
// A ringtrace case fails unless each chunk's drain delivered exactly its records.
// Usage: node dist/bench/otel.js [--quick] [case...]   (--case NAME: one run, used internally)
import { spawnSync } from 'node:child_process';
import type { Tracer } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter, type SpanProcessor }
  from '@opentelemetry/sdk-trace-base';
import { currentTracer, provider, Session } from '../src/index';
import { RingtraceSpanProcessor, RingtraceTracerProvider } from '../src/otel/index';
import { median } from './median';
import { kernelClocksource } from '../src/clocksource';
import { helpOnRequest } from './arg';

helpOnRequest();

const CHUNK = 20_000;
const quick = process.argv.includes('--quick');
const CHUNKS = quick ? 7 : 21;
const RUNS = quick ? 3 : 5;
const CASES = ['sdk_batch', 'sdk_ringtrace', 'sdk_ringtrace_off', 'sdk_bare', 'provider', 'provider_off', 'ringtrace_typed', 'attributes_json'];
const caseArg = process.argv.indexOf('--case');
const only = caseArg > 0 ? process.argv[caseArg + 1] : undefined;
const sessionName = `bench-otel-${process.pid}`;
process.env['RINGTRACE_SESSION'] = sessionName; // before any class exists: the tracer reads it once

const noopExporter: SpanExporter = {
  export(_spans: ReadableSpan[], done) { done({ code: 0 }); },
  shutdown: () => Promise.resolve(),
};

/** ns per span: the median chunk after two warm-up chunks; `between` runs untimed after each. */
async function timeChunks(body: (n: number) => void, between: () => Promise<void> | void): Promise<number> {
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

const attributes = () => ({ 'http.request.method': 'GET', 'http.route': '/items/:id', 'http.response.status_code': 200,
  'server.port': 8080 });

function sdkBody(processors: SpanProcessor[]): (n: number) => void {
  return spanBody(new BasicTracerProvider({ spanProcessors: processors }).getTracer('bench'));
}

function spanBody(tracer: Tracer): (n: number) => void {
  return (n) => {
    for (let i = 0; i < n; i++) tracer.startSpan('GET /items/:id', { attributes: attributes() }).end();
  };
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
    const typed = provider('bench').spanType('request', ['method:string', 'route:string', 'status:u16', 'port:u16']);
    const body = name === 'ringtrace_typed'
      ? (n: number) => { for (let i = 0; i < n; i++) typed.start('GET', '/items/:id', 200, 8080).end(); }
      : name === 'provider' ? spanBody(new RingtraceTracerProvider().getTracer('bench'))
        : sdkBody([new RingtraceSpanProcessor()]);
    currentTracer().poll();
    const consumer = session.consumer();
    let first = true;
    return await timeChunks(body, () => {
      const got = consumer.discard(true).records;
      const want = 2 * CHUNK + (first && name !== 'ringtrace_typed' ? 1 : 0); // + otel:resource once
      first = false;
      if (got !== want) throw new Error(`${name}: a chunk emitted ${want} records, the rings delivered ${got}`);
    });
  } finally {
    session.remove();
    session.close();
  }
}

function parent(): void {
  const cases = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const clock = kernelClocksource();
  console.log(`# node ${process.version}, clocksource ${clock}, ${RUNS} processes per case, chunks of ${CHUNK}`);
  for (const name of cases.length ? cases : CASES) {
    if (!CASES.includes(name)) throw new Error(`unknown case ${name}; cases: ${CASES.join(', ')}`);
    const runs: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const p = spawnSync(process.execPath, [__filename, '--case', name, ...(quick ? ['--quick'] : [])],
        { encoding: 'utf8' });
      if (p.status !== 0) throw new Error(`${name}: ${p.stderr}`);
      runs.push(Number(p.stdout.trim()));
    }
    console.log(`ringtrace otel ${name} ns_per_span=${median(runs).toFixed(1)} min=${Math.min(...runs).toFixed(1)} ` +
      `runs=${runs.map((x) => x.toFixed(1)).join(',')}`);
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
