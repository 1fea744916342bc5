// Auto mode's start and stop in one thread: subscribe each part asked for
// (options.ts) to its diagnostics channels, start the runtime counters. The
// entry point, which starts it as it loads, is index.ts.
import '../uncaught'; // uncaught exceptions are recorded too, as with the library
import { type AutoOptions, readOptions } from './options';
import { traceHttpServer } from './http-server';
import { traceFetch, traceHttpClient } from './http-client';
import { traceChildProcesses, traceNet, traceWorkers } from './events';
import { type Stop, traceRuntimeCounters } from './runtime';
import { traceGc } from './gc';
import { unsubscribeAll } from './channels';
import { leaveSpanContext } from '../spans';

const warned = new Set<string>();
function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  try {
    process.emitWarning(message, 'RingtraceWarning');
  } catch {
    // nothing may escape
  }
}

/** A part whose recording failed: warned once, the app runs on. */
const failedIn = (part: string) => (e: unknown) =>
  warnOnce(`ringtrace auto: recording ${part} failed: ${e instanceof Error ? e.message : String(e)}`);

const STARTED = Symbol.for('ringtrace.auto.started');

/** Start auto mode in this thread, once (a second load, or a second copy of ringtrace, does nothing). */
export function startAuto(options: AutoOptions = readOptions()): boolean {
  const g = globalThis as Record<symbol, unknown>;
  if (g[STARTED]) return false;
  g[STARTED] = true;
  if (options.unknown.length) {
    warnOnce(`ringtrace auto: RINGTRACE_AUTO names unknown parts (${options.unknown.join(', ')}); ` +
      'known: http, fetch, net, child, worker, gc, loop, memory');
  }
  const parts: [string, boolean, () => Stop | void][] = [
    ['http', options.parts.has('http'), () => {
      traceHttpClient(options, failedIn('http'));
      return traceHttpServer(options, failedIn('http'));
    }],
    ['fetch', options.parts.has('fetch'), () => traceFetch(options, failedIn('fetch'))],
    ['net', options.parts.has('net'), () => traceNet(options, failedIn('net'))],
    ['child', options.parts.has('child'), () => traceChildProcesses(options, failedIn('child'))],
    ['worker', options.parts.has('worker'), () => traceWorkers(options, failedIn('worker'))],
    ['gc', options.parts.has('gc'), () => traceGc(failedIn('gc'))],
    ['loop/memory', true, () => traceRuntimeCounters(options, failedIn('loop/memory'))],
  ];
  for (const [name, on, start] of parts) {
    if (!on) continue;
    try {
      const stop = start();
      if (stop) stops.push(stop);
    } catch (e) {
      failedIn(name)(e);
    }
  }
  return true;
}

const stops: Stop[] = [];

/**
 * Undo startAuto in this thread: unsubscribe, stop the runtime counters, and
 * stop keeping a current span in the async context (what a request span left
 * there). Apps never need it; the benchmarks switch auto mode on and off.
 */
export function stopAuto(): void {
  unsubscribeAll();
  for (const stop of stops.splice(0)) stop();
  leaveSpanContext();
  (globalThis as Record<symbol, unknown>)[STARTED] = false;
}
