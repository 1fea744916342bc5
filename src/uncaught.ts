// Uncaught exceptions and unhandled rejections, into the trace: while a
// session is attached, a thread's uncaught exception is recorded as
// ringtrace:uncaught_exception (message, error name, origin, stack) and a
// snapshot is requested ("uncaught exception: <message>"), synchronously, so
// both reach the ring before the process (or worker) dies.
//
// The listener is on 'uncaughtExceptionMonitor', which Node calls before its
// own handling and which changes nothing of it: the app crashes, or its own
// 'uncaughtException' handler runs, exactly as without ringtrace. (An
// 'uncaughtException' or 'unhandledRejection' listener would change that:
// with one, the process no longer dies.) A rejection that does not crash the
// app never reaches that monitor: it is recorded from an 'unhandledRejection'
// listener of ours, present only while listening changes nothing (rejections.ts).
// A process exiting with a non-zero code requests a snapshot too ("exiting
// with code N"), from an 'exit' listener, which changes nothing of the exit either.
import { isMainThread } from 'node:worker_threads';
import { TracedEvent } from './event';
import { parseFields } from './schema';
import { requestSnapshot } from './snapshot-request';
import { followRejections } from './rejections';
import { onTracerStart } from './tracer';

/** Longest message, name, origin and stack recorded, in UTF-8 bytes (cut, ending in '…'). */
export const MAX_ERROR_TEXT_BYTES = 4096;

let uncaughtClass: TracedEvent<[string, string, string, string]> | undefined;

onTracerStart(() => {
  if (uncaughtClass) return;
  uncaughtClass = new TracedEvent('ringtrace', 'uncaught_exception', 'event',
    parseFields('ringtrace:uncaught_exception', ['message:string', 'name:string', 'origin:string', 'stack:string']),
    { maxStringBytes: MAX_ERROR_TEXT_BYTES });
  // Fatal when nothing can catch it; a rejection reaching a listener never is.
  process.on('uncaughtExceptionMonitor', (error, origin) =>
    recordUncaught(error, origin, process.listenerCount('uncaughtException') === 0));
  followRejections((reason) => recordUncaught(reason, 'unhandledRejection', false, 'unhandled rejection'));
  if (isMainThread) process.on('exit', requestOnFailedExit);
});

/** An uncaught exception nothing handles asked for a snapshot: the exit that follows is the same incident. */
let crashRequested = false;

function requestOnFailedExit(code: number): void {
  try {
    if (code && !crashRequested) requestSnapshot(`exiting with code ${code}`, true);
  } catch {
    // nothing here may change what happens to the app
  }
}

/** Record it, and request a snapshot "<what>: <message>". */
function recordUncaught(error: unknown, origin: string, fatal: boolean, what = 'uncaught exception'): void {
  try {
    const cls = uncaughtClass;
    if (!cls?.enabled) return;
    const { message, name, stack } = describeError(error);
    cls.emit(message, name, typeof origin === 'string' ? origin : '', stack);
    // Not folded into a later request when fatal: this thread is about to die.
    if (requestSnapshot(`${what}: ${message}`, fatal) && fatal && isMainThread) crashRequested = true;
  } catch {
    // nothing here may change what happens to the app
  }
}

/** What a thrown value says about itself, reading no more than its message, name and stack. */
function describeError(error: unknown): { message: string; name: string; stack: string } {
  if (error === null || (typeof error !== 'object' && typeof error !== 'function')) {
    return { message: String(error), name: error === null ? 'null' : typeof error, stack: '' };
  }
  const e = error as { message?: unknown; name?: unknown; stack?: unknown };
  return { message: stringProperty(() => e.message), name: stringProperty(() => e.name) || typeof error,
    stack: stringProperty(() => e.stack) };
}

/** A property that is a string, else '' (a getter that throws included). */
function stringProperty(read: () => unknown): string {
  try {
    const v = read();
    return typeof v === 'string' ? v : '';
  } catch {
    return '';
  }
}
