// `trace-consume report DIR` without -o: the report as plain text for a
// terminal. The same data as the page (queries.ts), fewer pictures.
import type { ReportData, SlowTree, SpanRow } from './model';
import { CHILDREN_PER_TREE } from './queries';
import { formatCount, formatDuration, formatMegabytes, formatRate, formatSignificant } from './units';
import { printable, printableCut } from '../printable';

/** Children shown per slow span in text (the page shows up to CHILDREN_PER_TREE). */
const TEXT_CHILDREN = 10;
const NAME_WIDTH = 40;

const plural = (n: number, what: string) => `${formatCount(n)} ${what}${n === 1 ? '' : 's'}`;
const spanName = (s: { provider: string; name: string }) => (s.provider ? `${s.provider}:${s.name}` : s.name);



/** Rows of cells as aligned columns: the first left-aligned, the others right-aligned. */
export function columns(header: string[], body: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n') + '\n';
}

function header(d: ReportData): string {
  const t = d.trace;
  const start = t.events ? new Date(Number(BigInt(t.startNs) / 1_000_000n)).toISOString() : '(no events)';
  const procs = t.processes.map((p) => `${printable(p.name)} (pid ${p.pid})`).join(', ') || 'none';
  let out = `Trace ${printable(t.dir)}: from ${start}, ${formatDuration(t.durationNs)}, ${formatCount(t.events)} events, ` +
    `${formatCount(t.spans)} spans${t.openSpans ? ` (${formatCount(t.openSpans)} never ended)` : ''}, ` +
    `${plural(t.threads, 'thread')}\nProcesses: ${procs}\n`;
  out += t.lostEvents ? `Lost: ${formatCount(t.lostEvents)} events were lost while recording (rings full)\n`
    : 'Lost: no events lost\n';
  for (const e of t.errors) out += `Damaged: ${printable(e)} (everything before it is included)\n`;
  return out;
}

function latency(d: ReportData): string {
  const { rows, names } = d.latency;
  if (rows.length === 0) return '\nLatency per span name: no spans\n';
  const body = rows.map((r) => [printableCut(spanName(r), NAME_WIDTH), formatCount(r.count), formatDuration(r.p50),
    formatDuration(r.p90), formatDuration(r.p99), formatDuration(r.max), r.open ? formatCount(r.open) : '']);
  const shown = names > rows.length ? ` (${rows.length} of ${names} names: those with the most total time)` : '';
  return `\nLatency per span name${shown}; percentiles interpolated over finished spans\n` +
    columns(['name', 'count', 'p50', 'p90', 'p99', 'max', 'not ended'], body);
}

/** A root's start is since the trace's first event; a child's, since its root began. */
function spanLine(s: SpanRow, root: SpanRow | undefined): string {
  const fields = s.fields ? `  ${printableCut(s.fields, 80)}` : '';
  const at = root ? `+${formatDuration(s.start - root.start)}` : `at +${formatDuration(s.start)}`;
  return `${(s.dur === null ? 'not ended' : formatDuration(s.dur)).padStart(9)}  ${printableCut(spanName(s), NAME_WIDTH)}  ` +
    `${at}  ${printable(s.thread)} (pid ${s.pid}, tid ${s.tid})${fields}`;
}

function tree(t: SlowTree, rank: number): string {
  let out = `${String(rank).padStart(3)}. ${spanLine(t.root, undefined)}\n`;
  const shown = t.children.slice(0, TEXT_CHILDREN);
  for (const c of shown) out += `     ${'  '.repeat(c.level - 1)}└ ${spanLine(c, t.root)}\n`;
  const more = t.children.length - shown.length + t.moreChildren;
  if (more > 0) out += `       … ${formatCount(more)} more child spans (the page lists up to ${CHILDREN_PER_TREE})\n`;
  return out;
}

function slowest(d: ReportData): string {
  if (d.slowest.length === 0) return '\nSlowest spans: no finished spans\n';
  return `\nSlowest ${d.slowest.length} spans, with their child spans (a child's +time: since its slow span began)\n` +
    d.slowest.map((t, i) => tree(t, i + 1)).join('');
}

function rates(d: ReportData): string {
  const r = d.rates;
  if (r.series.length === 0) return '\nEvent rates: no events\n';
  const seconds = r.bucketNs / 1e9;
  const all = r.other ? [...r.series, r.other] : r.series;
  const body = all.map((s) => [
    printableCut(s === r.other ? `other (${r.classes - r.series.length} classes)` : spanName(s), NAME_WIDTH),
    formatCount(s.total), formatRate(s.total / Math.max(d.trace.durationNs / 1e9, seconds)),
    formatRate(Math.max(...s.counts) / seconds)]);
  return `\nEvent rates per class (a span counts once, at its begin; peak over ${formatDuration(r.bucketNs)} buckets)\n` +
    columns(['class', 'records', 'mean', 'peak'], body);
}

function runtime(d: ReportData): string {
  let out = '\nGC pauses (node.runtime:gc)\n';
  if (!d.gc) {
    out += 'not recorded (record with --auto, or --auto=gc, to see them)\n';
  } else {
    out += columns(['kind', 'pauses', 'total', 'p50', 'max'], d.gc.byKind.map((k) => [printable(k.kind), formatCount(k.count),
      formatDuration(k.totalMs * 1e6), formatDuration(k.p50Ms * 1e6), formatDuration(k.maxMs * 1e6)]));
  }
  out += '\nEvent-loop delay (node.runtime:loop_delay_*)\n';
  if (!d.loop) {
    out += 'not recorded (record with --auto, or --auto=loop, to see it)\n';
  } else {
    const ms = (v: number | null) => (v === null ? '-' : formatDuration(v * 1e6));
    out += columns(['thread', 'intervals', 'mean p50', 'worst p99', 'max', 'utilization'], d.loop.summary.map((l) => [
      `${printable(l.thread)} (pid ${l.pid}, tid ${l.tid})`, formatCount(l.samples), ms(l.p50MeanMs), ms(l.p99MaxMs),
      ms(l.maxMs), l.utilizationMean === null ? '-' : `${formatSignificant(l.utilizationMean * 100)}%`]));
  }
  if (d.memory) {
    const peaks = new Map<string, string[]>();
    for (const s of d.memory.series) {
      const key = `${printable(s.thread)} (pid ${s.pid}, tid ${s.tid})`;
      if (!peaks.has(key)) peaks.set(key, [key, '-', '-']);
      peaks.get(key)![s.name === 'heap_used_bytes' ? 1 : 2] = formatMegabytes(Math.max(...s.points.map((p) => p[1])));
    }
    out += '\nMemory (node.runtime:heap_used_bytes, rss_bytes)\n' + columns(['thread', 'peak heap', 'peak rss'], [...peaks.values()]);
  }
  return out;
}

function lost(d: ReportData): string {
  if (d.lost.perCpu.length === 0) return '\nLost events: no events lost\n';
  return `\nLost events per CPU (${formatCount(d.trace.lostEvents)} in all: a ring was full)\n` +
    columns(['cpu', 'events', 'packets', 'first', 'last'], d.lost.perCpu.map((c) => [String(c.cpu), formatCount(c.events),
      formatCount(c.packets), `+${formatDuration(c.first)}`, `+${formatDuration(c.last)}`]));
}

export function reportText(d: ReportData): string {
  return header(d) + latency(d) + slowest(d) + rates(d) + runtime(d) + lost(d);
}
