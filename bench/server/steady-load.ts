// A steady HTTP/1.1 load: `rate` GET requests per second spread evenly over
// time (a few per millisecond), on keep-alive connections, each request to a
// new path. autocannon's fixed rate is a budget per second per connection: it
// sends the second's requests in one burst, then waits, so a window shorter
// than a second saw either the burst or silence, and per-request CPU measured
// bursts. Raw sockets keep this client's own CPU small; the responses are
// framed by their Content-Length (the benchmark server always sends one).
import * as net from 'node:net';

export interface SteadyLoad {
  /** Stop sending; resolves once every request sent has its response. */
  stop(): Promise<{ sent: number; answered: number; errors: number; maxBacklog: number }>;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** Bytes of complete responses at the start of `buf` and how many; non-200 responses count as errors. */
function completeResponses(buf: Buffer): { used: number; count: number; errors: number } {
  let used = 0;
  let count = 0;
  let errors = 0;
  for (;;) {
    const end = buf.indexOf(HEADER_END, used);
    if (end < 0) break;
    const head = buf.toString('latin1', used, end);
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!m) throw new Error(`a response without Content-Length: ${head.slice(0, 80)}`);
    const total = end + HEADER_END.length + Number(m[1]);
    if (total > buf.length) break;
    if (!head.startsWith('HTTP/1.1 200')) errors++;
    used = total;
    count++;
  }
  return { used, count, errors };
}

export async function steadyLoad(port: number, rate: number, connections = 10): Promise<SteadyLoad> {
  let sent = 0;
  let answered = 0;
  let errors = 0;
  let backlog = 0;
  let maxBacklog = 0;
  let stopping = false;
  const idle: net.Socket[] = [];
  const request = () => Buffer.from(`GET /items/${sent}?q=${sent & 7} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, 'latin1');
  let settle: (() => void) | undefined;

  const send = (s: net.Socket) => {
    s.write(request());
    sent++;
  };
  const open = () => new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, d]) : d;
      const r = completeResponses(pending);
      pending = pending.subarray(r.used);
      answered += r.count;
      errors += r.errors;
      if (r.count === 0) return;
      if (backlog > 0 && !stopping) {
        backlog--;
        send(s);
      } else {
        idle.push(s);
      }
      if (answered === sent) settle?.();
    });
    s.on('error', reject);
  });
  const sockets = await Promise.all(Array.from({ length: connections }, open));
  idle.push(...sockets);

  const started = process.hrtime.bigint();
  let due = 0;
  const timer = setInterval(() => {
    const target = Math.floor(Number(process.hrtime.bigint() - started) * rate / 1e9);
    for (; due < target; due++) {
      const s = idle.pop();
      if (s) send(s);
      else backlog++;
    }
    if (backlog > maxBacklog) maxBacklog = backlog;
  }, 1);

  return {
    async stop() {
      stopping = true;
      clearInterval(timer);
      if (answered !== sent) await new Promise<void>((resolve) => { settle = resolve; });
      for (const s of sockets) s.destroy();
      return { sent, answered, errors, maxBacklog };
    },
  };
}
