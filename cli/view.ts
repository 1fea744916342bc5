// `trace-consume view DIR`: print a trace's events in time order, as text or
// JSON lines, streaming (one packet per stream in memory). `--follow` is in
// view-follow.ts; both print through eventPrinter.
import { type FieldValue } from '../src/decode';
import { jsonLine } from '../src/export/jsonl';
import { displayName } from '../src/schema';
import { openCursors, type StreamCursor } from '../src/trace/cursor';
import { mergeCursors } from '../src/trace/merge';
import { openTrace, type Trace } from '../src/trace/reader';
import { namesOf, unknownEvents } from './event-names';

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

function textLine(c: StreamCursor): string {
  const f = Object.entries(c.fields()).map(([k, v]) => `${k}=${textValue(v)}`).join(' ');
  return `${c.epochIso()} cpu${c.cpu} ${c.pid()}/${c.tid()} ${displayName(c.cls)}${f ? ' ' + f : ''}`;
}

/** The --event names asked for, split on commas; undefined: all events. */
export function wantedEvents(opts: ViewOptions): string[] | undefined {
  const names = opts.event?.flatMap((e) => e.split(',')).filter(Boolean);
  return names && names.length ? names : undefined;
}

/**
 * A visitor for mergeCursors that prints the records passing --event,
 * --since and --until (both count from the first record visited); it returns
 * false past --until (records come in time order: nothing later passes).
 */
export function eventPrinter(opts: ViewOptions, out: (line: string) => void): (c: StreamCursor) => boolean {
  const names = wantedEvents(opts);
  const wanted = names && new Set(names);
  const matches = new Map<number, boolean>(); // class id -> passes --event
  const sinceNs = opts.since !== undefined ? opts.since * 1e9 : -Infinity;
  const untilNs = opts.until !== undefined ? opts.until * 1e9 : Infinity;
  let firstNs: number | undefined;
  return (c) => {
    const t = c.sinceStartNs();
    firstNs ??= t;
    if (t - firstNs < sinceNs) return true;
    if (t - firstNs > untilNs) return false;
    if (wanted) {
      let ok = matches.get(c.id);
      if (ok === undefined) {
        ok = namesOf(c.cls).some((n) => wanted.has(n));
        matches.set(c.id, ok);
      }
      if (!ok) return true;
    }
    out(opts.json ? jsonLine(c) : textLine(c));
    return true;
  };
}

/** An --event name no class of the trace has: a UsageError listing near names (thrown before anything is printed). */
export function checkEventNames(opts: ViewOptions, classes: Trace['classes']): void {
  const names = wantedEvents(opts);
  const unknown = names && unknownEvents(names, classes);
  if (unknown) throw unknown;
}

/**
 * Returns the exit code: 0, or 1 if any stream was damaged (after printing
 * what was valid). An --event name no class of the trace has is a
 * UsageError (thrown before anything is printed), listing near names.
 */
export function runView(dir: string, opts: ViewOptions, out: (line: string) => void,
  err: (message: string) => void = (m) => process.stderr.write(`trace-consume: ${m}\n`)): number {
  const trace = openTrace(dir);
  checkEventNames(opts, trace.classes);
  const errors: Error[] = [];
  const { cursors } = openCursors(trace);
  mergeCursors(cursors, (e) => errors.push(e), eventPrinter(opts, out));
  for (const e of errors) err(e.message);
  return errors.length ? 1 : 0;
}
