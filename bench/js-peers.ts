// JS side of `npm run bench` (bench/peers.ts): ringtrace's JS API next to
// pino writing to a file, an OpenTelemetry SDK span (4 attributes, batch
// processor), node:diagnostics_channel with one subscriber, and
// performance.mark; each also disabled. Same event everywhere: three integers
// and a short string. Each case runs in 3 fresh processes (JIT and host load
// differ between processes), pinned to CPU 0 when taskset exists; inside, events
// are timed in chunks of 2 000 (OpenTelemetry's batch queue holds 2 048) and
// whatever each tool buffers is flushed between chunks, untimed; the median
// chunk is the process's result, the median process is printed:
//   bench <tool> <case> ns_per_event=<x> lost=<n> runs=...
// The two comparisons with targets also run as pairs: both tools in one
// process, chunk by chunk in turn (see pair()), printed as
//   bench pair <a>_vs_<b> ratio=<b/a> ns_per_event=<a> peer_ns_per_event=<b> ...
// `lost` is checked against what each tool reports delivering (for ringtrace:
// the records the rings delivered, counted from their headers).
import { spawnSync } from 'node:child_process';
import * as dc from 'node:diagnostics_channel';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { currentTracer, provider, Session } from '../src/index';
import { median } from './median';

const CHUNK = 2000;
const quick = process.argv.includes('--quick');
const CHUNKS = quick ? 9 : 41;
const WARMUP = 50; // chunks: 100 000 events before timing, so V8 has optimized every path
const RUNS = quick ? 1 : 3;
const CASES = ['ringtrace-js request', 'ringtrace-js span', 'ringtrace-js span_typed', 'ringtrace-js disabled', 'pino request', 'pino_async request',
  'pino disabled', 'otel span', 'otel disabled', 'diagnostics_channel request', 'diagnostics_channel disabled',
  'performance_mark request'];
const PATH = '/api/items';


/** ns per event: median of timed chunks; `between` runs untimed after each (may be async). */
async function timeChunks(body: (base: number) => void, between: () => unknown): Promise<number> {
  const times: number[] = [];
  for (let k = -WARMUP; k < CHUNKS; k++) {
    const t0 = performance.now();
    body((k + WARMUP) * CHUNK);
    const t1 = performance.now();
    await between();
    if (k >= 0) times.push(((t1 - t0) * 1e6) / CHUNK);
  }
  return median(times);
}
const EMITTED = (CHUNKS + WARMUP) * CHUNK;

type Case = () => Promise<{ ns: number; lost: number | string }>;

/** A tool ready to time: a chunk of events from `base`, what runs untimed after it, and the losses at the end. */
interface Setup {
  body: (base: number) => void;
  between: () => unknown;
  finish: () => number | string;
}

async function ringtraceRequest(): Promise<Setup> {
  const { ev, drain, finish } = await ringtraceSession(1);
  return {
    body: (b) => { for (let i = 0; i < CHUNK; i++) ev.request.emit(b + i, i, 7, PATH); },
    between: drain, finish,
  };
}

async function ringtraceSpanTyped(): Promise<Setup> { // the 4 fields of the OpenTelemetry span's attributes, typed
  const { ev, drain, finish } = await ringtraceSession(2); // a begin and an end record
  const span = ev.p.spanType('request_typed', ['a:u32', 'b:u32', 'c:u32', 'path:string']);
  currentTracer().poll();
  return {
    body: (b) => { for (let i = 0; i < CHUNK; i++) span.start(b + i, i, 7, PATH).end(); },
    between: drain, finish,
  };
}

async function otelSpan(): Promise<Setup> {
  const sdk = await import('@opentelemetry/sdk-trace-base');
  let exported = 0;
  let emitted = 0;
  // Counts spans: the export cost measured is the SDK's own, not an exporter's I/O.
  const exporter = {
    export(spans: unknown[], done: (r: { code: number }) => void) { exported += spans.length; done({ code: 0 }); },
    shutdown: () => Promise.resolve(),
  };
  const processor = new sdk.BatchSpanProcessor(exporter as never);
  const tracer = new sdk.BasicTracerProvider({ spanProcessors: [processor] }).getTracer('bench');
  return {
    body: (b) => {
      for (let i = 0; i < CHUNK; i++) tracer.startSpan('request', { attributes: { a: b + i, b: i, c: 7, path: PATH } }).end();
      emitted += CHUNK;
    },
    between: () => processor.forceFlush(), finish: () => emitted - exported,
  };
}

async function pinoRequest(level: string, sync: boolean): Promise<Setup> {
  const pino = (await import('pino')).default;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-bench-pino-'));
  const file = path.join(dir, 'log');
  // pino.destination(file) is what the docs show; it writes synchronously by default.
  const dest = pino.destination({ dest: file, sync });
  if (!sync) await new Promise((r) => dest.once('ready', r)); // the asynchronous one opens the file first
  const log = pino({ level }, dest);
  let emitted = 0;
  return {
    body: (b) => {
      for (let i = 0; i < CHUNK; i++) log.info({ a: b + i, b: i, c: 7, path: PATH }, 'request');
      emitted += CHUNK;
    },
    between: () => { if (!sync) dest.flushSync(); },
    finish: () => {
      dest.flushSync();
      const lines = fs.readFileSync(file, 'utf8').split('\n').length - 1;
      fs.rmSync(dir, { recursive: true, force: true });
      return level === 'info' ? emitted - lines : lines;
    },
  };
}

async function single(setup: Promise<Setup>): Promise<{ ns: number; lost: number | string }> {
  const s = await setup;
  const ns = await timeChunks(s.body, s.between);
  return { ns, lost: s.finish() };
}

/**
 * Two tools in one process, chunk by chunk in turn, so both meet the same
 * host speed (this machine's drifts by up to 2x between processes); also each
 * one's garbage and cache misses land on the other (a cost for ringtrace,
 * next to the allocating peers). Prints both medians and the median of the
 * per-pair ratios.
 */
async function pair(a: Promise<Setup>, b: Promise<Setup>): Promise<{ ns: number; peerNs: number; ratio: number;
  lost: string }> {
  const x = await a;
  const y = await b;
  const xs: number[] = [];
  const ys: number[] = [];
  const ratios: number[] = [];
  for (let k = -WARMUP; k < CHUNKS; k++) {
    const base = (k + WARMUP) * CHUNK;
    let t0 = performance.now();
    x.body(base);
    let t1 = performance.now();
    await x.between();
    const tx = t1 - t0;
    t0 = performance.now();
    y.body(base);
    t1 = performance.now();
    await y.between();
    if (k >= 0) {
      xs.push((tx * 1e6) / CHUNK);
      ys.push(((t1 - t0) * 1e6) / CHUNK);
      ratios.push((t1 - t0) / tx);
    }
  }
  return { ns: median(xs), peerNs: median(ys), ratio: median(ratios), lost: `${x.finish()}/${y.finish()}` };
}

const PAIRS: Record<string, () => ReturnType<typeof pair>> = {
  'ringtrace-js request vs pino request': () => pair(ringtraceRequest(), pinoRequest('info', true)),
  'ringtrace-js span_typed vs otel span': () => pair(ringtraceSpanTyped(), otelSpan()),
};

const cases: Record<string, Case> = {
  'ringtrace-js request': () => single(ringtraceRequest()),
  async 'ringtrace-js span'() { // a span with the same 4 fields as the OpenTelemetry span's attributes
    const { ev, drain, finish } = await ringtraceSession(2);
    const ns = await timeChunks((b) => {
      for (let i = 0; i < CHUNK; i++) ev.p.span('request', { a: b + i, b: i, c: 7, path: PATH }).end();
    }, drain);
    return { ns, lost: finish() };
  },
  'ringtrace-js span_typed': () => single(ringtraceSpanTyped()), // the same 4 fields, typed: no JSON
  async 'ringtrace-js disabled'() { // tracing off: the event's enabled flag is false
    process.env['RINGTRACE_SESSION'] = 'off';
    const request = provider('bench').event('request', ['a:u32', 'b:u32', 'c:u32', 'path:string']);
    const ns = await timeChunks((b) => { for (let i = 0; i < CHUNK; i++) request.emit(b + i, i, 7, PATH); }, () => 0);
    return { ns, lost: 0 };
  },
  'pino request': () => single(pinoRequest('info', true)),
  'pino_async request': () => single(pinoRequest('info', false)),
  'pino disabled': () => single(pinoRequest('warn', true)),
  'otel span': () => single(otelSpan()),
  async 'otel disabled'() { // the API without an SDK registered: its no-op tracer
    const { trace } = await import('@opentelemetry/api');
    const tracer = trace.getTracer('bench');
    const ns = await timeChunks((b) => {
      for (let i = 0; i < CHUNK; i++) tracer.startSpan('request', { attributes: { a: b + i, b: i, c: 7, path: PATH } }).end();
    }, () => 0);
    return { ns, lost: 0 };
  },
  async 'diagnostics_channel request'() {
    const ch = dc.channel('bench.request');
    let received = 0;
    ch.subscribe(() => { received++; });
    const ns = await timeChunks((b) => {
      for (let i = 0; i < CHUNK; i++) if (ch.hasSubscribers) ch.publish({ a: b + i, b: i, c: 7, path: PATH });
    }, () => 0);
    return { ns, lost: EMITTED - received };
  },
  async 'diagnostics_channel disabled'() {
    const ch = dc.channel('bench.nobody');
    const ns = await timeChunks((b) => {
      for (let i = 0; i < CHUNK; i++) if (ch.hasSubscribers) ch.publish({ a: b + i, b: i, c: 7, path: PATH });
    }, () => 0);
    return { ns, lost: 0 };
  },
  async 'performance_mark request'() { // marks are cleared between chunks, else the timeline grows without bound
    let kept = 0;
    const ns = await timeChunks((b) => {
      for (let i = 0; i < CHUNK; i++) performance.mark('request', { detail: { a: b + i, b: i, c: 7, path: PATH } });
    }, () => { kept += performance.getEntriesByName('request', 'mark').length; performance.clearMarks(); });
    return { ns, lost: EMITTED - kept };
  },
};

/** `recordsPerCall`: records one timed call writes; lost = what all chunks wrote minus what the rings delivered. */
async function ringtraceSession(recordsPerCall: number) {
  const name = `bench-peers-js-${process.pid}`;
  process.env['RINGTRACE_SESSION'] = name;
  const session = Session.create(name, {}); // default buffers
  const p = provider('bench');
  const ev = { p, request: p.event('request', ['a:u32', 'b:u32', 'c:u32', 'path:string']) };
  currentTracer().poll();
  if (!ev.request.enabled) throw new Error('ringtrace events did not attach');
  const consumer = session.consumer();
  let delivered = 0;
  const drain = () => { delivered += consumer.discard(true).records; };
  const finish = () => {
    drain();
    session.remove();
    session.close();
    return EMITTED * recordsPerCall - delivered;
  };
  return { ev, drain, finish };
}

function versions(): string {
  const v = (p: string) => {
    try {
      return JSON.parse(fs.readFileSync(require.resolve(`${p}/package.json`, { paths: [__dirname] }), 'utf8')).version;
    } catch {
      let dir = path.dirname(require.resolve(p));
      while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
      return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version as string;
    }
  };
  return `pino ${v('pino')}, @opentelemetry/api ${v('@opentelemetry/api')}, ` +
    `@opentelemetry/sdk-trace-base ${v('@opentelemetry/sdk-trace-base')}, node ${process.version}`;
}

async function child(name: string): Promise<void> {
  if (PAIRS[name]) {
    const r = await PAIRS[name]();
    console.log(`result ns=${r.ns} peer_ns=${r.peerNs} ratio=${r.ratio} lost=${r.lost}`);
    return;
  }
  const r = await cases[name]!();
  console.log(`result ns=${r.ns} lost=${r.lost}`);
}

function parent(): void {
  console.log(`# JS peers: ${versions()}`);
  const pin = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
  for (const name of CASES) {
    const runs: { ns: number; lost: string }[] = [];
    for (let r = 0; r < RUNS; r++) {
      const out = runChild(name, pin);
      const m = /result ns=([\d.e+-]+) lost=(\S+)/.exec(out);
      if (!m) throw new Error(`case ${name} failed:\n${out}`);
      runs.push({ ns: Number(m[1]), lost: m[2]! });
    }
    runs.sort((a, b) => a.ns - b.ns);
    const mid = runs[Math.floor(runs.length / 2)]!;
    const lost = runs.every((x) => x.lost === '0') ? '0' : runs.map((x) => x.lost).join('/');
    console.log(`bench ${name} ns_per_event=${mid.ns.toFixed(2)} lost=${lost} runs=${runs.map((x) => x.ns.toFixed(1)).join('/')}`);
  }
  for (const name of Object.keys(PAIRS)) {
    const runs: { ratio: number; ns: number; peer: number; lost: string }[] = [];
    for (let r = 0; r < RUNS; r++) {
      const out = runChild(name, pin);
      const m = /result ns=(\S+) peer_ns=(\S+) ratio=(\S+) lost=(\S+)/.exec(out);
      if (!m) throw new Error(`pair ${name} failed:\n${out}`);
      runs.push({ ns: Number(m[1]), peer: Number(m[2]), ratio: Number(m[3]), lost: m[4]! });
    }
    runs.sort((a, b) => a.ratio - b.ratio);
    const mid = runs[Math.floor(runs.length / 2)]!;
    const lost = runs.every((x) => x.lost === '0/0') ? '0' : runs.map((x) => x.lost).join(',');
    console.log(`bench pair ${name.replaceAll(' ', '_')} ratio=${mid.ratio.toFixed(2)} ns_per_event=${mid.ns.toFixed(2)} ` +
      `peer_ns_per_event=${mid.peer.toFixed(2)} lost=${lost} ratios=${runs.map((x) => x.ratio.toFixed(1)).join('/')}`);
  }
}

/** One case (or pair) in a fresh process, pinned to CPU 0 when `pin`. */
function runChild(name: string, pin: boolean): string {
  const args = [__filename, '--case', name, ...(quick ? ['--quick'] : [])];
  const out = pin ? spawnSync('taskset', ['-c', '0', process.execPath, ...args], { encoding: 'utf8' })
    : spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`case ${name} failed:\n${out.stdout}${out.stderr}`);
  return out.stdout;
}

const at = process.argv.indexOf('--case');
if (at > 0) {
  child(process.argv[at + 1]!).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  parent();
}
