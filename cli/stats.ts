// `trace-consume stats DIR`: counts per event class and per CPU, lost events
// per CPU (from the packets' cumulative events_discarded), bytes, duration,
// rate, and the share of remote commits (from the recording's side file).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openTrace, packets, streamEvents } from '../src/trace/reader';

export interface TraceStats {
  events: number;
  bytes: number;
  durationS: number;
  eventsPerS: number;
  lost: number;
  perClass: Record<string, number>;
  perCpu: Record<string, { events: number; lost: number }>;
  remoteCommitShare: number | null;
  errors: string[];
}

export function computeStats(dir: string): TraceStats {
  const trace = openTrace(dir);
  const perClass: Record<string, number> = {};
  const perCpu: Record<string, { events: number; lost: number }> = {};
  const errors: string[] = [];
  let events = 0;
  let bytes = 0;
  let first: bigint | undefined;
  let last: bigint | undefined;
  for (const s of trace.streams) {
    bytes += fs.statSync(path.join(dir, s)).size;
    let lost = 0;
    let cpu = -1;
    try {
      for (const p of packets(path.join(dir, s))) {
        lost = Math.max(lost, p.info.eventsDiscarded); // cumulative per stream
        cpu = p.info.cpu;
      }
      for (const e of streamEvents(trace, s)) {
        events++;
        const k = `${e.cls.provider}:${e.cls.name}`;
        perClass[k] = (perClass[k] ?? 0) + 1;
        const c = (perCpu[`cpu${e.cpu}`] ??= { events: 0, lost: 0 });
        c.events++;
        if (first === undefined || e.epochNs < first) first = e.epochNs;
        if (last === undefined || e.epochNs > last) last = e.epochNs;
      }
    } catch (e) {
      errors.push((e as Error).message);
    }
    if (cpu >= 0) (perCpu[`cpu${cpu}`] ??= { events: 0, lost: 0 }).lost += lost;
  }
  const lost = Object.values(perCpu).reduce((n, c) => n + c.lost, 0);
  const durationS = first !== undefined && last !== undefined ? Number(last - first) / 1e9 : 0;
  const totals = (trace.sidecar?.['totals'] ?? {}) as { remoteCommits?: number; events?: number };
  const remoteCommitShare = totals.remoteCommits !== undefined && totals.events
    ? totals.remoteCommits / totals.events : null;
  return { events, bytes, durationS, eventsPerS: durationS > 0 ? events / durationS : 0, lost, perClass,
    perCpu, remoteCommitShare, errors };
}

export function formatStats(s: TraceStats): string {
  const lines = [
    `events:   ${s.events}`,
    `lost:     ${s.lost}${s.lost ? ' (events dropped because a ring was full, or of undescribed classes)' : ''}`,
    `bytes:    ${s.bytes}`,
    `duration: ${s.durationS.toFixed(6)} s`,
    `rate:     ${s.eventsPerS.toFixed(0)} events/s`,
    `remote commits: ${s.remoteCommitShare === null ? 'unknown (no .ringtrace.json)' : `${(100 * s.remoteCommitShare).toFixed(3)}%`}`,
    'per class:',
    ...Object.entries(s.perClass).sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `  ${k} ${n}`),
    'per cpu:',
    ...Object.entries(s.perCpu).sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
      .map(([k, c]) => `  ${k} events ${c.events} lost ${c.lost}`),
  ];
  return lines.join('\n') + '\n';
}
