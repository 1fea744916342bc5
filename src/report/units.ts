// How the report writes numbers, in the text summary and on the page alike:
// html.ts copies these functions into the page's script as their source
// text, so each must stand alone (no imports; it may call the others here).

/** A duration in ns as 3 significant digits in ns, µs, ms or s ("-" for none). */
export function formatDuration(ns: number | null): string {
  if (ns === null || !Number.isFinite(ns)) return '-';
  const units: [number, string][] = [[1e9, 's'], [1e6, 'ms'], [1e3, 'µs']];
  for (const [size, unit] of units) {
    if (Math.abs(ns) >= size) return `${formatSignificant(ns / size)} ${unit}`;
  }
  return `${formatSignificant(ns)} ns`;
}

/** 3 significant digits, no exponent (1.23, 12.3, 123, 1234). */
export function formatSignificant(x: number): string {
  const a = Math.abs(x);
  const decimals = a >= 100 || a === 0 ? 0 : a >= 10 ? 1 : 2;
  return x.toFixed(decimals);
}

/** A count with thousands separators (12 345 678). */
export function formatCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

/** Events per second, 3 significant digits with k/M. */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${formatSignificant(perSecond / 1e6)} M/s`;
  if (perSecond >= 1e3) return `${formatSignificant(perSecond / 1e3)} k/s`;
  return `${formatSignificant(perSecond)}/s`;
}

/** Bytes as MB (10^6), 3 significant digits. */
export function formatMegabytes(bytes: number): string {
  return `${formatSignificant(bytes / 1e6)} MB`;
}

/** The functions above, as the page's script includes them. */
export const PAGE_UNITS = [formatDuration, formatSignificant, formatCount, formatRate, formatMegabytes];
