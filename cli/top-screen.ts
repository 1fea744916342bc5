// `trace-consume top`'s text: one block per refresh, the same on a terminal
// (redrawn in place) and in a pipe (one block after another). Rows are
// sorted busiest first and cut to what fits a screen.
import type { CpuFacts } from '../src/top/session-source';
import type { WindowView } from '../src/top/window';
import { printableCut } from '../src/printable';

export interface TopState {
  /** What is watched and how: "session 'web' (read beside its recorder, pid 1234)". */
  title: string;
  view: WindowView;
  /** Per CPU, when the session can be read (null: unknown, e.g. a trace directory whose session is gone). */
  cpus: CpuFacts[] | null;
  /** Lost events in total, and in the last refresh; null: unknown. */
  lost: { total: number; recent: number } | null;
  processNames: Map<number, string>;
  /** Lines worth a warning (top fell behind, span ends without a begin, ...). */
  notes: string[];
  now: Date;
}

const MAX_CLASSES = 15;
const MAX_SPANS = 10;
const MAX_PROCESSES = 8;
const NAME_WIDTH = 40;

function rate(perS: number): string {
  return perS >= 1e6 ? `${(perS / 1e6).toFixed(2)}M` : perS >= 1e4 ? `${(perS / 1e3).toFixed(1)}k` : perS.toFixed(1);
}

/** A duration in ns, in the unit that keeps 3-4 significant digits. */
export function duration(ns: number): string {
  if (!Number.isFinite(ns)) return '-';
  if (ns < 1e3) return `${ns.toFixed(0)}ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)}us`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(2)}ms`;
  return `${(ns / 1e9).toFixed(2)}s`;
}

// (process names come from the apps' own scripts)
const cut = (name: string, width = NAME_WIDTH): string => printableCut(name, width, '~');

const pad = (s: string, n: number) => s.padStart(n);
const more = (n: number, what: string) => (n > 0 ? [`  (${n} more ${what})`] : []);

export function formatTop(s: TopState): string {
  const v = s.view;
  const lost = s.lost ? `lost ${s.lost.total} (+${s.lost.recent} in the last refresh)` : 'lost unknown';
  const lines = [
    `ringtrace top - ${s.title} - ${s.now.toISOString().slice(11, 19)} UTC`,
    `window ${v.seconds.toFixed(1)} s   events ${rate(v.perS)}/s   ${lost}`,
    '',
    `${pad('EVENTS/S', 10)}  CLASS`,
    ...v.classes.slice(0, MAX_CLASSES).map((c) => `${pad(rate(c.perS), 10)}  ${cut(c.name)}`),
    ...more(v.classes.length - MAX_CLASSES, 'classes'),
    '',
    `${'SPAN'.padEnd(NAME_WIDTH)} ${pad('PER S', 8)} ${pad('P50', 9)} ${pad('P90', 9)} ${pad('P99', 9)} ${pad('MAX', 9)}`,
    ...v.spans.slice(0, MAX_SPANS).map((r) => `${cut(r.name).padEnd(NAME_WIDTH)} ${pad(rate(r.perS), 8)} ` +
      `${pad(duration(r.p50), 9)} ${pad(duration(r.p90), 9)} ${pad(duration(r.p99), 9)} ${pad(duration(r.max), 9)}`),
    ...(v.spans.length ? [] : ['  (no span ended in the window)']),
    ...more(v.spans.length - MAX_SPANS, 'span names'),
    '',
    `${pad('EVENTS/S', 10)}  PROCESS`,
    ...v.pids.slice(0, MAX_PROCESSES).map((p) => `${pad(rate(p.perS), 10)}  ${p.pid} ${cut(s.processNames.get(p.pid) ?? '')}`),
    ...more(v.pids.length - MAX_PROCESSES, 'processes'),
    '',
    `${pad('CPU', 5)} ${pad('EVENTS/S', 10)} ${pad('LOST', 10)} ${pad('FILL', 6)}`,
    ...cpuRows(s),
  ];
  for (const n of s.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

function cpuRows(s: TopState): string[] {
  const perS = new Map(s.view.cpus.map((c) => [c.cpu, c.perS]));
  const cpus = s.cpus ?? s.view.cpus.map((c) => ({ cpu: c.cpu, lost: NaN, fill: null }));
  // Many CPUs: the busy ones and those that lost or filled, not a screen of idle rows.
  const shown = cpus.length <= 16 ? cpus : cpus.filter((c) => perS.get(c.cpu) || c.lost || (c.fill ?? 0) > 0.01);
  return [
    ...shown.map((c) => `${pad(String(c.cpu), 5)} ${pad(rate(perS.get(c.cpu) ?? 0), 10)} ` +
      `${pad(Number.isNaN(c.lost) ? '?' : String(c.lost), 10)} ${pad(c.fill === null ? '-' : `${Math.round(100 * c.fill)}%`, 6)}`),
    ...more(cpus.length - shown.length, 'idle CPUs'),
  ];
}
