// What tracing costs a real server (bench/server/app.ts, node:http) under load:
// one server process, run under `trace-consume record`, switches between tools
// (GET /mode): ringtrace (its API called by the app), ringtrace's auto mode
// (src/auto/: the untouched server traced through diagnostics channels; on only
// during its runs) without async context (auto: this server reads no current
// span) and entering each request span (auto_context), or its http part alone
// (auto_http), do-nothing subscribers on the server's two channels
// (channels_noop: Node's own publishing), a 'gc' PerformanceObserver that does nothing
// (gc_observer_noop), auto mode's gc part alone (gc_part), the OpenTelemetry API through ringtrace's TracerProvider
// (bridge; bridge_bare: the same span without attributes, event or status, its plumbing's share),
// the OpenTelemetry SDK with a batch processor exporting nowhere
// (otel) or through its OTLP/HTTP protobuf exporter to a receiver in this
// process (otel_otlp), pino, and none again (none_control: what two runs of the
// same code differ by). A tool's deferred work (a batch export, a buffered
// write) is finished at the end of its run and counted in its CPU. One process
// for all, so no two runs differ by process (JIT outcome, placement), which
// here was as large as ringtrace's cost; each run starts with a collected heap
// (--expose-gc), so one tool's garbage is not collected on the next one's time.
// This host's speed swings within seconds, so each traced run is compared with
// the untraced runs just before and after it. Two ways to load:
//   saturated (default): autocannon, 10 connections, a new path per request,
//     runs of --seconds; per tool, medians over --rounds of rps_ratio
//     (requests/s relative to no tracing), added_us (server CPU per request
//     added), recorder_us (the recorder's CPU per request, /proc schedstat),
//     p99_ratio (autocannon's p99 is whole milliseconds: sub-ms here);
//   --rate R: R requests/s, steady, through the tools in --window ms windows
//     (server/windows.ts): added_us, user_us (user time alone), main_us (the
//     main thread alone), recorder_us, with quartiles over the windows.
//     --separate: each tool in a sequence of windows of its own, with the
//     control, and two untraced windows after each: a tool that leaves work
//     behind (the OpenTelemetry SDK: garbage for V8's helper threads) raises
//     the untraced window after it, which in a shared sequence is the base of
//     the next tool (it then reads low) and of the tool itself. Adds
//     leftover_us (and leftover_main_us): the tool's window and the one after
//     it against the clean windows on either side (server/windows.ts); the
//     summary compares those. The control shows whether it holds: the SDK's
//     leftover comes for seconds, so give it --window 10000.
//     --fresh: instead, a new server process for every tool and round (one
//     JIT outcome per tool per run is otherwise a lottery: the same tool's
//     cost moved ±3 µs between processes where the untraced server's held
//     ±0.6): each warmed up for --warmup s (10: the recorder and the tool
//     were still settling after 3), then --seconds measured at the
//     rate, then 2 s idle (the work it left for V8's helper threads, counted);
//     added_us against the untraced process of the same round, medians and
//     quartiles over the rounds.
//     --alternate: instead, --replicas (2) processes per tool, all alive at
//     once and warmed up (--warmup), the load going to one at a time in
//     --window ms (1500) windows, each traced process once per round between
//     two untraced ones, for --rounds (server/alternate.ts): --fresh compared
//     processes minutes apart, as much the host's drift as the tools. Also
//     prints each process's median (per_process: the JIT outcomes).
// At the end every record is checked to have arrived (the trace holds 3 app
// records per request served with ringtrace and the bridge (2 with bridge_bare), a
// request span's end per request with auto; the OpenTelemetry exporters delivered
// every span, pino's file has every line).
//   node dist/bench/http.js [--rounds N] [--seconds S | --rate R [--window MS] [--separate | --fresh [--warmup S] |
//     --alternate [--replicas K] [--warmup S]]]
//     [--tools auto,bridge,...] [--pin]
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { arg, helpOnRequest } from './arg';
import { autocannon, processCpuUs, sleep } from './server/harness';
import { checkArrivals, type Server, startServer, stats, type Stats, url } from './server/processes';
import { addedPerRequest, runWindows } from './server/windows';
import { runAlternating } from './server/alternate';
import { median } from './median';
import { kernelClocksource } from '../src/clocksource';

helpOnRequest();

const rounds = Number(arg('--rounds', '5'));
const seconds = Number(arg('--seconds', '3'));
/**
 * --rate R: R requests/s in total (0: as fast as the server answers). Below
 * saturation every tool serves the same rate, so CPU per request compares work
 * alone: saturated, a slower tool also batches fewer responses per write and
 * wake-up, which adds CPU per request that is not its own.
 */
const rate = Number(arg('--rate', '0'));
/** --window MS: with --rate, how long each tool runs before the next switch. */
const windowMs = Number(arg('--window', '500'));
/**
 * --pin: the server on CPU 0, this process (the load) and the recorder on CPU 1
 * (taskset): the server's main thread no longer shares its CPU's caches with
 * the load generator it answers.
 */
const pin = process.argv.includes('--pin');
// none_control: a second untraced server, whose ratio shows what two processes of the same code differ by.
const ALL_TRACED = ['ringtrace', 'auto', 'auto_context', 'auto_http', 'channels_noop', 'gc_observer_noop', 'gc_part', 'bridge',
  'bridge_bare', 'otel', 'otel_otlp', 'pino', 'none_control'] as const;
type Tool = (typeof ALL_TRACED)[number] | 'none';
/** --tools a,b: only these (and none, always). */
const TRACED = arg('--tools', ALL_TRACED.join(',')).split(',').map((t) => {
  if (!(ALL_TRACED as readonly string[]).includes(t)) throw new Error(`unknown tool ${t}; tools: ${ALL_TRACED.join(', ')}`);
  return t as Tool;
});
/** Tools whose records the recorder reads (its CPU is theirs). */
const RECORDED: readonly Tool[] = ['ringtrace', 'auto', 'auto_context', 'auto_http', 'bridge', 'bridge_bare'];

interface Run { rps: number; cpuUsPerReq: number; userUsPerReq: number; mainUsPerReq: number; recorderUsPerReq: number;
  p99: number; served: number; after: Stats }

/** CPU time of the recorder's threads, in µs (0 if unknown). */
const threadsCpuUs = (pid: number | undefined) => (pid ? processCpuUs(pid) : 0);

/** Switch the server to `tool`, load it for `secs` and measure it. */
async function load(s: Server, tool: Tool, secs: number): Promise<Run> {
  const res = await fetch(url(s, `/mode?tool=${tool === 'none_control' ? 'none' : tool}`));
  if (!res.ok) throw new Error(`cannot switch to ${tool}: ${await res.text()}`);
  let n = 0;
  const before = await stats(s);
  const recorderBefore = threadsCpuUs(s.recorder.pid);
  const r = await autocannon({
    url: url(s, '/'), connections: 10, duration: secs, ...(rate > 0 ? { overallRate: rate } : {}),
    requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, path: `/items/${n++}?q=${n & 7}` }) }],
  });
  // The recorder reads the rings whatever the tool; it only has work with ringtrace and auto.
  const recorderUs = RECORDED.includes(tool) ? threadsCpuUs(s.recorder.pid) - recorderBefore : 0;
  const after = await stats(s, true); // a batch export or buffered write left for later is this run's
  if (r.errors || r.non2xx) throw new Error(`${tool}: ${r.errors} errors, ${r.non2xx} non-2xx responses`);
  const served = after.served - before.served;
  return { rps: served / secs, cpuUsPerReq: (after.cpuUs - before.cpuUs) / served,
    userUsPerReq: (after.userUs - before.userUs) / served, mainUsPerReq: (after.mainUs - before.mainUs) / served,
    recorderUsPerReq: recorderUs / served, p99: r.latency.p99, served, after };
}


async function main(): Promise<void> {
  const source = kernelClocksource();
  if (pin && (os.cpus().length < 2 || spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)]).status !== 0)) {
    throw new Error('--pin needs two CPUs and taskset (util-linux)');
  }
  console.log(`# ${os.cpus().length} CPUs, clocksource ${source}, node ${process.version}, ${rounds} rounds` +
    (alternate ? '' : ` of ${seconds} s runs, autocannon 10 connections`) +
    (pin ? '; server on CPU 0, load and recorder on CPU 1' : ''));
  if (fresh) return freshProcesses();
  if (alternate) return alternating();
  const server = await startServer(pin);
  for (const tool of ['none', ...TRACED] as Tool[]) await load(server, tool, 1); // warm every path up
  if (rate > 0) {
    await atFixedRate(server);
  } else {
    await saturated(server);
  }
  const arrived = await checkArrivals(server);
  for (const [tool, how] of arrived) console.log(`# ${tool}: ${how === 'all' ? 'every record arrived' : how}`);
  if ([...arrived.values()].some((v) => v !== 'all')) process.exitCode = 1;
}

let seed = 12345; // the order of the tools changes every round (the same in every run of the bench)
const order = <T>(items: readonly T[]) =>
  [...items].sort(() => ((seed = (seed * 1103515245 + 12345) >>> 0) & 0x400) - 0x200);

/** --separate (with --rate): each tool in a sequence of its own, with the control. */
const separate = process.argv.includes('--separate');

/** --rate: CPU per request in short windows at one fixed rate (windows.ts). */
async function atFixedRate(server: Server): Promise<void> {
  const groups: Tool[][] = separate
    ? TRACED.filter((t) => t !== 'none_control').map((t) => [t, 'none_control']) : [[...TRACED]];
  const medians = new Map<Tool, number>();
  for (const group of groups) {
    if (separate) console.log(`# ${group[0]} and the control`);
    const windows = await runWindows({ url: (p) => url(server, p), port: server.port, rate, windowMs, rounds,
      order: () => order(group), recorderCpuUs: () => threadsCpuUs(server.recorder.pid), log: (line) => console.log(line),
      trailing: separate ? 2 : 1 });
    const added = addedPerRequest(windows.map((w) => RECORDED.includes(w.tool as Tool) ? w : { ...w, recorderUs: 0 }));
    for (const tool of group) {
      const r = added.get(tool);
      if (!r) continue;
      const name = separate && tool === 'none_control' ? `none_control_${group[0]}` : tool;
      console.log(`bench http ${name} added_us=${median(r.added).toFixed(2)} user_us=${median(r.addedUser).toFixed(2)} ` +
        `main_us=${median(r.addedMain).toFixed(2)} recorder_us=${median(r.recorder).toFixed(2)} windows=${r.added.length} ` +
        `quartiles=${quartiles(r.added)} user_quartiles=${quartiles(r.addedUser)} main_quartiles=${quartiles(r.addedMain)}` +
        (r.leftover.length ? ` leftover_us=${median(r.leftover).toFixed(2)} leftover_main_us=${median(r.leftoverMain).toFixed(2)} ` +
          `leftover_quartiles=${quartiles(r.leftover)}` : ''));
      if (!(separate && tool === 'none_control')) medians.set(tool, median(separate ? r.leftover : r.added));
    }
  }
  summary((t) => medians.get(t) ?? NaN);
}

/** --fresh (with --rate): a server process per tool and round. */
const fresh = process.argv.includes('--fresh');
const warmupSeconds = Number(arg('--warmup', '10'));
const IDLE_AFTER_MS = 2000;

async function freshProcesses(): Promise<void> {
  if (!(rate > 0)) throw new Error('--fresh needs --rate R: CPU per request compares at one rate');
  const tools: Tool[] = ['none', ...TRACED];
  const runs = new Map<Tool, { cpu: number; user: number; main: number; recorder: number }[]>(tools.map((t) => [t, []]));
  let incomplete = false;
  for (let round = 0; round < rounds; round++) {
    for (const tool of order(tools)) {
      const server = await startServer(pin);
      await load(server, tool, warmupSeconds); // the JIT and the heap settle
      const r = await load(server, tool, seconds);
      await sleep(IDLE_AFTER_MS);
      const idle = await stats(server); // the work it left behind, counted as its own
      const leftover = (idle.cpuUs - r.after.cpuUs) / r.served;
      runs.get(tool)!.push({ cpu: r.cpuUsPerReq + leftover, user: r.userUsPerReq + (idle.userUs - r.after.userUs) / r.served,
        main: r.mainUsPerReq + (idle.mainUs - r.after.mainUs) / r.served, recorder: r.recorderUsPerReq });
      console.log(`# round ${round + 1} ${tool}: ${r.cpuUsPerReq.toFixed(2)} us CPU/request + ${leftover.toFixed(2)} after, ` +
        `user ${r.userUsPerReq.toFixed(2)}, main thread ${r.mainUsPerReq.toFixed(2)}, recorder ${r.recorderUsPerReq.toFixed(2)}`);
      for (const [t, how] of await checkArrivals(server, true)) {
        if (how !== 'all') {
          console.log(`# round ${round + 1} ${t}: ${how}`);
          incomplete = true;
        }
      }
    }
  }
  const none = runs.get('none')!;
  const medians = new Map<Tool, number>();
  for (const tool of TRACED) {
    const mine = runs.get(tool)!;
    const added = (k: 'cpu' | 'user' | 'main') => mine.map((m, i) => m[k] - none[i]![k]);
    console.log(`bench http ${tool} added_us=${median(added('cpu')).toFixed(2)} user_us=${median(added('user')).toFixed(2)} ` +
      `main_us=${median(added('main')).toFixed(2)} recorder_us=${median(mine.map((m) => m.recorder)).toFixed(2)} ` +
      `processes=${mine.length} quartiles=${quartiles(added('cpu'))} user_quartiles=${quartiles(added('user'))} ` +
      `added=${added('cpu').map((x) => x.toFixed(1)).join(',')}`);
    medians.set(tool, median(added('cpu')));
  }
  console.log(`# untraced: ${none.map((m) => m.cpu.toFixed(1)).join(', ')} us CPU/request per process`);
  summary((t) => medians.get(t) ?? NaN);
  console.log(`# ${incomplete ? 'some records did not arrive (above)' : 'every record arrived, in every process'}`);
  if (incomplete) process.exitCode = 1;
}

/** --alternate (with --rate): every tool's processes alive at once, the load going to one at a time (alternate.ts). */
const alternate = process.argv.includes('--alternate');
const replicas = Number(arg('--replicas', '2'));

async function alternating(): Promise<void> {
  if (!(rate > 0)) throw new Error('--alternate needs --rate R: CPU per request compares at one rate');
  const windowMsHere = process.argv.includes('--window') ? windowMs : 1500;
  console.log(`# --alternate: ${replicas} processes per tool, ${windowMsHere} ms windows at ${rate} requests/s, ` +
    `${warmupSeconds} s of warm-up each`);
  const r = await runAlternating({ tools: TRACED, replicas, rate, windowMs: windowMsHere, rounds,
    warmupSeconds, pin, recorded: (t) => RECORDED.includes(t as Tool), order, log: (line) => console.log(line) });
  const medians = new Map<Tool, number>();
  for (const tool of TRACED) {
    const rows = r.added.get(tool)!;
    const col = (k: 'cpu' | 'user' | 'main' | 'recorder') => rows.map((x) => x[k]);
    console.log(`bench http ${tool} added_us=${median(col('cpu')).toFixed(2)} user_us=${median(col('user')).toFixed(2)} ` +
      `main_us=${median(col('main')).toFixed(2)} recorder_us=${median(col('recorder')).toFixed(2)} windows=${rows.length} ` +
      `quartiles=${quartiles(col('cpu'))} per_process=${r.perProcess.get(tool)!.map((x) => x.toFixed(2)).join(',')}`);
    medians.set(tool, median(col('cpu')));
  }
  summary((t) => medians.get(t) ?? NaN);
  console.log(`# ${r.complete ? 'every record arrived, in every process' : 'some records did not arrive (above)'}`);
  if (!r.complete) process.exitCode = 1;
}

function quartiles(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  return [0.25, 0.75].map((q) => s[Math.floor(q * (s.length - 1))]!.toFixed(1)).join('..');
}

/** The goals, for the tools of this run. */
function summary(added: (t: Tool) => number): void {
  const us = (t: Tool) => `${added(t).toFixed(2)} us`;
  const has = (t: Tool) => TRACED.includes(t);
  const parts = (['ringtrace', 'auto', 'auto_context', 'auto_http', 'channels_noop', 'gc_observer_noop', 'gc_part'] as const)
    .filter(has)
    .map((t) => `${t} ${us(t)}${t === 'auto' ? ' (goal <= 2)' : ''}`);
  if (has('bridge')) {
    const against = (['otel_otlp', 'otel'] as const).filter(has).map((t) => `${(added('bridge') / added(t)).toFixed(2)} of ${t}'s ${us(t)}`);
    parts.push(`bridge ${us('bridge')}${against.length ? `: ${against.join(', ')} (goal < 0.33)` : ''}`);
  }
  console.log(`# CPU added per request in the app (recorder apart): ${parts.join(', ')}`);
}

/** Saturated: each tool's throughput and CPU in runs of --seconds, between untraced runs. */
async function saturated(server: Server): Promise<void> {
  const ratios = new Map<Tool, { rps: number[]; added: number[]; recorder: number[]; p99: number[] }>(
    TRACED.map((t) => [t, { rps: [], added: [], recorder: [], p99: [] }]));
  let base = await load(server, 'none', seconds);
  for (let round = 0; round < rounds; round++) {
    for (const tool of order(TRACED)) {
      const traced = await load(server, tool, seconds);
      const next = await load(server, 'none', seconds);
      const ref = { rps: (base.rps + next.rps) / 2, cpu: (base.cpuUsPerReq + next.cpuUsPerReq) / 2,
        p99: (base.p99 + next.p99) / 2 };
      const r = ratios.get(tool)!;
      r.rps.push(traced.rps / ref.rps);
      r.added.push(traced.cpuUsPerReq - ref.cpu);
      r.recorder.push(traced.recorderUsPerReq);
      r.p99.push(traced.p99 / Math.max(ref.p99, 1));
      console.log(`# round ${round + 1} ${tool}: ${traced.rps.toFixed(0)} req/s vs ${ref.rps.toFixed(0)}, ` +
        `${traced.cpuUsPerReq.toFixed(1)} vs ${ref.cpu.toFixed(1)} us CPU/request (+ recorder ` +
        `${traced.recorderUsPerReq.toFixed(2)}), p99 ${traced.p99} vs ${ref.p99} ms`);
      base = next;
    }
  }
  for (const tool of TRACED) {
    const r = ratios.get(tool)!;
    console.log(`bench http ${tool} rps_ratio=${median(r.rps).toFixed(3)} added_us=${median(r.added).toFixed(2)} ` +
      `recorder_us=${median(r.recorder).toFixed(2)} ` +
      `p99_ratio=${median(r.p99).toFixed(2)} rps_ratios=${r.rps.map((x) => x.toFixed(2)).join(',')} ` +
      `added=${r.added.map((x) => x.toFixed(1)).join(',')}`);
  }
  summary((t) => (ratios.has(t) ? median(ratios.get(t)!.added) : NaN));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
