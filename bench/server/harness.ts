// What the server benchmarks (bench:http, bench:recorder) share: autocannon's
// typing, a free port, a process's CPU time from /proc, and a pause.
import * as fs from 'node:fs';
import * as net from 'node:net';

/** The part of autocannon's API used here (it ships no type declarations). */
export type Autocannon = (o: Record<string, unknown>) => Promise<{ requests: { total: number };
  latency: { p99: number }; errors: number; non2xx: number }>;
export const autocannon = require('autocannon') as Autocannon;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * CPU time a process has used so far, in µs: the run time of all its threads
 * from /proc/<pid>/task/<tid>/schedstat (nanoseconds; /proc/<pid>/stat counts
 * in 10 ms ticks, too coarse here). Works for any program, any build.
 */
export function processCpuUs(pid: number): number {
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
