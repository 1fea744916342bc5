// bench:http's server processes: one started under `trace-consume record`
// (optionally pinned: the server on CPU 0, the recorder on CPU 1), an OTLP
// receiver for the tools that export, the server's counters, and at the end
// the check that every record each tool made arrived.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './harness';

const root = path.join(__dirname, '..', '..');
export const cli = path.join(root, 'cli', 'trace-consume.js');
const app = path.join(__dirname, 'app.js');

export interface Server { port: number; recorder: ChildProcess; out: string; otlp: OtlpReceiver }
export interface Stats { served: number; cpuUs: number; userUs: number; mainUs: number }

/**
 * A server, traced by `trace-consume record` (its session exists throughout),
 * starting with `tool`; `nodeFlags` for its node.
 */
export async function startServer(pin: boolean, tool = 'none', nodeFlags: string[] = []): Promise<Server> {
  const port = await freePort();
  const otlp = await otlpReceiver();
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rt-bench-http-')), 'trace');
  const server = [process.execPath, '--expose-gc', ...nodeFlags, app, tool === 'none_control' ? 'none' : tool, String(port)];
  const recorder = spawn(pin ? 'taskset' : process.execPath, [...(pin ? ['-c', '1', process.execPath] : []), cli, 'record',
    '-q', '-o', out, '--', ...(pin ? ['taskset', '-c', '0'] : []), ...server],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BENCH_OTLP_URL: otlp.url } });
  await new Promise<void>((resolve, reject) => {
    recorder.stdout!.on('data', (d: Buffer) => { if (/listening/.test(String(d))) resolve(); });
    recorder.on('exit', (code) => reject(new Error(`the server exited (${code})`)));
  });
  return { port, recorder, out, otlp };
}

export interface OtlpReceiver { url: string; requests: number; bytes: number; close(): void }

/**
 * Where otel_otlp's exporter posts (OTLP/HTTP, protobuf): it answers 200 and
 * counts, as a collector would receive; it runs here, not in the server, as a
 * collector runs outside the service.
 */
export async function otlpReceiver(): Promise<OtlpReceiver> {
  const r = { url: '', requests: 0, bytes: 0, close: () => server.close() };
  const server = http.createServer((req, res) => {
    req.on('data', (d: Buffer) => { r.bytes += d.length; });
    req.on('end', () => {
      r.requests++;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/traces`;
  return r;
}

export const url = (s: Server, p: string) => `http://127.0.0.1:${s.port}${p}`;

/** The server's counters (flush: after the current tool's deferred work). */
export async function stats(s: Server, flush = false): Promise<Stats> {
  return await (await fetch(url(s, flush ? '/stats?flush=1' : '/stats'))).json() as Stats;
}

/** Stop the server; every record each tool made must have arrived ('all', or what is missing, per tool). */
export async function checkArrivals(s: Server, quiet = false): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const exited = new Promise((resolve) => s.recorder.on('exit', resolve));
  const q = await (await fetch(url(s, '/quit'))).json() as { tools: Record<string, { served: number; arrived: number }> };
  await exited;
  s.otlp.close();
  const otlp = q.tools['otel_otlp'];
  if (otlp) {
    out.set('otel_otlp', otlp.arrived === otlp.served ? 'all' : `${otlp.arrived} of ${otlp.served} spans`);
    if (!quiet) console.log(`# the OTLP receiver got ${s.otlp.requests} requests, ${(s.otlp.bytes / 1e6).toFixed(1)} MB`);
  }
  const otel = q.tools['otel'];
  const pino = q.tools['pino'];
  if (otel) out.set('otel', otel.arrived === otel.served ? 'all' : `${otel.arrived} of ${otel.served} spans`);
  if (pino) out.set('pino', pino.arrived === 3 * pino.served ? 'all' : `${pino.arrived} of ${3 * pino.served} lines`);
  const r = spawnSync(process.execPath, [cli, 'stats', s.out, '--json'], { encoding: 'utf8' });
  const t = JSON.parse(r.stdout) as { events: number; lost: number; perClass: Record<string, number> };
  const count = (prefix: string) => Object.entries(t.perClass).filter(([k]) => k.startsWith(prefix))
    .reduce((a, [, n]) => a + n, 0);
  if (q.tools['ringtrace']) {
    const want = 3 * q.tools['ringtrace'].served;
    const got = count('app:');
    out.set('ringtrace', got === want ? 'all' : `${got} of ${want} records (lost ${t.lost})`);
  }
  const bridges = (['bridge', 'bridge_bare'] as const).filter((b) => q.tools[b]);
  if (bridges.length) { // a begin, an event (not bridge_bare) and an end per request (+ the resource once)
    const want = bridges.reduce((n, b) => n + (b === 'bridge' ? 3 : 2) * q.tools[b]!.served, 0);
    const got = count('otel:span'); // (otel:span:begin, otel:span:end, otel:span_event)
    for (const b of bridges) out.set(b, got === want ? 'all' : `${got} of ${want} records (lost ${t.lost})`);
  }
  // auto: a request span's end per request served (and a few for the harness's own /stats and /mode requests).
  const autos = (['auto', 'auto_context', 'auto_http'] as const).filter((a) => q.tools[a]);
  if (autos.length) {
    const served = autos.reduce((n, a) => n + q.tools[a]!.served, 0);
    const ends = t.perClass['node.http:server:end'] ?? 0;
    out.set('auto', ends >= served && t.lost === 0 ? 'all' : `${ends} of ${served} request spans (lost ${t.lost})`);
  }
  fs.rmSync(path.dirname(s.out), { recursive: true, force: true });
  return out;
}
