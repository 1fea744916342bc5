// A small node:http server for the benchmarks that measure tracing in a real
// server: the route parses the URL, builds a 20-field object, JSON.stringify's
// it (~480 bytes) and responds. With `ringtrace`, each request records a typed
// span (started after routing, ended after res.end()) and one typed event:
// three records. GET /quit ends the process after answering.
//   node dist/bench/server/app.js <none|ringtrace> <port>
import * as http from 'node:http';
import { provider } from '../../src/index';

const [mode = 'none', port = '0'] = process.argv.slice(2);
const traced = mode === 'ringtrace';
const app = provider('app');
const requestSpan = app.spanType('request', ['method:string', 'path:string', 'status:u16']);
const work = app.event('work', ['items:u32', 'bytes:u32', 'user:u32', 'note:string']);

let served = 0;

function body(path: string, n: number): string {
  const o: Record<string, unknown> = { path, n, ok: true, at: Date.now() };
  for (let i = 0; o && Object.keys(o).length < 20; i++) o[`field_${i}`] = `value ${i} of request ${n}`;
  return JSON.stringify(o);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname === '/quit') {
    res.end(`served ${served}\n`);
    server.close();
    setImmediate(() => process.exit(0));
    return;
  }
  const span = traced ? requestSpan.start(req.method ?? 'GET', url.pathname, 200) : undefined;
  const text = body(url.pathname, ++served);
  if (traced) work.emit(served & 0xffff, text.length, served % 1000, 'rendered');
  res.setHeader('content-type', 'application/json');
  res.end(text);
  span?.end();
});
server.keepAliveTimeout = 60_000;
server.listen(Number(port), '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : port}`);
});
