// snapshot(reason): ask the flight recorder watching this process's session
// for a snapshot, e.g. on an error path. The request is a
// ringtrace:snapshot_request record (the reason, and how many calls were
// folded into it) from the calling thread, then, once that record is
// committed, one more in the session header's snapshot_requests, which the
// recorder watches (native/ring/trigger.h: a recorder that sees the count
// sees the record). At most one request per 100 ms per process (all
// threads): calls in between are folded into the next request, so an error
// loop cannot flood the recorder.
import { TracedEvent } from './event';
import { describeValue, isStrict } from './invalid-values';
import { loadNative, type NativeAddon } from './native';
import { parseFields } from './schema';
import { currentTracer, onTracerStart } from './tracer';

/** Longest reason recorded, in UTF-8 bytes; a longer one is cut and ends in '…'. */
export const MAX_REASON_BYTES = 1024;

let requestClass: TracedEvent<[string, number]> | undefined;

// Defined when the thread's tracer starts, so it is registered when the
// session is attached, not on the error path of the first request.
onTracerStart(() => {
  requestClass ??= new TracedEvent('ringtrace', 'snapshot_request', 'event',
    parseFields('ringtrace:snapshot_request', ['reason:string', 'folded:u64']), { maxStringBytes: MAX_REASON_BYTES });
});

/**
 * Ask the flight recorder for a snapshot. Returns true if a request was made
 * now; false when no session is attached, or when the call was folded into
 * the next request (another request, from any thread of this process, less
 * than 100 ms ago). Cheap, never blocks, never throws — except in strict mode
 * for a reason that is not a string (otherwise the request is made with an
 * empty reason and the problem counted as ringtrace:invalid_value).
 */
export function snapshot(reason: string): boolean {
  if (typeof reason !== 'string') return badReason(reason);
  try {
    if (requestClass === undefined) currentTracer().start(); // the thread's first call: start (and attach)
    return requestSnapshot(reason, false);
  } catch {
    return false; // tracing never takes the app down
  }
}

/** snapshot() of something that is not a string: thrown in strict mode, else an empty reason, counted. */
function badReason(reason: unknown): boolean {
  const error = () => new TypeError(`ringtrace: snapshot(reason): reason must be a string, got ${describeValue(reason)}`);
  if (isStrict()) throw error();
  try {
    if (requestClass === undefined) currentTracer().start();
    if (requestClass?.enabled) {
      requestClass.invalid.other('reason', error, 'the request goes on with an empty reason; the problem is counted');
    }
    return requestSnapshot('', false);
  } catch {
    return false;
  }
}

let native: NativeAddon | undefined;

/** Make a request now, rate-limited unless `force`; see snapshot(). */
export function requestSnapshot(reason: string, force: boolean): boolean {
  const cls = requestClass;
  if (cls === undefined || !cls.enabled) return false; // enabled exactly while attached: own classes are always selected
  native ??= loadNative();
  const folded = force ? native.snapshotForce() : native.snapshotPermit();
  if (folded < 0) return false;
  cls.emit(reason, folded); // committed when this returns
  native.snapshotPublish(); // only then counted (a release add)
  return true;
}
