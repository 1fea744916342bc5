// What tracing costs a real server (bench/server/app.ts, node:http) under
// load: one server per tool, all started at once and kept warm, loaded in
// turn by autocannon (10 connections, a different path per request so no
// string cache hits) in short runs: none, ringtrace, none, OpenTelemetry,
// none, pino, none, ringtrace with no session (its calls, disabled), ...
// This host's speed swings 2x within seconds, so each traced run is divided by
// the mean of the untraced runs just before and after it. Per tool, medians
// over the rounds of:
//   rps_ratio     requests/s relative to no tracing
//   added_us      CPU added per request (server process, plus the recorder
//                 for ringtrace: /proc schedstat of its threads)
//   p99_ratio     p99 latency relative to no tracing
// and at the end every record is checked to have arrived (the ringtrace trace
// holds exactly 3 records per request served, the OpenTelemetry exporter got
// every span, pino's file has every line).
//   node dist/bench/http.js [--rounds N] [--seconds S]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

type Result = { requests: { total: number }; latency: { p99: number }; errors: number; non2xx: number };
type Autocannon = (o: Record<string, unknown>) => Promise<Result>;
const autocannon = require('autocannon') as Autocannon; // no type declarations

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const rounds = Number(arg('--rounds', '5'));
const seconds = Number(arg('--seconds', '3'));
const root = path.join(__dirname, '..');
const cli = path.join(root, 'cli', 'trace-consume.js');
const app = path.join(__dirname, 'server', 'app.js');
const TRACED = ['ringtrace', 'otel', 'pino', 'ringtrace_disabled'] as const;
type Tool = (typeof TRACED)[number] | 'none';

interface Server { tool: Tool; port: number; proc: ChildProcess; cpuPid: () => number | undefined; out: string | undefined }
interface Stats { served: number; cpuUs: number }
interface Run { rps: number; cpuUsPerReq: number; p99: number }

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** CPU time of all threads of pid, in µs (/proc schedstat, nanoseconds). */
function threadsCpuUs(pid: number | undefined): number {
  if (!pid) return 0;
  let ns = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1000;
}

async function startServer(tool: Tool): Promise<Server> {
  const port = await freePort();
  const mode = tool === 'ringtrace_disabled' ? 'ringtrace' : tool;
  let proc: ChildProcess;
  let out: string | undefined;
  if (tool === 'ringtrace') {
    out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rt-bench-http-')), 'trace');
    proc = spawn(process.execPath, [cli, 'record', '-q', '-o', out, '--', process.execPath, app, mode, String(port)],
      { stdio: ['ignore', 'pipe', 'inherit'] });
  } else {
    // ringtrace_disabled: the same calls, with no session of that name (each emit checks `enabled`)
    const env = { ...process.env, RINGTRACE_SESSION: `bench-http-none-${process.pid}` };
    proc = spawn(process.execPath, [app, mode, String(port)], { stdio: ['ignore', 'pipe', 'inherit'], env });
  }
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => { if (/listening/.test(String(d))) resolve(); });
    proc.on('exit', (code) => reject(new Error(`${tool} server exited (${code})`)));
  });
  // The recorder is the parent of the ringtrace server; its CPU counts too.
  return { tool, port, proc, out, cpuPid: () => (tool === 'ringtrace' ? proc.pid : undefined) };
}

async function stats(s: Server): Promise<Stats> {
  return await (await fetch(`http://127.0.0.1:${s.port}/stats`)).json() as Stats;
}

/** Load one server for `secs` and measure it. */
async function load(s: Server, secs: number): Promise<Run> {
  let n = 0;
  const before = await stats(s);
  const recorderBefore = threadsCpuUs(s.cpuPid());
  const r = await autocannon({
    url: `http://127.0.0.1:${s.port}`, connections: 10, duration: secs,
    requests: [{ setupRequest: (req: Record<string, unknown>) => ({ ...req, path: `/items/${n++}?q=${n & 7}` }) }],
  });
  const recorderUs = threadsCpuUs(s.cpuPid()) - recorderBefore;
  const after = await stats(s);
  if (r.errors || r.non2xx) throw new Error(`${s.tool}: ${r.errors} errors, ${r.non2xx} non-2xx responses`);
  const served = after.served - before.served;
  return { rps: served / secs, cpuUsPerReq: (after.cpuUs - before.cpuUs + recorderUs) / served, p99: r.latency.p99 };
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] ?? NaN;

async function main(): Promise<void> {
  const source = fs.readFileSync('/sys/devices/system/clocksource/clocksource0/current_clocksource', 'utf8').trim();
  console.log(`# ${os.cpus().length} CPUs, clocksource ${source}, node ${process.version}, ${rounds} rounds of ` +
    `${seconds} s runs, autocannon 10 connections`);
  const servers = new Map<Tool, Server>();
  for (const tool of ['none', ...TRACED] as Tool[]) servers.set(tool, await startServer(tool));
  for (const s of servers.values()) await load(s, 1); // warm up every server's JIT
  const ratios = new Map<Tool, { rps: number[]; added: number[]; p99: number[] }>(
    TRACED.map((t) => [t, { rps: [], added: [], p99: [] }]));
  let base = await load(servers.get('none')!, seconds);
  for (let round = 0; round < rounds; round++) {
    for (const tool of TRACED) {
      const traced = await load(servers.get(tool)!, seconds);
      const next = await load(servers.get('none')!, seconds);
      const ref = { rps: (base.rps + next.rps) / 2, cpu: (base.cpuUsPerReq + next.cpuUsPerReq) / 2,
        p99: (base.p99 + next.p99) / 2 };
      const r = ratios.get(tool)!;
      r.rps.push(traced.rps / ref.rps);
      r.added.push(traced.cpuUsPerReq - ref.cpu);
      r.p99.push(traced.p99 / Math.max(ref.p99, 1));
      console.log(`# round ${round + 1} ${tool}: ${traced.rps.toFixed(0)} req/s vs ${ref.rps.toFixed(0)}, ` +
        `${traced.cpuUsPerReq.toFixed(1)} vs ${ref.cpu.toFixed(1)} us CPU/request, p99 ${traced.p99} vs ${ref.p99} ms`);
      base = next;
    }
  }
  const arrived = await checkArrivals(servers);
  for (const tool of TRACED) {
    const r = ratios.get(tool)!;
    console.log(`bench http ${tool} rps_ratio=${median(r.rps).toFixed(3)} added_us=${median(r.added).toFixed(2)} ` +
      `p99_ratio=${median(r.p99).toFixed(2)} rps_ratios=${r.rps.map((x) => x.toFixed(2)).join(',')} ` +
      `arrived=${arrived.get(tool) ?? 'n/a'}`);
  }
  const rt = median(ratios.get('ringtrace')!.added);
  const ot = median(ratios.get('otel')!.added);
  console.log(`# ringtrace adds ${rt.toFixed(2)} us of CPU per request, OpenTelemetry ${ot.toFixed(2)} us: ` +
    `${(ot / rt).toFixed(1)}x (goal >= 4x); ringtrace throughput ratio ${median(ratios.get('ringtrace')!.rps).toFixed(3)} ` +
    '(goal >= 0.97)');
  if ([...arrived.values()].some((v) => v !== 'all')) process.exitCode = 1;
}

/** Stop the servers; every record each tool made must have arrived. */
async function checkArrivals(servers: Map<Tool, Server>): Promise<Map<Tool, string>> {
  const out = new Map<Tool, string>();
  for (const s of servers.values()) {
    const exited = new Promise((resolve) => s.proc.on('exit', resolve));
    const st = await (await fetch(`http://127.0.0.1:${s.port}/quit`)).json() as { served: number; arrived: number };
    await exited;
    if (s.tool === 'otel') out.set(s.tool, st.arrived === st.served ? 'all' : `${st.arrived} of ${st.served} spans`);
    if (s.tool === 'pino') out.set(s.tool, st.arrived === 3 * st.served ? 'all' : `${st.arrived} of ${3 * st.served} lines`);
    if (s.tool === 'ringtrace') {
      const r = spawnSync(process.execPath, [cli, 'stats', s.out!, '--json'], { encoding: 'utf8' });
      const t = JSON.parse(r.stdout) as { events: number; lost: number };
      out.set(s.tool, t.events === 3 * st.served ? 'all' : `${t.events} of ${3 * st.served} records (lost ${t.lost})`);
      fs.rmSync(path.dirname(s.out!), { recursive: true, force: true });
    }
  }
  return out;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
