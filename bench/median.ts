// Timing helpers every benchmark shares: medians, and timing a body in chunks.
import { performance } from 'node:perf_hooks';

// The middle value (the upper one of an even count): every benchmark reports medians.
export function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/**
 * ns per item of `body(chunk)`: the median over `chunks` timed chunks, after
 * two warm-up chunks that let V8 optimize; `between` runs untimed after each.
 */
export function timeChunks(body: (n: number) => void, between: () => void, chunk: number, chunks: number): number {
  const times: number[] = [];
  for (let k = -2; k < chunks; k++) {
    const t0 = performance.now();
    body(chunk);
    const t1 = performance.now();
    between();
    if (k >= 0) times.push(((t1 - t0) * 1e6) / chunk);
  }
  return median(times);
}
