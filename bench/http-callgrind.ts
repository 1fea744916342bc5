// What tracing adds to each request of the benchmark server (bench/server/app.ts),
// counted instead of timed: the server runs under valgrind's callgrind with
// its cache model, traced by `trace-consume record`; after --warmup requests
// (4 keep-alive connections) collection is switched on for exactly
// --requests requests, then off. Per request: instructions (all, and without
// V8's optimizing compiler, in case it is still at work in the measured
// window; with 12 000 requests of warm-up it is not), L1 instruction and data
// cache misses, last-level cache misses and mispredicted branches (callgrind's
// simple predictor models), with the difference to `none` in parentheses.
// Steadier than CPU time on a shared 2-vCPU guest, which moves by
// microseconds between runs; V8's hash and random seeds are fixed, so
// dictionary-mode objects (the app's 20-key object) lay out alike in every
// run (with random seeds, sorting their keys for JSON.stringify moved a
// tool's count by up to ~1 000 instructions per request). Totals still move
// by several hundred instructions with what V8 has compiled by the window;
// per-function counts (--functions) show smaller changes. What it cannot show is what a
// miss costs in time. Timer-driven work (auto mode's runtime counters) is
// inflated: valgrind's slowdown fires timers many times more often per
// request. Under valgrind rseq is not registered: records take the ring's
// atomic path (a few instructions more than rseq's).
// --paced MS: requests one at a time, each MS ms after the previous answer
// (default: 4 in flight, back to back): the server goes idle between
// requests, as at an even rate below saturation, where each request has an
// event-loop turn of its own and pays what a turn costs (back to back, a
// turn serves several). What time runs put on Node's 'gc'
// PerformanceObserver at an even rate (3-5 us per request) does not show in
// these counts either (~900 instructions; docs/benchmarks.md).
// --idle MS: after the counted requests, MS ms (wall) with no requests,
// counted apart and reported per second: the work timers do whatever the
// request rate (auto mode's loop-delay histogram every 10 ms, its counters
// every interval). The request window holds that work at valgrind's pace,
// tens of times more per request than at a real rate; measure the parts
// that run per request without the timer-driven ones (BENCH_AUTO_PARTS),
// and these apart. (Taking the idle rate times the window's length off the
// window instead was tried: the idle rate moves by ~25 % between runs, V8
// collecting as the load stops, and the result by thousands of
// instructions per request.)
// --functions N: also the N functions each tool adds most instructions to,
// with their L1 instruction misses (V8's code named through node's perf map;
// callgrind-functions.ts).
//   npm run bench:http-callgrind -- [--tools none,ringtrace,auto_http] [--warmup 12000] [--requests 4000] [--paced MS]
//     [--functions 25] [--idle 20000] [--keep DIR]
// (needs valgrind; one tool takes ~2-3 minutes)
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { arg, helpOnRequest } from './arg';
import { freePort } from './server/harness';
import { keepAliveAgent, pacedRequests, requests } from './server/keep-alive';
import { type OtlpReceiver, otlpReceiver } from './server/processes';
import { functionCosts, grownFunctions, readPerfMap } from './callgrind-functions';

helpOnRequest();

const tools = arg('--tools', 'none,ringtrace,auto_http').split(',');
const pacedMs = Number(arg('--paced', '0'));
/**
 * Requests before counting. With 2 000 V8 was still compiling in the window
 * (~25 k instructions per request back to back, ~350 k paced) and some of the
 * tools' functions still ran unoptimized: the OpenTelemetry SDK counted
 * +31.7 k instructions per request after 2 000, +17.6 k after 12 000.
 */
const warmup = Number(arg('--warmup', '12000'));
const counted = Number(arg('--requests', '4000'));
const topFunctions = Number(arg('--functions', '0'));
const idleMs = Number(arg('--idle', '0'));
/** --keep DIR: callgrind's files are kept there (callgrind_annotate --tree=caller shows who called what). */
const keepDir = arg('--keep', '');
/** What --functions lists per function. */
const FUNCTION_EVENTS = ['Ir', 'I1mr'] as const;
/** Same hash table layouts and Math.random in every run (see the top). */
const FIXED_SEEDS = ['--hash-seed=1', '--random-seed=1'];
const root = path.join(__dirname, '..');
const cli = path.join(root, 'cli', 'trace-consume.js');
const app = path.join(__dirname, 'server', 'app.js');
/** Functions of V8's optimizing compilers (TurboFan, Turboshaft, Maglev). */
const COMPILER = /compiler::|turboshaft|maglev/i;

/** Events callgrind reports: instructions, L1 and last-level misses (instruction, data read/write), mispredicted conditional and indirect branches. */
const EVENTS = ['Ir', 'I1mr', 'D1mr', 'D1mw', 'ILmr', 'DLmr', 'DLmw', 'Bcm', 'Bim'] as const;
type Event = (typeof EVENTS)[number];
/** Per request: what is reported, summed from the events; all, and without the optimizing compiler's. */
const REPORTED = { instructions: ['Ir'], l1i_misses: ['I1mr'], l1d_misses: ['D1mr', 'D1mw'],
  ll_misses: ['ILmr', 'DLmr', 'DLmw'], mispredicts: ['Bcm', 'Bim'] } satisfies Record<string, Event[]>;
type Measure = keyof typeof REPORTED;
interface Counts { all: Record<Measure, number>; noCompiler: Record<Measure, number>;
  /** With --functions: self costs (FUNCTION_EVENTS) per function, for the whole window. */
  functions?: Map<string, number[]>;
  /** With --idle: per second with no requests. */
  idlePerSecond?: Record<Measure, number> }
const zero = () => Object.fromEntries(Object.keys(REPORTED).map((k) => [k, 0])) as Record<Measure, number>;

/** Switch the collection of process pid's callgrind on or off. */
function collect(on: boolean, pid: number): void {
  const r = spawnSync('callgrind_control', ['-i', on ? 'on' : 'off', String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`callgrind_control -i ${on ? 'on' : 'off'} ${pid}: ${r.stderr || r.error}`);
}

/** Dump process pid's counts so far into the next numbered file after `out` (callgrind zeroes them). */
async function dump(pid: number, out: string, n: number, what: string): Promise<string> {
  const r = spawnSync('callgrind_control', [`--dump=${what}`, String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`callgrind_control --dump ${pid}: ${r.stderr || r.error}`);
  const file = `${out}.${n}`;
  for (let waited = 0; !fs.existsSync(file) || fs.statSync(file).size === 0; waited += 100) {
    if (waited > 30_000) throw new Error(`callgrind wrote no ${file}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return file;
}

/** Per-function counts from callgrind_annotate, summed. */
function countsOf(out: string): Counts {
  const r = spawnSync('callgrind_annotate', [`--show=${EVENTS.join(',')}`, '--threshold=100', '--auto=no', out],
    { encoding: 'utf8', maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`callgrind_annotate: ${r.stderr}`);
  const c: Counts = { all: zero(), noCompiler: zero() };
  // "  1,234 (0.1%)  56 (...)  ...  file:function [object]": one number (and share) per event, then the function
  // (a zero is printed as '.')
  const number = /^\s*([\d,]+|\.)\s+(?:\([^)]*\)\s+)?/;
  for (const line of r.stdout.split('\n')) {
    let rest = line;
    const values: number[] = [];
    for (let m = number.exec(rest); m && values.length < EVENTS.length; m = number.exec(rest)) {
      values.push(m[1] === '.' ? 0 : Number(m[1]!.replace(/,/g, '')));
      rest = rest.slice(m[0].length);
    }
    if (values.length !== EVENTS.length || !rest || /PROGRAM TOTALS/.test(rest)) continue;
    const compiler = COMPILER.test(rest);
    for (const [k, events] of Object.entries(REPORTED) as [Measure, Event[]][]) {
      const n = events.reduce((sum, e) => sum + values[EVENTS.indexOf(e)]!, 0);
      c.all[k] += n;
      if (!compiler) c.noCompiler[k] += n;
    }
  }
  return c;
}

async function measure(tool: string, dir: string, otlp: OtlpReceiver): Promise<Counts> {
  const port = await freePort();
  const out = path.join(dir, `callgrind-${tool}.out`);
  const recorder = spawn(process.execPath, [cli, 'record', '-q', '-o', path.join(dir, `trace-${tool}`), '--',
    'valgrind', '--tool=callgrind', '--cache-sim=yes', '--branch-sim=yes', '--instr-atstart=no', `--callgrind-out-file=${out}`,
    ...(topFunctions > 0 ? ['--dump-instr=yes'] : []),
    process.execPath, ...(topFunctions > 0 ? ['--perf-basic-prof'] : []), '--expose-gc', ...FIXED_SEEDS, app, tool, String(port)],
  // (in dir: node's --perf-basic-prof also writes an isolate-*-v8.log where it runs)
  { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir, env: { ...process.env, BENCH_OTLP_URL: otlp.url } });
  let stderr = '';
  recorder.stderr!.on('data', (d: Buffer) => { stderr += String(d); });
  const exited = new Promise<number | null>((resolve) => recorder.on('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    recorder.stdout!.on('data', (d: Buffer) => { if (/listening/.test(String(d))) resolve(); });
    void exited.then((code) => reject(new Error(`the server exited (${code}): ${stderr.slice(-2000)}`)));
  });
  // The valgrind'd server: the recorder's child.
  const child = spawnSync('pgrep', ['-P', String(recorder.pid)], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  if (!child) throw new Error('cannot find the server process under the recorder');
  const agent = keepAliveAgent();
  const load = (from: number, count: number) => pacedMs > 0 ? pacedRequests(port, from, count, agent, pacedMs)
    : requests(port, from, count, agent);
  await load(0, warmup);
  const pid = Number(child);
  collect(true, pid);
  await load(warmup, counted);
  collect(false, pid);
  const window = await dump(pid, out, 1, 'requests');
  let idle: Counts | undefined;
  if (idleMs > 0) {
    collect(true, pid);
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    collect(false, pid);
    idle = countsOf(await dump(pid, out, 2, 'idle'));
  }
  await fetch(`http://127.0.0.1:${port}/quit`).catch(() => undefined);
  agent.destroy();
  const code = await exited;
  if (code !== 0) throw new Error(`the recorder exited ${code}: ${stderr.slice(-2000)}`);
  const c = countsOf(window);
  if (idle) {
    c.idlePerSecond = zero();
    for (const k of Object.keys(REPORTED) as Measure[]) c.idlePerSecond[k] = idle.all[k] / (idleMs / 1000);
  }
  if (topFunctions > 0) {
    const map = `/tmp/perf-${child}.map`; // node's, named by its pid
    c.functions = functionCosts(window, readPerfMap(map), FUNCTION_EVENTS);
    if (keepDir) fs.copyFileSync(map, path.join(dir, `perf-${tool}.map`)); // names the addresses in the kept files
    fs.rmSync(map, { force: true });
  }
  for (const k of Object.keys(REPORTED) as Measure[]) {
    c.all[k] /= counted;
    c.noCompiler[k] /= counted;
  }
  return c;
}

async function main(): Promise<void> {
  if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('bench:http-callgrind needs valgrind (apt install valgrind)');
  const dir = keepDir ? path.resolve(keepDir) : fs.mkdtempSync(path.join(os.tmpdir(), 'rt-bench-callgrind-'));
  if (keepDir) fs.mkdirSync(dir, { recursive: true });
  console.log(`# ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}; ${warmup} requests of warm-up, ` +
    `${counted} counted${pacedMs > 0 ? `, one at a time ${pacedMs} ms apart` : ', 4 in flight'}; per request`);
  const results = new Map<string, Counts>();
  // otel_otlp's exporter posts here: outside the counted process, as a collector runs outside the service.
  const otlp = await otlpReceiver();
  try {
    for (const tool of tools) {
      const c = await measure(tool, dir, otlp);
      results.set(tool, c);
      const base = results.get('none');
      const fmt = (r: Record<Measure, number>, b: Record<Measure, number> | undefined, unit = '') =>
        (Object.keys(REPORTED) as Measure[]).map((k) => {
          const d = b && tool !== 'none' ? r[k] - b[k] : undefined;
          return `${k}${unit}=${r[k].toFixed(0)}${d === undefined ? '' : `(${d >= 0 ? '+' : ''}${d.toFixed(0)})`}`;
        }).join(' ');
      console.log(`bench callgrind ${tool} without_compiler: ${fmt(c.noCompiler, base?.noCompiler)}; ` +
        `all: ${fmt(c.all, base?.all)}`);
      if (c.idlePerSecond) console.log(`bench callgrind ${tool} idle: ${fmt(c.idlePerSecond, base?.idlePerSecond, '_per_s')}`);
      if (base?.functions && c.functions && tool !== 'none') {
        console.log(`# ${tool}: the ${topFunctions} functions it adds most instructions to, per request`);
        for (const row of grownFunctions(base.functions, c.functions, FUNCTION_EVENTS, counted, topFunctions)) {
          console.log(`#   ${row}`);
        }
      }
    }
  } finally {
    otlp.close();
    if (!keepDir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
