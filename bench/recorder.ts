// What the recorder (`trace-consume record`) costs: its own CPU while idle
// (a session no app writes to) and under a node:http server at a steady
// request rate (bench/server/app.ts, three records per request, autocannon
// with 10 connections). Prints
//   bench ringtrace recorder_idle cpu_pct=…
//   bench ringtrace recorder_server rps=… records=… cpu_pct=… cpu_ns_per_record=…
// from the recorder's own CPU time (user + system, read from /proc over the
// measured window). --cli PATH measures another build of trace-consume (an
// older commit, for a side-by-side).
//   node dist/bench/recorder.js [--seconds S] [--rate R] [--cli PATH]
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { arg, helpOnRequest } from './arg';
import { autocannon, freePort, processCpuUs, sleep } from './server/harness';
import { kernelClocksource } from '../src/clocksource';

helpOnRequest();

const seconds = Number(arg('--seconds', '10'));
const rate = Number(arg('--rate', '20000'));
const cli = path.resolve(arg('--cli', path.join(__dirname, '..', 'cli', 'trace-consume.js')));
const serverApp = path.join(__dirname, 'server', 'app.js');

const cpuMsOf = (pid: number) => processCpuUs(pid) / 1000;

/** The recorder's CPU over `seconds` of an idle session (no app), measured after a second of settling. */
async function idle(): Promise<void> {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rt-bench-rec-')), 'trace');
  const rec = spawn(process.execPath, [cli, 'record', '-q', '-o', out, '-s', `bench-idle-${process.pid}`,
    '--duration', String(seconds + 2)], { stdio: 'inherit' });
  await sleep(1000);
  const c0 = cpuMsOf(rec.pid!);
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const cpu = cpuMsOf(rec.pid!) - c0;
  const ms = Date.now() - t0;
  await new Promise((resolve) => rec.on('exit', resolve));
  console.log(`bench ringtrace recorder_idle seconds=${seconds} cpu_pct=${((100 * cpu) / ms).toFixed(3)}`);
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
}

/** The recorder's CPU while autocannon drives the traced server for `seconds` (after a 1 s warm-up). */
async function server(): Promise<void> {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rt-bench-rec-')), 'trace');
  const port = await freePort();
  const rec = spawn(process.execPath, [cli, 'record', '-q', '-o', out, '--', process.execPath, serverApp,
    'ringtrace', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => rec.stdout.on('data', (d: Buffer) => { if (/listening/.test(String(d))) resolve(); }));
  const url = `http://127.0.0.1:${port}`;
  await autocannon({ url, connections: 10, duration: 1, overallRate: rate }); // warm up
  const c0 = cpuMsOf(rec.pid!);
  const t0 = Date.now();
  const r = await autocannon({ url, connections: 10, duration: seconds, overallRate: rate });
  const cpu = cpuMsOf(rec.pid!) - c0;
  const ms = Date.now() - t0;
  await fetch(`${url}/quit`).then((res) => res.text());
  await new Promise((resolve) => rec.on('exit', resolve));
  const records = 3 * r.requests.total; // a span's two records and an event per request
  const totals = (JSON.parse(fs.readFileSync(path.join(out, '.ringtrace.json'), 'utf8')) as
    { totals: { events: number; lost: number } }).totals;
  console.log(`bench ringtrace recorder_server rps=${(r.requests.total / (ms / 1000)).toFixed(0)} ` +
    `records_per_s=${(records / (ms / 1000)).toFixed(0)} cpu_pct=${((100 * cpu) / ms).toFixed(2)} ` +
    `cpu_ns_per_record=${((cpu * 1e6) / Math.max(1, records)).toFixed(0)} trace_events=${totals.events} ` +
    `lost=${totals.lost} errors=${r.errors + r.non2xx}`);
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
}

async function main(): Promise<void> {
  const source = kernelClocksource();
  console.log(`# ${os.cpus().length} CPUs, clocksource ${source}, ${seconds} s per case, recorder ${cli}`);
  await idle();
  await server();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
