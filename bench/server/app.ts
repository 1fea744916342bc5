// A small node:http server for the benchmarks that measure tracing in a real
// server (bench:http, bench:recorder): the route parses the URL, builds a
// 20-field object, JSON.stringify's it (~480 bytes) and responds, traced by
// one of the tools in tracing.ts. GET /stats answers {served, cpuUs} (this
// process's CPU time so far; ?flush=1: after the tool's deferred work); GET
// /mode?tool=T switches to tool T (loaded on first use; bench:http alternates
// tools in one process, so no two runs differ by process) and answers
// {end, start}: those counters as the last tool's run ends (after its
// deferred work) and as T's starts (after a collection); GET /quit flushes every tool used, answers {served,
// arrived} per tool (records at the tool's output) and ends the process.
//   node dist/bench/server/app.js <none|ringtrace|auto|otel|pino> <port>
import * as http from 'node:http';
import * as fs from 'node:fs';
import { type RequestTracing, tracingFor } from './tracing';

/** CPU time of this (the main) thread, in µs: /proc schedstat's nanoseconds; 0 where there is none. */
function mainThreadCpuUs(): number {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1000;
  } catch {
    return 0;
  }
}

const [mode = 'none', port = '0'] = process.argv.slice(2);
/** BENCH_REPEAT=N: trace each request's work N times (finding what is per request and what per call). */
const REPEAT = Number(process.env['BENCH_REPEAT'] ?? 1);

function body(path: string, n: number): string {
  const o: Record<string, unknown> = { path, n, ok: true, at: Date.now() };
  for (let i = 0; Object.keys(o).length < 20; i++) o[`field_${i}`] = `value ${i} of request ${n}`;
  return JSON.stringify(o);
}

async function main(): Promise<void> {
  const tools = new Map<string, { tracing: RequestTracing; served: number }>();
  const use = async (tool: string) => {
    let t = tools.get(tool);
    if (!t) tools.set(tool, t = { tracing: await tracingFor(tool), served: 0 });
    return t;
  };
  let current = await use(mode);
  current.tracing.enter?.();
  let served = 0;
  const snapshot = () => {
    const cpu = process.cpuUsage();
    return { served, cpuUs: cpu.user + cpu.system, userUs: cpu.user, mainUs: mainThreadCpuUs() };
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/stats') { // ?flush=1: the tool's deferred work first, so it counts in the CPU
      const flushed = url.searchParams.has('flush') ? current.tracing.flush() : Promise.resolve();
      void flushed.then(() => res.end(JSON.stringify(snapshot())));
      return;
    }
    if (url.pathname === '/mode') { // answers {end, start}: the counters as the last tool's run ends, and the next's starts
      const ending = current.tracing.flush().then(snapshot); // its deferred work is the ending run's
      void Promise.all([ending, use(url.searchParams.get('tool') ?? 'none')]).then(([end, t]) => {
        if (t !== current) {
          current.tracing.leave?.();
          t.tracing.enter?.();
        }
        current = t;
        // A run starts with a collected heap: garbage of the previous tool's run is not this one's cost.
        (globalThis as { gc?: () => void }).gc?.();
        res.end(JSON.stringify({ end, start: snapshot() }));
      }, (e: Error) => {
        res.statusCode = 400;
        res.end(e.message);
      });
      return;
    }
    if (url.pathname === '/quit') {
      void Promise.all([...tools].map(async ([tool, t]) => [tool, { served: t.served, arrived: await t.tracing.finish() }]))
        .then((done) => {
          res.end(JSON.stringify({ served, tools: Object.fromEntries(done) }));
          server.close();
          setImmediate(() => process.exit(0));
        });
      return;
    }
    const tracing = current.tracing;
    current.served++;
    const span = tracing.start(req.method ?? 'GET', url.pathname);
    const text = body(url.pathname, ++served);
    tracing.work(served & 0xffff, text.length, served % 1000, 'rendered');
    for (let i = 1; i < REPEAT; i++) { // investigation only: the same records again
      const extra = tracing.start(req.method ?? 'GET', url.pathname);
      tracing.work(served & 0xffff, text.length, served % 1000, 'rendered');
      tracing.end(extra, 200);
    }
    res.setHeader('content-type', 'application/json');
    res.end(text);
    tracing.end(span, 200);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(Number(port), '127.0.0.1', () => {
    const address = server.address();
    console.log(`listening ${typeof address === 'object' && address ? address.port : port}`);
  });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
