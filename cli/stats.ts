// `trace-consume stats DIR`: counts per event class and per CPU, lost events
// per CPU (from the packets' cumulative events_discarded), bytes, duration,
// rate, and the share of remote commits (from the recording's side file).
import { openCursors } from '../src/trace/cursor';
import { openTrace, TraceError } from '../src/trace/reader';
import { displayName } from '../src/schema';
import { SIDECAR } from '../src/trace/writer';

export interface TraceStats {
  events: number;
  bytes: number;
  durationS: number;
  eventsPerS: number;
  lost: number;
  perClass: Record<string, number>;
  /** Events apps dropped for a value their schema cannot take (ringtrace:invalid_value records). */
  invalidValues: number;
  /** Events the session's filters left out, per class (ringtrace:filtered records); not lost. */
  filtered: Record<string, number>;
  perCpu: Record<string, { events: number; lost: number }>;
  /** Records committed after their thread migrated (side file); null if it does not say. */
  remoteCommits: number | null;
  remoteCommitShare: number | null;
  errors: string[];
  /**
   * Events the damaged streams held past their damage, counted from the
   * recorder's side file (0 if no stream is damaged); null if a damaged
   * stream's loss cannot be counted.
   */
  missingEvents: number | null;
  /** Why the counts may be incomplete: the recording stopped on an error, or never finished. */
  incomplete: string | null;
  /** A flight recorder's snapshot: why it was taken, and what the rings had overwritten before it. */
  snapshot: { reasons: string[]; overwritten: number; torn: number } | null;
  /**
   * The session clock (side file): cycles or monotonic, why, whether cycles were converted per
   * packet (recordings before that carry the counter, calibrated once), and packets whose
   * counter jumped or stalled.
   */
  clock: { kind: string; why: string; perPacket: boolean; anomalies: number; held: number } | null;
  /** What `record --otlp` sent while recording (side file), if it did. */
  otlp: { spans: number; logs: number; points: number; sent: number; requests: number; retries: number;
    dropped: number; rejected: number; noEndpoint: number; lastError: string } | null;
}

/** A count read from the side file: a safe non-negative integer, or null. */
function count(v: unknown): number | null {
  return Number.isSafeInteger(v) && (v as number) >= 0 ? v as number : null;
}

/** The side file's facts about a snapshot, if the trace is one (src/flight/snapshot-dir.ts). */
function snapshotFacts(sidecar: Record<string, unknown> | undefined): TraceStats['snapshot'] {
  const f = sidecar?.['snapshot'] as { reasons?: unknown; overwrittenRecords?: unknown; torn?: unknown } | undefined;
  if (!f || typeof f !== 'object') return null;
  const reasons = Array.isArray(f.reasons) ? f.reasons.map(String) : [];
  return { reasons, overwritten: count(f.overwrittenRecords) ?? 0, torn: count(f.torn) ?? 0 };
}

function incompleteReason(sidecar: Record<string, unknown> | undefined): string | null {
  if (!sidecar) return `no ${SIDECAR}: the recording did not finish (events and losses after the last packet are unknown)`;
  const error = sidecar['outputError'];
  if (typeof error !== 'string') return null;
  return `the recording stopped early: ${error}; ${Number(sidecar['unwrittenEvents'] ?? 0)} more events could not be written`;
}

export function computeStats(dir: string): TraceStats {
  const trace = openTrace(dir);
  const perClass: Record<string, number> = {};
  const perCpu: Record<string, { events: number; lost: number }> = {};
  const errors: string[] = [];
  let missingEvents: number | null = 0;
  let events = 0;
  let bytes = 0;
  let first = Infinity; // ns since the trace start
  let last = -Infinity;
  const perId = new Map<number, number>();
  const filtered: Record<string, number> = {};
  const { cursors } = openCursors(trace);
  for (const c of cursors) {
    bytes += c.fileSize();
    let n = 0;
    let lastNs = -Infinity;
    try {
      while (c.next()) {
        n++;
        perId.set(c.id, (perId.get(c.id) ?? 0) + 1);
        if (c.cls.name === 'filtered' && c.cls.provider === 'ringtrace') addFiltered(filtered, c.fields());
        lastNs = c.sinceStartNs();
        if (n === 1) first = Math.min(first, lastNs);
      }
    } catch (e) {
      errors.push((e as Error).message);
      const missing = e instanceof TraceError ? e.missingEvents : undefined;
      missingEvents = missing !== undefined && missingEvents !== null ? missingEvents + missing : null;
    }
    last = Math.max(last, lastNs); // a damaged stream's events before the damage count too
    events += n;
    if (c.packet) {
      const cpu = (perCpu[`cpu${c.packet.cpu}`] ??= { events: 0, lost: 0 });
      cpu.events += n;
      cpu.lost += c.packet.eventsDiscarded; // cumulative: the last packet has the stream's total
    }
  }
  for (const [id, n] of perId) {
    const k = displayName(trace.classes.get(id)!);
    perClass[k] = (perClass[k] ?? 0) + n;
  }
  const lost = Object.values(perCpu).reduce((n, c) => n + c.lost, 0);
  const durationS = events ? (last - first) / 1e9 : 0;
  const totals = (trace.sidecar?.['totals'] ?? {}) as { remoteCommits?: unknown; events?: unknown;
    clockAnomalies?: unknown; clockHeldRecords?: unknown };
  const recorded = count(totals.events);
  const remoteCommits = recorded === null ? null : count(totals.remoteCommits);
  const remoteCommitShare = remoteCommits !== null && recorded ? remoteCommits / recorded : null;
  return { events, bytes, durationS, eventsPerS: durationS > 0 ? events / durationS : 0, lost, perClass,
    invalidValues: perClass[INVALID_VALUE] ?? 0, filtered, perCpu, remoteCommits, remoteCommitShare, errors,
    missingEvents, incomplete: incompleteReason(trace.sidecar), snapshot: snapshotFacts(trace.sidecar),
    clock: clockFacts(trace.sidecar, totals), otlp: otlpFacts(trace.sidecar) };
}

function otlpFacts(sidecar: Record<string, unknown> | undefined): TraceStats['otlp'] {
  const o = sidecar?.['otlp'] as Record<string, unknown> | undefined;
  if (!o || typeof o !== 'object') return null;
  const n = (k: string) => count(o[k]) ?? 0;
  return { spans: n('spans'), logs: n('logs'), points: n('points'), sent: n('sentItems'), requests: n('sentBatches'),
    retries: n('retries'), dropped: n('droppedItems'), rejected: n('rejectedItems'), noEndpoint: n('noEndpointItems'),
    lastError: typeof o['lastError'] === 'string' ? o['lastError'] : '' };
}

function otlpText(o: NonNullable<TraceStats['otlp']>): string {
  const trouble = o.dropped || o.rejected
    ? `; ${o.dropped} dropped, ${o.rejected} rejected${o.lastError ? ` (last error: ${o.lastError})` : ''}` : '';
  const unsent = o.noEndpoint ? `; ${o.noEndpoint} not sent (no endpoint for their signal)` : '';
  return `sent ${o.sent} of ${o.spans + o.logs + o.points} items (${o.spans} spans, ${o.logs} log records, ` +
    `${o.points} gauge points) in ${o.requests} requests, ${o.retries} retries${trouble}${unsent}`;
}

function clockFacts(sidecar: Record<string, unknown> | undefined,
  totals: { clockAnomalies?: unknown; clockHeldRecords?: unknown }): TraceStats['clock'] {
  const kind = sidecar?.['clock'];
  if (typeof kind !== 'string') return null;
  const why = sidecar?.['clockWhy'];
  return { kind, why: typeof why === 'string' ? why : '', perPacket: sidecar?.['timestamps'] === 'CLOCK_MONOTONIC ns',
    anomalies: count(totals.clockAnomalies) ?? 0, held: count(totals.clockHeldRecords) ?? 0 };
}

function clockText(c: NonNullable<TraceStats['clock']>): string {
  const source = c.kind !== 'cycles' ? 'CLOCK_MONOTONIC'
    : c.perPacket ? 'cycle counter, converted per packet to CLOCK_MONOTONIC' : 'cycle counter, calibrated once';
  const anomalies = c.anomalies || c.held
    ? `; ${c.anomalies} packets where the counter jumped or stalled: their times were bounded by the monotonic ` +
      `clock (${c.held} records held within their packet)`
    : '';
  return `${source}${c.why ? ` (${c.why})` : ''}${anomalies}`;
}

/** A ringtrace:filtered record: `count` more events of class `event` left out by a filter. */
function addFiltered(into: Record<string, number>, f: Record<string, unknown>): void {
  const event = String(f['event']);
  into[event] = (into[event] ?? 0) + Number(f['count']);
}

/** The records apps write instead of an event with an invalid value (src/invalid-values.ts). */
const INVALID_VALUE = 'ringtrace:invalid_value';

function remoteText(s: TraceStats): string {
  if (s.remoteCommitShare !== null) return `${(100 * s.remoteCommitShare).toFixed(3)}%`;
  if (s.remoteCommits !== null) return `${s.remoteCommits} (no events)`; // a share of 0 events
  return s.incomplete?.startsWith(`no ${SIDECAR}`) ? `unknown (no ${SIDECAR})` : `unknown (${SIDECAR} does not count them)`;
}

export function formatStats(s: TraceStats): string {
  const lines = [
    `events:   ${s.events}`,
    `lost:     ${s.lost}${s.lost ? ' (events dropped because a ring was full, or of undescribed classes)' : ''}`,
    ...(s.invalidValues ? [`invalid:  ${s.invalidValues} (events apps dropped for values their schema cannot take; ` +
      `trace-consume view DIR --event ${INVALID_VALUE} says which)`] : []),
    ...(Object.keys(s.filtered).length ? [`filtered: ${Object.values(s.filtered).reduce((a, b) => a + b, 0)} ` +
      '(left out by the session\'s filters, not lost; per class below)'] : []),
    ...(s.errors.length ? [`missing:  ${s.missingEvents ?? 'unknown'} (events in damaged streams past the damage)`] : []),
    `bytes:    ${s.bytes}`,
    `duration: ${s.durationS.toFixed(6)} s`,
    `rate:     ${s.eventsPerS.toFixed(0)} events/s`,
    `remote commits: ${remoteText(s)}`,
    ...(s.clock ? [`clock:    ${clockText(s.clock)}`] : []),
    ...(s.otlp ? [`otlp:     ${otlpText(s.otlp)} (while recording)`] : []),
    ...(s.snapshot ? [`snapshot: ${s.snapshot.reasons.join('; ') || 'reason not recorded'}`,
      `overwritten: ${s.snapshot.overwritten} (older events the flight recorder's rings had overwritten)` +
      (s.snapshot.torn ? `; ${s.snapshot.torn} sub-buffers overwritten while copied were left out` : '')] : []),
    'per class:',
    ...Object.entries(s.perClass).sort(([a], [b]) => a.localeCompare(b))
      .map(([k, n]) => `  ${k} ${n}${s.filtered[k] ? ` (filtered out ${s.filtered[k]})` : ''}`),
    'per cpu:',
    ...Object.entries(s.perCpu).sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
      .map(([k, c]) => `  ${k} events ${c.events} lost ${c.lost}`),
  ];
  if (s.incomplete) lines.push(`warning: ${s.incomplete}`);
  return lines.join('\n') + '\n';
}
