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
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { DEFAULT_MAX_QUEUE_BYTES, OTLP_SIGNALS, type OtlpConfig, type OtlpSignal } from './config';
import type { SenderOptions } from './sender'; // (types only: the sender and its http modules load in its thread)
import { copyStats, type SenderStats } from './sender-stats';
import { type BoardBuffers, DONE, SEQ, STALL_MS, StatsBoard } from './stats-board';

export interface OtlpClientOptions {
  mode: 'wait' | 'drop';
  maxQueueBytes?: number;
  maxInFlight?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  maxRetryElapsedMs?: number;
}

// ---- messages to send-worker.ts ----

export interface SendWorkerData {
  config: OtlpConfig;
  options: Omit<SenderOptions, 'onChange'>;
  board: BoardBuffers;
  /** Where the thread posts the memory of given bodies it is done with (see OtlpClient.spareBuffer). */
  spares: MessagePort;
}
export type ToSendWorker =
  // the body: `length` bytes at the start of `buffer`; `given`: post the buffer back to `spares` when done
  | { type: 'batch'; signal: OtlpSignal; buffer: ArrayBuffer; length: number; items: number; given: boolean }
  | { type: 'close'; flushBy: number }; // flushBy: epoch ms

// ---- the client ----

interface Tally { batches: number; items: number; bytes: number; signals: Record<OtlpSignal, number> }
const MAX_SPARES = 8; // buffers kept for reuse: a few batches in flight and queued

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
  private readonly sparePort: MessagePort;
  private readonly spares: ArrayBuffer[] = [];

  /** The signals with an endpoint to go to. */
  readonly routed: ReadonlySet<OtlpSignal>;

  constructor(config: OtlpConfig, opts: OtlpClientOptions) {
    this.routed = new Set(OTLP_SIGNALS.filter((signal) => config.urls[signal] !== ''));
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
    const channel = new MessageChannel();
    this.sparePort = channel.port1;
    this.sparePort.unref(); // read with receiveMessageOnPort only: it must not keep the process alive
    try {
      const workerData: SendWorkerData = { config, options, board: this.board.buffers, spares: channel.port2 };
      const worker = new Worker(path.join(__dirname, 'send-worker.js'), { workerData, transferList: [channel.port2] });
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
   * copied. `given`: body starts its ArrayBuffer, and that buffer is the
   * caller's to give away whole (nothing else in it is data): it moves even
   * when larger than the body, and comes back through spareBuffer() once the
   * sender is done with it. Never throws.
   */
  send(signal: OtlpSignal, body: Uint8Array, items: number, given = false): void {
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
      const movable = body.buffer instanceof ArrayBuffer && body.byteOffset === 0 &&
        (given || body.byteLength === body.buffer.byteLength);
      if (!movable || !this.post(signal, body.buffer, bytes, n, given)) {
        const copy = new Uint8Array(body); // also what makes a non-transferable buffer (Node's Buffer pool) go
        if (!this.post(signal, copy.buffer, bytes, n, false)) throw new Error('the sender thread refused the batch');
      }
      this.add(this.posted, signal, n, bytes);
    } catch (e) {
      this.dropHere(signal, n, `could not hand a batch to the sender thread: ${(e as Error).message}`);
    }
  }

  /**
   * Memory of a given body (send's `given`) the sender thread is done with,
   * of at least `bytes`, or undefined: a caller making bodies over and over
   * reuses it instead of asking the allocator for fresh, zeroed pages each time.
   */
  spareBuffer(bytes: number): ArrayBuffer | undefined {
    for (;;) {
      const m = receiveMessageOnPort(this.sparePort);
      if (!m) break;
      if (m.message instanceof ArrayBuffer && this.spares.length < MAX_SPARES) this.spares.push(m.message);
    }
    const i = this.spares.findIndex((b) => b.byteLength >= bytes);
    if (i < 0) {
      if (this.spares.length === MAX_SPARES) this.spares.shift(); // (too small for today's bodies: let one go)
      return undefined;
    }
    return this.spares.splice(i, 1)[0];
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
    this.sparePort.close();
    this.spares.length = 0;
    return copyStats(this.final);
  }

  // ---- internals ----

  private post(signal: OtlpSignal, buffer: ArrayBuffer, length: number, items: number, given: boolean): boolean {
    try {
      this.worker!.postMessage({ type: 'batch', signal, buffer, length, items, given } satisfies ToSendWorker, [buffer]);
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
