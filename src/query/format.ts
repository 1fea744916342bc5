// A query's result as text: an aligned table (for people), CSV or JSON
// lines (for programs). Rows come chunk by chunk and are written as they
// come, except the table's first TABLE_SAMPLE rows, which set its widths.
import type { DuckDBResult, DuckDBValue } from '@duckdb/node-api';
import { printableCut } from '../printable';

export type ResultFormat = 'table' | 'csv' | 'json';

const TABLE_SAMPLE = 1000;
const MAX_CELL = 60; // a table cell's width; longer values are cut with "…" (CSV and JSON keep them whole)

const MIN_EXACT = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/** A value as JSON: 64-bit integers as numbers when exact, else strings; JSON columns as their value. */
export function jsonOf(v: DuckDBValue, isJson: boolean): unknown {
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v >= MIN_EXACT && v <= MAX_EXACT ? Number(v) : v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'string') {
    if (!isJson) return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }
  const o = v as { items?: readonly DuckDBValue[]; entries?: unknown };
  if (Array.isArray(o.items)) return o.items.map((x) => jsonOf(x, false));
  if (Array.isArray(o.entries)) return (o.entries as { key: DuckDBValue; value: DuckDBValue }[]).map((e) => ({ key: jsonOf(e.key, false), value: jsonOf(e.value, false) }));
  if (o.entries && typeof o.entries === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o.entries as Record<string, DuckDBValue>)) out[k] = jsonOf(x, false);
    return out;
  }
  const text = String(v);
  const n = Number(text);
  return /^-?\d+(\.\d+)?$/.test(text) && Number.isFinite(n) ? n : text; // decimals as numbers, times as text
}

function textOf(v: DuckDBValue): string {
  return v === null ? 'NULL' : String(v);
}

function csvCell(v: DuckDBValue): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A cell on one line (line breaks and tabs as spaces, other control characters escaped), cut to width. */
const cut = (s: string, width: number): string => printableCut(s.replace(/[\n\r\t]/g, ' '), width);

/**
 * Writes result rows to `out` in `format`; returns the number of rows.
 * `out` may return a promise (a full pipe): the next chunk waits for it.
 */
export async function writeResult(result: DuckDBResult, format: ResultFormat,
  out: (text: string) => void | Promise<void>): Promise<number> {
  const names = result.columnNames();
  const isJson = names.map((_, i) => result.columnType(i).alias === 'JSON');
  const numeric = names.map((_, i) => {
    const t = String(result.columnType(i));
    return /INT|DOUBLE|FLOAT|DECIMAL|REAL/.test(t) && !t.endsWith('[]');
  });
  let rows = 0;
  if (format === 'csv') out(names.map((n) => csvCell(n)).join(',') + '\n');
  const sample: DuckDBValue[][] = [];
  let widths: number[] | undefined;
  const tableLine = (cells: string[]): string => cells.map((c, i) => {
    const s = cut(c, widths![i]!);
    return numeric[i] ? s.padStart(widths![i]!) : s.padEnd(widths![i]!);
  }).join('  ').trimEnd() + '\n';
  const startTable = () => {
    widths = names.map((n, i) => Math.min(MAX_CELL, sample.reduce((w, r) => Math.max(w, textOf(r[i]!).length), n.length)));
    return out(tableLine(names) + widths.map((w) => '-'.repeat(w)).join('  ') + '\n' +
      sample.map((r) => tableLine(r.map(textOf))).join(''));
  };
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    const batch = chunk.getRows();
    rows += batch.length;
    if (format === 'csv') {
      await out(batch.map((r) => r.map(csvCell).join(',')).join('\n') + '\n');
    } else if (format === 'json') {
      await out(batch.map((r) => JSON.stringify(Object.fromEntries(r.map((v, i) => [names[i]!, jsonOf(v, isJson[i]!)]))))
        .join('\n') + '\n');
    } else if (!widths) {
      sample.push(...batch);
      if (sample.length >= TABLE_SAMPLE) await startTable();
    } else {
      await out(batch.map((r) => tableLine(r.map(textOf))).join(''));
    }
  }
  if (format === 'table') {
    if (!widths) await startTable();
    await out(`(${rows} row${rows === 1 ? '' : 's'})\n`);
  }
  return rows;
}
