// `trace-consume view DIR`: print a trace's events in time order, as text or
// JSON lines, streaming (one packet per stream in memory).
import { type FieldValue } from '../src/decode';
import { isoNs, mergedEvents, openTrace, type TraceEvent } from '../src/trace/reader';

export interface ViewOptions {
  event?: string[];
  since?: number;
  until?: number;
  json?: boolean;
}

function textValue(v: FieldValue): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (Buffer.isBuffer(v)) return `0x${v.toString('hex')}`;
  return String(v);
}

function jsonValue(v: FieldValue): unknown {
  if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v); // JSON has no NaN/Infinity
  return v;
}

export function formatEvent(e: TraceEvent, json: boolean): string {
  if (json) {
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e.fields)) fields[k] = jsonValue(v);
    return JSON.stringify({ timestamp_ns: e.epochNs.toString(), time: isoNs(e.epochNs), cpu: e.cpu, pid: e.pid,
      tid: e.tid, provider: e.cls.provider, event: e.cls.name, kind: e.cls.kind, fields });
  }
  const f = Object.entries(e.fields).map(([k, v]) => `${k}=${textValue(v)}`).join(' ');
  return `${isoNs(e.epochNs)} cpu${e.cpu} ${e.pid}/${e.tid} ${e.cls.provider}:${e.cls.name}${f ? ' ' + f : ''}`;
}

/** Returns the exit code: 0, or 1 if any stream was damaged (after printing what was valid). */
export function runView(dir: string, opts: ViewOptions, out: (line: string) => void): number {
  const trace = openTrace(dir);
  const names = opts.event?.flatMap((e) => e.split(',')).filter(Boolean);
  const wanted = names && names.length ? new Set(names) : undefined;
  const errors: Error[] = [];
  let start: bigint | undefined;
  for (const e of mergedEvents(trace, (err) => errors.push(err))) {
    start ??= e.epochNs;
    const t = Number(e.epochNs - start) / 1e9;
    if (opts.since !== undefined && t < opts.since) continue;
    if (opts.until !== undefined && t > opts.until) break; // merged in time order: nothing later matches
    if (wanted && !wanted.has(`${e.cls.provider}:${e.cls.name}`) && !wanted.has(e.cls.name)) continue;
    out(formatEvent(e, opts.json ?? false));
  }
  for (const e of errors) process.stderr.write(`trace-consume: ${e.message}\n`);
  return errors.length ? 1 : 0;
}
