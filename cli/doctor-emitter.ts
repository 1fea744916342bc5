// What `trace-consume doctor` emits, through the API apps use (provider(),
// event().emit(): the generated serializer, the thread's tracer attaching by
// RINGTRACE_SESSION), from its main thread and from a worker thread started
// from this file. Every value is a function of (thread, seq), so the checks
// (doctor-checks.ts) know what each record must decode to.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { provider } from '../src/provider';
import type { FieldValue } from '../src/decode';

export const DOCTOR_FIELDS = ['thread:u32', 'seq:u32', 'big:u64', 'neg:i64', 'x:f64', 'flag:bool', 'text:string'] as const;
/** Bytes of the largest doctor record: header 16, pid/tid 8, fields 4+4+8+8+8+1, text up to 41 + NUL; 8-aligned. */
export const DOCTOR_RECORD_MAX = 104;
const TEXTS = ['GET /index', 'héllo ✓', '', 'x'.repeat(41), 'doctor'];

/** The values record `seq` of `thread` carries, as emit takes them. */
export function doctorArgs(thread: number, seq: number): [number, number, number, number, number, boolean, string] {
  return [thread, seq, 2 ** 40 + seq * 3, -(seq * 7) - 1, thread + seq / 8, (seq & 1) === 1, TEXTS[(seq + thread) % TEXTS.length]!];
}

/** The same values as the decoder gives them back (64-bit integers as bigints). */
export function doctorFields(thread: number, seq: number): Record<string, FieldValue> {
  const [t, s, big, neg, x, flag, text] = doctorArgs(thread, seq);
  return { thread: t, seq: s, big: BigInt(big), neg: BigInt(neg), x, flag, text };
}

/** The doctor's event class in this thread; its tracer attaches to RINGTRACE_SESSION at once if it exists. */
export function doctorEvent() {
  return provider('doctor').event('check', DOCTOR_FIELDS);
}

/** Control words shared by the main thread and the worker (Int32Array over a SharedArrayBuffer). */
export const GO = 0; // batches the main thread has started
export const DONE = 1; // batches the worker has finished

/** The worker: emit batch after batch as the main thread starts them. */
function workerMain(): void {
  const { ctl: sab, thread, count, batches, batch } = workerData as { ctl: SharedArrayBuffer; thread: number;
    count: number; batches: number; batch: number };
  const ctl = new Int32Array(sab);
  const ev = doctorEvent();
  parentPort!.postMessage({ enabled: ev.enabled });
  if (!ev.enabled) return;
  // From here on synchronous to the end: the session object may be unlinked
  // while we run, and this thread's tracer only notices at a poll.
  for (let b = 0; b < batches; b++) {
    for (let go = Atomics.load(ctl, GO); go <= b; go = Atomics.load(ctl, GO)) Atomics.wait(ctl, GO, go);
    emitBatch(ev, thread, b * batch, Math.min(count, (b + 1) * batch));
    Atomics.add(ctl, DONE, 1);
    Atomics.notify(ctl, DONE);
  }
}

/** Records seq in [from, to) of `thread`. */
export function emitBatch(ev: ReturnType<typeof doctorEvent>, thread: number, from: number, to: number): void {
  for (let seq = from; seq < to; seq++) ev.emit(...doctorArgs(thread, seq));
}

if (!isMainThread && (workerData as { doctor?: boolean } | null)?.doctor) workerMain();
