// The caller's side of the OTLP sender thread (send-worker.ts, which owns an
// OtlpSender): send() moves a request body to that thread and returns at
// once; stats() and close() are synchronous, read from shared memory the
// thread keeps up to date, so a synchronous loop (a file export) can use
// them. Nothing here throws into the caller, and the thread never keeps a
// process alive by itself.
//
// Two modes. 'wait' (file export): when the bytes not yet delivered would go
// over maxQueueBytes, send() waits (Atomics.wait) until there is room, so
// nothing is dropped for overflow. Room always comes: the sender gives up on
// batches it cannot deliver within maxRetryElapsedMs, and a sender thread
// that died is noticed (it reports its failure, or its heartbeat stops) and
// what it held counts as dropped. 'drop' (live recording): send() never
// waits; the sender drops its oldest batches.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { OTLP_SIGNALS, type OtlpConfig, type OtlpSignal } from './config';
import { DEFAULT_MAX_QUEUE_BYTES, type SenderOptions } from './sender';
import { copyStats, emptyStats, SIGNAL_COUNTERS, STAT_COUNTERS, type SenderStats } from './sender-stats';

export interface OtlpClientOptions {
  mode: 'wait' | 'drop';
  maxQueueBytes?: number;
  maxInFlight?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  maxRetryElapsedMs?: number;
}

// ---- the shared stats board ----

// ctrl words
const SEQ = 0; // odd while the worker writes the board; every publish changes it (a wait target)
const STARTED = 1;
const DONE = 2; // the worker finished closing, or failed
const FAILED = 3;
const TEXT_LEN = 4; // bytes of lastError in `text`, -1 when there is none
const CTRL_WORDS = 5;
const NUMBERS = STAT_COUNTERS.length + OTLP_SIGNALS.length * SIGNAL_COUNTERS.length + 1; // + when lastError last changed
const TEXT_BYTES = 2048;
// The worker beats every second; a send() waiting for room takes this long without a beat as its death
// (one killed without a word, e.g. out of memory), so that it never waits forever.
export const BEAT_MS = 1000;
const STALL_MS = 30_000;

export interface BoardBuffers { ctrl: SharedArrayBuffer; numbers: SharedArrayBuffer; text: SharedArrayBuffer }

/**
 * SenderStats in shared memory. One thread publishes, any reads: a seqlock
 * (the sequence word is odd during a write, and a reader retries when it
 * changed under it), so a read is one consistent snapshot and the counts
 * add up.
 */
export class StatsBoard {
  readonly buffers: BoardBuffers;
  readonly ctrl: Int32Array;
  private readonly numbers: Float64Array;
  private readonly text: Uint8Array;
  private lastText: string | undefined;
  private errorAt = 0;

  /** A new board, or (in the worker) the one whose buffers came over. */
  constructor(buffers?: BoardBuffers) {
    this.buffers = buffers ?? {
      ctrl: new SharedArrayBuffer(4 * CTRL_WORDS),
      numbers: new SharedArrayBuffer(8 * NUMBERS),
      text: new SharedArrayBuffer(TEXT_BYTES),
    };
    this.ctrl = new Int32Array(this.buffers.ctrl);
    this.numbers = new Float64Array(this.buffers.numbers);
    this.text = new Uint8Array(this.buffers.text);
    if (!buffers) Atomics.store(this.ctrl, TEXT_LEN, -1);
  }

  /** `failed`: the last stats of a worker that failed (flagged within the write: no snapshot has one without the other). */
  publish(s: SenderStats, failed = false): void {
    Atomics.add(this.ctrl, SEQ, 1);
    if (failed) Atomics.store(this.ctrl, FAILED, 1);
    let i = 0;
    for (const k of STAT_COUNTERS) this.numbers[i++] = s[k];
    for (const sig of OTLP_SIGNALS) for (const k of SIGNAL_COUNTERS) this.numbers[i++] = s.signals[sig][k];
    if (s.lastError !== this.lastText) {
      this.lastText = s.lastError;
      this.errorAt = Date.now();
      const len = s.lastError === undefined ? -1 : new TextEncoder().encodeInto(s.lastError, this.text).written;
      Atomics.store(this.ctrl, TEXT_LEN, len);
    }
    this.numbers[i] = this.errorAt;
    Atomics.add(this.ctrl, SEQ, 1);
    Atomics.notify(this.ctrl, SEQ);
  }

  /** The last published stats, and when their lastError was set (epoch ms, 0 if never). */
  read(): { stats: SenderStats; errorAt: number } {
    let waitingSince: number | undefined;
    for (let tries = 0; ; tries++) {
      const seq = Atomics.load(this.ctrl, SEQ);
      let stale = false;
      if ((seq & 1) === 1 && tries > 100) {
        // Mid-write, and the writer is taking long (its thread was preempted): sleep until it is done.
        // One that died mid-write leaves the word odd: after a second, take what is there.
        waitingSince ??= Date.now();
        stale = Date.now() - waitingSince > 1000;
        if (!stale) {
          Atomics.wait(this.ctrl, SEQ, seq, 5);
          continue;
        }
      }
      if ((seq & 1) === 1 && !stale) continue;
      const got = this.decode();
      if (stale || Atomics.load(this.ctrl, SEQ) === seq) return got;
    }
  }

  private decode(): { stats: SenderStats; errorAt: number } {
    const s = emptyStats();
    let i = 0;
    for (const k of STAT_COUNTERS) s[k] = this.numbers[i++]!;
    for (const sig of OTLP_SIGNALS) for (const k of SIGNAL_COUNTERS) s.signals[sig][k] = this.numbers[i++]!;
    const len = Atomics.load(this.ctrl, TEXT_LEN);
    s.lastError = len < 0 ? undefined : Buffer.from(this.text.slice(0, len)).toString('utf8');
    return { stats: s, errorAt: this.numbers[i]! };
  }

  started(): void {
    Atomics.store(this.ctrl, STARTED, 1);
  }

  /** A sign of life (the worker beats every second): the sequence moves on, the stats stay. */
  beat(): void {
    Atomics.add(this.ctrl, SEQ, 2);
    Atomics.notify(this.ctrl, SEQ);
  }

  /** The worker is done (closed, or failed): wakes a close() waiting for it. */
  finish(): void {
    Atomics.store(this.ctrl, DONE, 1);
    Atomics.notify(this.ctrl, DONE);
    Atomics.add(this.ctrl, SEQ, 2); // wakes a send() waiting for room, keeping the word even
    Atomics.notify(this.ctrl, SEQ);
  }

  flag(word: 'started' | 'done' | 'failed'): boolean {
    return Atomics.load(this.ctrl, word === 'started' ? STARTED : word === 'done' ? DONE : FAILED) === 1;
  }
}

// ---- messages to send-worker.ts ----

export interface SendWorkerData { config: OtlpConfig; options: Omit<SenderOptions, 'onChange'>; board: BoardBuffers }
export type ToSendWorker =
  | { type: 'batch'; signal: OtlpSignal; body: ArrayBuffer; items: number }
  | { type: 'close'; flushBy: number }; // flushBy: epoch ms

// ---- the client ----

interface Tally { batches: number; items: number; bytes: number; signals: Record<OtlpSignal, number> }
const tally = (): Tally => ({ batches: 0, items: 0, bytes: 0, signals: { traces: 0, logs: 0, metrics: 0 } });

export class OtlpClient {
  private readonly board = new StatsBoard();
  private readonly worker: Worker | undefined;
  private readonly mode: 'wait' | 'drop';
  private readonly maxQueueBytes: number;
  private readonly enqueued = tally();
  private readonly posted = tally();
  private readonly droppedHere = tally(); // dropped on this side: the worker was gone, or a send failed
  private failure: string | undefined; // why the worker is gone
  private localError: { text: string; at: number } | undefined;
  private closing = false;
  private final: SenderStats | undefined;

  constructor(config: OtlpConfig, opts: OtlpClientOptions) {
    this.mode = opts.mode;
    this.maxQueueBytes = opts.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    const options: Omit<SenderOptions, 'onChange'> = {
      // In 'wait' mode send() keeps the sender under the bound, so the sender itself never drops for it.
      maxQueueBytes: this.mode === 'wait' ? Infinity : this.maxQueueBytes,
      ...(opts.maxInFlight !== undefined ? { maxInFlight: opts.maxInFlight } : {}),
      ...(opts.initialBackoffMs !== undefined ? { initialBackoffMs: opts.initialBackoffMs } : {}),
      ...(opts.maxBackoffMs !== undefined ? { maxBackoffMs: opts.maxBackoffMs } : {}),
      ...(opts.maxRetryElapsedMs !== undefined ? { maxRetryElapsedMs: opts.maxRetryElapsedMs } : {}),
    };
    try {
      const workerData: SendWorkerData = { config, options, board: this.board.buffers };
      const worker = new Worker(path.join(__dirname, 'send-worker.js'), { workerData });
      worker.unref();
      // Without an 'error' listener a failing worker would throw in this thread.
      worker.on('error', (e) => this.markFailed(`the OTLP sender thread failed: ${e.message}`));
      worker.on('exit', (code) => {
        if (this.closing || this.gone()) return; // gone(): a failure the thread reported itself says more
        this.markFailed(`the OTLP sender thread exited (code ${code})`);
      });
      this.worker = worker;
    } catch (e) {
      this.markFailed(`could not start the OTLP sender thread: ${(e as Error).message}`);
    }
  }

  /**
   * Queue a request body of `items` spans, log records or data points. When
   * `body` is the whole of its ArrayBuffer, that buffer moves to the sender
   * thread (it is detached here: do not use it afterwards); otherwise it is
   * copied. Never throws.
   */
  send(signal: OtlpSignal, body: Uint8Array, items: number): void {
    const bytes = body instanceof Uint8Array ? body.byteLength : 0;
    const n = Number.isFinite(items) && items > 0 ? Math.floor(items) : 0;
    const known = OTLP_SIGNALS.includes(signal);
    this.add(this.enqueued, known ? signal : undefined, n, bytes);
    try {
      if (!known || !(body instanceof Uint8Array)) {
        return this.dropHere(known ? signal : undefined, n, `not a batch: signal '${String(signal)}' with a ${typeof body}`);
      }
      if (this.final) return this.dropHere(signal, n, 'a batch came after close()');
      if (this.mode === 'wait') this.waitForRoom(bytes);
      if (this.gone()) return this.dropHere(signal, n, undefined);
      const own = body.buffer instanceof ArrayBuffer && body.byteOffset === 0 && body.byteLength === body.buffer.byteLength
        ? body.buffer : undefined;
      if (!own || !this.post(signal, own, n)) {
        const copy = new Uint8Array(body); // also what makes a non-transferable buffer (Node's Buffer pool) go
        if (!this.post(signal, copy.buffer, n)) throw new Error('the sender thread refused the batch');
      }
      this.add(this.posted, signal, n, bytes);
    } catch (e) {
      this.dropHere(signal, n, `could not hand a batch to the sender thread: ${(e as Error).message}`);
    }
  }

  /** What the sender did so far (synchronous). */
  stats(): SenderStats {
    if (this.final) return copyStats(this.final);
    const snapshot = this.board.read(); // first: a snapshot with the worker's failure implies the flag is seen
    return this.combine(snapshot, this.gone() !== undefined);
  }

  /**
   * Deliver what is queued, waiting at most `deadlineMs` (synchronously), then
   * stop the sender thread. What was not delivered by then counts as dropped.
   * Returns the final stats; later calls return them again.
   */
  close(deadlineMs: number): SenderStats {
    if (this.final) return copyStats(this.final);
    this.closing = true;
    const deadline = Math.max(0, deadlineMs);
    const deadlineAt = Date.now() + deadline;
    let finished = false;
    if (this.worker && !this.gone()) {
      try {
        // The sender stops a little before the deadline, so its own account comes back in time.
        this.worker.postMessage({ type: 'close', flushBy: deadlineAt - Math.min(50, deadline / 10) } satisfies ToSendWorker);
        for (;;) {
          if (this.board.flag('done')) break;
          const left = deadlineAt - Date.now();
          if (left <= 0) break;
          Atomics.wait(this.board.ctrl, DONE, 0, Math.min(left, 50));
        }
        finished = this.board.flag('done') && !this.board.flag('failed');
      } catch (e) {
        this.setError(`could not close the sender thread: ${(e as Error).message}`);
      }
    }
    const open = this.combine(this.board.read(), false);
    const unsettled = open.queuedItems + open.inFlightItems;
    if (!finished && !this.gone() && unsettled > 0) {
      this.setError(`the OTLP sender thread did not finish within the ${deadline} ms deadline: ` +
        `${unsettled} items not delivered${open.lastError ? `; last error: ${open.lastError}` : ''}`);
    }
    this.final = this.combine(this.board.read(), true);
    void this.worker?.terminate().catch(() => undefined);
    return copyStats(this.final);
  }

  // ---- internals ----

  private post(signal: OtlpSignal, body: ArrayBuffer, items: number): boolean {
    try {
      this.worker!.postMessage({ type: 'batch', signal, body, items } satisfies ToSendWorker, [body]);
      return true;
    } catch {
      return false;
    }
  }

  /** Bytes handed to the worker and not yet delivered, dropped or rejected there. */
  private pendingBytes(w: SenderStats): number {
    return this.posted.bytes - w.enqueuedBytes + w.queuedBytes + w.inFlightBytes;
  }

  /** 'wait' mode: until this batch fits under maxQueueBytes (or nothing is pending), or the worker is gone. */
  private waitForRoom(bytes: number): void {
    let seq = Atomics.load(this.board.ctrl, SEQ);
    let lastSign = Date.now();
    for (;;) {
      if (this.gone()) return;
      const pending = this.pendingBytes(this.board.read().stats);
      if (pending === 0 || pending + bytes <= this.maxQueueBytes) return;
      Atomics.wait(this.board.ctrl, SEQ, seq, 100);
      const now = Date.now();
      const next = Atomics.load(this.board.ctrl, SEQ);
      if (next !== seq) {
        seq = next;
        lastSign = now;
      } else if (now - lastSign > STALL_MS) {
        this.markFailed(`the OTLP sender thread gave no sign of life for ${STALL_MS} ms`);
        void this.worker?.terminate().catch(() => undefined);
      }
    }
  }

  /** Why the worker can take nothing more, if it cannot. */
  private gone(): string | undefined {
    if (this.failure === undefined && this.board.flag('failed')) {
      this.markFailed(this.board.read().stats.lastError ?? 'the OTLP sender thread failed');
    }
    return this.failure;
  }

  private markFailed(why: string): void {
    if (this.failure !== undefined) return;
    this.failure = why;
    this.setError(why);
  }

  private setError(text: string): void {
    this.localError = { text, at: Date.now() };
  }

  private add(t: Tally, signal: OtlpSignal | undefined, items: number, bytes: number): void {
    t.batches++;
    t.items += items;
    t.bytes += bytes;
    if (signal) t.signals[signal] += items;
  }

  private dropHere(signal: OtlpSignal | undefined, items: number, why: string | undefined): void {
    this.add(this.droppedHere, signal, items, 0);
    if (why !== undefined) this.setError(why);
  }

  /**
   * The worker's stats with this side's share: what was sent here, what is
   * on its way to the worker (counted as queued), what was dropped here.
   * `settle`: the worker is done or gone, so all that is not delivered is dropped.
   */
  private combine({ stats: w, errorAt }: { stats: SenderStats; errorAt: number }, settle: boolean): SenderStats {
    const s = copyStats(w);
    s.enqueuedBatches = this.enqueued.batches;
    s.enqueuedItems = this.enqueued.items;
    s.enqueuedBytes = this.enqueued.bytes;
    s.droppedBatches += this.droppedHere.batches;
    s.droppedItems += this.droppedHere.items;
    s.queuedBatches += this.posted.batches - w.enqueuedBatches;
    s.queuedItems += this.posted.items - w.enqueuedItems;
    s.queuedBytes += this.posted.bytes - w.enqueuedBytes;
    for (const sig of OTLP_SIGNALS) {
      s.signals[sig].enqueuedItems = this.enqueued.signals[sig];
      s.signals[sig].droppedItems += this.droppedHere.signals[sig];
    }
    if (settle) {
      // By the identity rather than by adding up: a worker that failed mid-update leaves the rest exact.
      s.droppedBatches = s.enqueuedBatches - s.sentBatches - s.rejectedBatches;
      s.droppedItems = s.enqueuedItems - s.sentItems - s.rejectedItems;
      s.queuedBatches = s.queuedItems = s.queuedBytes = s.inFlight = s.inFlightItems = s.inFlightBytes = 0;
      for (const sig of OTLP_SIGNALS) {
        const c = s.signals[sig];
        c.droppedItems = c.enqueuedItems - c.sentItems - c.rejectedItems;
      }
    }
    if (this.localError && (s.lastError === undefined || this.localError.at >= errorAt)) s.lastError = this.localError.text;
    return s;
  }
}
