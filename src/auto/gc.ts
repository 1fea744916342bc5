// Auto mode's GC pauses: a `node.runtime:gc` event per pause (kind, duration,
// and ago_ms: how long before the record it began).
//
// Where Node exports V8's GC callbacks (it does on Linux), the addon notes
// each pause from them into a ring this thread reads every DRAIN_MS
// (native/addon/gc_binding.c): nothing runs in JavaScript per collection.
// Else, perf_hooks' 'gc' entries through a PerformanceObserver, which Node
// delivers through JavaScript per collection, at a cost a server pays per
// request (docs/auto.md). Pauses the ring had no room for are counted in a
// `node.runtime:gc_unrecorded` event.
import { constants, performance, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { loadNative } from '../native';
import { provider } from '../provider';
import { madeOnce } from './classes';
import type { Stop } from './runtime';

/** Where the pauses come from. */
export type GcSource = 'v8' | 'observer';

/** How often the noted pauses are recorded (ms). */
export const DRAIN_MS = 100;
/** Pauses noted between two reads before one is counted unrecorded: far more than V8 makes in DRAIN_MS. */
const RING_ENTRIES = 1024;
// The ring's layout (gc_binding.c): a header of 4 doubles, then 3 per entry.
const WRITTEN = 0;
const READ = 1;
const DROPPED = 2;
const HEADER = 4;
const ENTRY = 3;

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  2: 'minor', // V8's young-generation mark-compact (--minor-mc); perf_hooks has no name for it
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
const kindName = (kind: number): string => GC_KINDS[kind] ?? String(kind);

export interface GcTracing {
  source: GcSource;
  /** Record the pauses noted so far (the timer does this every DRAIN_MS). */
  drain(): void;
  /** Pauses noted so far, recorded or counted unrecorded (V8's callbacks; the observer: 0). */
  noted(): number;
  stop(): void;
}

const gcEvent = () => madeOnce('gc', () => provider('node.runtime').event('gc',
  ['kind:string', 'duration_ms:f64', 'ago_ms:f64']));

/** GC pauses of this thread as events; `failed` gets what recording them threw (the app runs on). */
export function traceGc(failed: (e: unknown) => void): Stop {
  return startGcTracing(failed).stop;
}

/**
 * The same, with its source and drain for tests: `prefer` 'observer' skips
 * V8's callbacks; `entries` is the ring's size.
 */
export function startGcTracing(failed: (e: unknown) => void, prefer: GcSource = 'v8',
  entries = RING_ENTRIES): GcTracing {
  return (prefer === 'v8' && fromV8Callbacks(failed, entries)) || fromObserver(failed);
}

function fromV8Callbacks(failed: (e: unknown) => void, entries: number): GcTracing | undefined {
  let native;
  try {
    native = loadNative();
  } catch {
    return undefined; // no addon: the tracer warns once and records nothing, whichever way pauses come
  }
  if (typeof native.gcHooksStart !== 'function') return undefined; // (an addon built before it had them)
  const ring = new Float64Array(HEADER + ENTRY * entries);
  if (!native.gcHooksStart(ring)) return undefined;
  const gc = gcEvent();
  const unrecorded = madeOnce('gc_unrecorded', () => provider('node.runtime').event('gc_unrecorded', ['pauses:u32']));
  let reportedDropped = 0;
  const drain = (): void => {
    try {
      const written = ring[WRITTEN]!; // (a pause during the loop below lands after it, for the next drain)
      let read = ring[READ]!;
      if (read < written) {
        const [s, ns] = process.hrtime(); // the ring's clock (CLOCK_MONOTONIC)
        const now = s * 1e3 + ns / 1e6;
        for (; read < written; read++) {
          const e = HEADER + ENTRY * (read % entries);
          if (gc.enabled) gc.emit(kindName(ring[e + 2]!), ring[e + 1]!, now - ring[e]!);
        }
        ring[READ] = read;
      }
      const dropped = ring[DROPPED]!;
      if (dropped > reportedDropped) {
        if (unrecorded.enabled) unrecorded.emit(dropped - reportedDropped);
        reportedDropped = dropped;
      }
    } catch (e) {
      failed(e);
    }
  };
  const timer = setInterval(drain, DRAIN_MS).unref();
  process.on('exit', drain); // the last pauses, before the thread goes
  return {
    source: 'v8', drain, noted: () => ring[WRITTEN]! + ring[DROPPED]!, stop: () => {
      clearInterval(timer);
      process.off('exit', drain);
      native.gcHooksStop();
      drain(); // what was noted before
    },
  };
}

function fromObserver(failed: (e: unknown) => void): GcTracing {
  const gc = gcEvent();
  const observer = new PerformanceObserver((list) => {
    try {
      if (!gc.enabled) return;
      const now = performance.now();
      for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
        gc.emit(kindName(entry.detail?.kind ?? -1), entry.duration, now - entry.startTime);
      }
    } catch (e) {
      failed(e);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return { source: 'observer', drain: () => {}, noted: () => 0, stop: () => observer.disconnect() };
}
