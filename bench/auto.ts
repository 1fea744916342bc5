// What auto mode costs per HTTP request, and which part of it is the async
// context. One process holds a node:http server and a keep-alive client (4
// requests in flight) and runs batches of requests in three modes, in a new
// order every round: auto mode off, on ('http' part: a client and a server
// span per request, six records), and on with RINGTRACE_AUTO_CONTEXT=0 (the
// same records, no span entered as the handler's context, so Node's async
// hooks stay off). Prints the median CPU per request of each (client and
// server together, this process only: the recorder is another process).
// Run under a recorder, so the records are made:
//   npm run bench:auto     (trace-consume record -- node dist/bench/auto.js [--rounds N] [--requests N])
import * as http from 'node:http';
import { readOptions } from '../src/auto/options';
import { startAuto, stopAuto } from '../src/auto/start';
import { arg, helpOnRequest } from './arg';
import { median } from './median';
import { keepAliveAgent, requests as keepAliveRequests } from './server/keep-alive';

helpOnRequest();

const rounds = Number(arg('--rounds', '8'));
const requests = Number(arg('--requests', '4000'));
const agent = keepAliveAgent();

/** CPU µs per request over n requests, 4 in flight. */
async function batch(port: number, n: number): Promise<number> {
  const before = process.cpuUsage();
  await keepAliveRequests(port, 0, n, agent);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

async function main(): Promise<void> {
  const server = http.createServer((req, res) => res.end(JSON.stringify({ path: req.url, n: Math.random() })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => setTimeout(r, 600)); // the tracer attaches to the recorder's session
  const modes: Record<string, () => void> = {
    off: () => stopAuto(),
    on: () => { stopAuto(); startAuto(readOptions({ RINGTRACE_AUTO: 'http' })); },
    no_context: () => { stopAuto(); startAuto(readOptions({ RINGTRACE_AUTO: 'http', RINGTRACE_AUTO_CONTEXT: '0' })); },
  };
  const results: Record<string, number[]> = { off: [], on: [], no_context: [] };
  await batch(port, requests); // warm-up
  const names = Object.keys(modes);
  for (let round = 0; round < rounds; round++) {
    for (const m of round % 2 ? names : [...names].reverse()) {
      modes[m]!();
      (globalThis as { gc?: () => void }).gc?.();
      results[m]!.push(await batch(port, requests));
    }
  }
  stopAuto();
  const off = median(results['off']!);
  for (const m of names) {
    const r = results[m]!;
    console.log(`bench auto ${m} cpu_us_per_request=${median(r).toFixed(1)} added_us=${(median(r) - off).toFixed(1)} ` +
      `runs=${r.map((x) => x.toFixed(1)).join(',')}`);
  }
  server.close();
  agent.destroy();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
