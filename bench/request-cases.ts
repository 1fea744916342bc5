// The bench:js cases that measure one request's records, as bench/server/app.ts
// makes them: a typed span started after routing, one event, the span's end.
//   request_tight    the three calls back to back, a new path each time (the
//                    string cache misses, as in a server): ns per request
//   request_in_work  the same three calls between a server's work per request
//                    (a 20-field object built and JSON.stringify'd, a new
//                    path): chunks with and without the calls alternate, and
//                    the result is the median difference per request, i.e.
//                    what the calls cost with cold caches and a busy heap
// In a tight loop the emit path, its strings and the ring lines stay in cache;
// between a request's other work they do not. The two should stay within 2x.
import { performance } from 'node:perf_hooks';
import type { Provider } from '../src/index';
import { median } from './median';

const PATHS = 4096; // new strings, made before timing (a request's path is new each time)

export interface RequestCalls {
  start(method: string, path: string, status: number): { end(): void };
  work(items: number, bytes: number, user: number, note: string): void;
}

export function requestCalls(p: Provider): RequestCalls {
  const request = p.spanType('request', ['method:string', 'path:string', 'status:u16']);
  const work = p.event('work', ['items:u32', 'bytes:u32', 'user:u32', 'note:string']);
  return { start: (m, path, s) => request.start(m, path, s), work: (a, b, c, d) => work.emit(a, b, c, d) };
}

const paths = Array.from({ length: PATHS }, (_, i) => `/items/${1000 + i * 7}`);

/** A server's work for request i (what bench/server/app.ts does besides tracing); returns the body's length. */
function serverWork(i: number, path: string): number {
  const o: Record<string, unknown> = { path, n: i, ok: true, at: i * 3 };
  for (let f = 0; f < 16; f++) o[`field_${f}`] = `value ${f} of request ${i}`;
  return JSON.stringify(o).length;
}

function tracedRequest(calls: RequestCalls, i: number): number {
  const path = paths[i & (PATHS - 1)]!;
  const span = calls.start('GET', path, 200);
  const bytes = serverWork(i, path);
  calls.work(i & 0xffff, bytes, i % 1000, 'rendered');
  span.end();
  return bytes;
}

function untracedRequest(i: number): number {
  return serverWork(i, paths[i & (PATHS - 1)]!);
}


/** ns per request of the three calls alone, back to back. */
export function requestTight(calls: RequestCalls, chunk: number, chunks: number, between: (records: number) => void):
  number {
  const times: number[] = [];
  for (let k = -2; k < chunks; k++) {
    const t0 = performance.now();
    for (let i = 0; i < chunk; i++) {
      const span = calls.start('GET', paths[i & (PATHS - 1)]!, 200);
      calls.work(i & 0xffff, 480, i % 1000, 'rendered');
      span.end();
    }
    const t1 = performance.now();
    between(3 * chunk);
    if (k >= 0) times.push(((t1 - t0) * 1e6) / chunk);
  }
  return median(times);
}

/** Median over pairs of chunks of (traced - untraced) ns per request, and the untraced ns per request. */
export function requestInWork(calls: RequestCalls, chunk: number, chunks: number, between: (records: number) => void):
  { added: number; untraced: number } {
  const added: number[] = [];
  const plain: number[] = [];
  let sink = 0; // keeps the work from being optimized away
  for (let k = -2; k < chunks; k++) {
    let t0 = performance.now();
    const first = (k + 2) * chunk; // request numbers from 0: the fields are unsigned
    for (let i = 0; i < chunk; i++) sink += untracedRequest(first + i);
    const untraced = performance.now() - t0;
    between(0);
    t0 = performance.now();
    for (let i = 0; i < chunk; i++) sink += tracedRequest(calls, first + i);
    const traced = performance.now() - t0;
    between(3 * chunk);
    if (k >= 0) {
      added.push(((traced - untraced) * 1e6) / chunk);
      plain.push((untraced * 1e6) / chunk);
    }
  }
  if (sink === 0) throw new Error('no work was done');
  return { added: median(added), untraced: median(plain) };
}
