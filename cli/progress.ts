// The progress line of long reads (export): a bar, events so far and their
// rate, redrawn at most five times a second on standard error, plus what a
// caller adds (e.g. what was sent). Nothing when standard error is not a terminal.
export interface Progress {
  (done: number, total: number, events: number, extra?: string): void;
  clear(): void;
}

export function progressLine(enabled: boolean, started = Date.now()): Progress | undefined {
  if (!enabled) return undefined;
  let lastDraw = 0;
  const draw = (done: number, total: number, events: number, extra = '') => {
    const now = Date.now();
    if (now - lastDraw < 200) return;
    lastDraw = now;
    const pct = total ? Math.min(100, (100 * done) / total) : 100;
    const width = 30;
    const bar = '#'.repeat(Math.round((pct / 100) * width)).padEnd(width, '.');
    const rate = events / Math.max((now - started) / 1000, 1e-3) / 1e6;
    process.stderr.write(`\r\x1b[K[${bar}] ${pct.toFixed(0)}%  ${(events / 1e6).toFixed(2)} M events  ` +
      `${rate.toFixed(2)} M/s${extra}`);
  };
  return Object.assign(draw, { clear: () => process.stderr.write('\r\x1b[K') });
}
