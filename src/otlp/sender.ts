// Ships encoded OTLP request bodies to an OTLP/HTTP backend: a bounded queue
// of batches, at most maxInFlight POSTs (post.ts) at a time, retries with
// backoff, and exact counts of what became of every item. It runs on an
// event loop of its own (send-worker.ts) so the thread that produces the
// bodies never waits on the network; nothing here throws into a caller.
//
// Delivery is at-least-once: a request that timed out or lost its connection
// may still have been processed by the backend, and is sent again. Counts say
// what the backend confirmed: "dropped" items were not confirmed, and some of
// them may have arrived.
//
// Retries pause the whole queue, not one batch: a backend that refuses or is
// unreachable gets nothing new until the backoff is over. A batch is given up
// once it has been undeliverable for maxRetryElapsedMs: counted from the
// moment the failures began (the first failure since the last response that
// was not a retryable one), or from when the batch was queued if that is
// later. That frees the queue of a dead backend at a steady pace instead of
// waiting out every batch's own retries one after another.
import type * as http from 'node:http';
import * as zlib from 'node:zlib';
import { DEFAULT_MAX_QUEUE_BYTES, OTLP_SIGNALS, type OtlpConfig, type OtlpSignal } from './config';
import { type Agents, keepAliveAgents, postBody, timerMs } from './post';
import { backoffMs, decodePartialSuccess, httpError, parseRetryAfter, type PartialSuccess } from './response';
import { copyStats, emptyStats, type SenderStats } from './sender-stats';

export { type SenderStats } from './sender-stats';

export interface SenderOptions {
  /** Queued (not yet delivered, not in flight) body bytes above which the oldest batches are dropped. */
  maxQueueBytes?: number;
  maxInFlight?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  maxRetryElapsedMs?: number;
  /** Called after every change of the stats (the worker publishes them). */
  onChange?: () => void;
}

const DEFAULTS = { maxInFlight: 2, initialBackoffMs: 1000, maxBackoffMs: 30_000, maxRetryElapsedMs: 60_000 };

const ITEM_NAMES: Record<OtlpSignal, string> = { traces: 'spans', logs: 'log records', metrics: 'data points' };

interface Batch {
  seq: number;
  signal: OtlpSignal;
  items: number;
  bytes: number; // the body's size, before compression: what the queue bound counts
  body: Uint8Array | undefined; // until compressed
  wire: Uint8Array | undefined; // what is posted, kept for retries
  /** Gives the body's memory back to whoever made it, once nothing here or in Node refers to it any more. */
  release: ((body: Uint8Array) => void) | undefined;
  plain: boolean; // wire is the body itself (no compression)
  written: boolean; // the last attempt handed all of `wire` to the OS
  queuedAt: number;
  attempts: number;
  state: 'queued' | 'inFlight' | 'done';
  abort?: (() => void) | undefined; // ends the request in flight
}

type Outcome = { sent: true; rejectedItems: number } | { sent: false; as: 'dropped' | 'rejected' };

export class OtlpSender {
  private readonly s = emptyStats();
  private readonly queue: Batch[] = []; // oldest first (by seq)
  private readonly inFlight = new Set<Batch>();
  private readonly opts: Required<Omit<SenderOptions, 'onChange'>>;
  private readonly onChange: (() => void) | undefined;
  private readonly targets: Partial<Record<OtlpSignal, URL>> = {};
  private readonly agents: Agents;
  private seq = 0;
  private failingSince: number | undefined; // when the current run of retryable failures began
  private failureStreak = 0; // backoff exponent
  private lastFailure: string | undefined; // the last retryable failure, the cause behind a give-up or a drop
  private pausedUntil = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly config: OtlpConfig, opts: SenderOptions = {}) {
    this.opts = {
      maxQueueBytes: opts.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES,
      maxInFlight: Math.max(1, opts.maxInFlight ?? DEFAULTS.maxInFlight),
      initialBackoffMs: opts.initialBackoffMs ?? DEFAULTS.initialBackoffMs,
      maxBackoffMs: opts.maxBackoffMs ?? DEFAULTS.maxBackoffMs,
      maxRetryElapsedMs: opts.maxRetryElapsedMs ?? DEFAULTS.maxRetryElapsedMs,
    };
    this.onChange = opts.onChange;
    for (const signal of OTLP_SIGNALS) {
      try {
        if (config.urls[signal]) this.targets[signal] = new URL(config.urls[signal]);
      } catch {
        // left out: its batches are rejected with the reason
      }
    }
    this.agents = keepAliveAgents(this.opts.maxInFlight);
  }

  /**
   * Queue a request body of `items` spans, log records or data points. Never
   * throws. `release` (optional) gets the body back once neither this sender
   * nor a request refers to its memory (compressed, or its last attempt fully
   * written before the batch ended); a body still being written when its batch
   * ends (a request aborted mid-write) is never given back.
   */
  enqueue(signal: OtlpSignal, body: Uint8Array, items: number, release?: (body: Uint8Array) => void): void {
    try {
      this.add(signal, body, items, release);
    } catch (e) {
      this.s.lastError = `internal error queueing a batch: ${(e as Error).message}`;
      this.changed();
    }
  }

  stats(): SenderStats {
    return copyStats(this.s);
  }

  /**
   * Resolves once nothing is queued or in flight, or after `deadlineMs`: then
   * whatever is still queued or in flight is counted as dropped (requests in
   * flight are aborted).
   */
  flush(deadlineMs: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.idle()) return resolve();
      const timer = setTimeout(() => {
        this.abandonAll();
        resolve();
      }, timerMs(deadlineMs));
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** flush(deadlineMs), then stop: later batches are dropped, connections closed. */
  async close(deadlineMs: number): Promise<SenderStats> {
    await this.flush(deadlineMs);
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.agents.http.destroy();
    this.agents.https.destroy();
    return this.stats();
  }

  // ---- the queue ----

  private add(signal: OtlpSignal, body: Uint8Array, items: number, release: ((body: Uint8Array) => void) | undefined): void {
    const n = Number.isFinite(items) && items > 0 ? Math.floor(items) : 0;
    const valid = OTLP_SIGNALS.includes(signal) && body instanceof Uint8Array;
    const bytes = body instanceof Uint8Array ? body.byteLength : 0;
    const b: Batch = { seq: this.seq++, signal: valid ? signal : 'traces', items: n, bytes, body, wire: undefined,
      release: valid ? release : undefined, plain: false, written: false, queuedAt: Date.now(), attempts: 0, state: 'queued' };
    this.s.enqueuedBatches++;
    this.s.enqueuedItems += n;
    this.s.enqueuedBytes += bytes;
    this.s.signals[b.signal].enqueuedItems += n;
    this.count(b, +1);
    if (!valid) {
      this.finish(b, { sent: false, as: 'dropped' }, `not a batch: signal '${String(signal)}' with a ${typeof body}`);
    }
    else if (this.closed) this.finish(b, { sent: false, as: 'dropped' }, 'a batch came after the sender was closed');
    else {
      this.queue.push(b);
      this.dropOldestOverLimit();
      this.pump();
    }
    this.changed();
  }

  /** Queued bytes over the bound: drop from the oldest end, never the newest batch. */
  private dropOldestOverLimit(): void {
    let batches = 0;
    let items = 0;
    while (this.s.queuedBytes > this.opts.maxQueueBytes && this.queue.length > 1) {
      const b = this.queue.shift()!;
      batches++;
      items += b.items;
      this.finish(b, { sent: false, as: 'dropped' }, undefined);
    }
    if (batches) {
      this.s.lastError = `the send queue went over ${this.opts.maxQueueBytes} bytes: dropped the ${batches} oldest ` +
        `batches (${items} items)${this.lastFailure ? `; last error: ${this.lastFailure}` : ''}`;
    }
  }

  /** Start what may start: not during a backoff pause, at most maxInFlight at a time. */
  private pump(): void {
    if (this.closed) return;
    const now = Date.now();
    this.giveUpExpired(now);
    if (now < this.pausedUntil) return this.armRetryTimer(now);
    while (this.inFlight.size < this.opts.maxInFlight && this.queue.length) {
      const b = this.queue.shift()!;
      this.count(b, -1);
      b.state = 'inFlight';
      this.inFlight.add(b);
      this.count(b, +1);
      this.start(b);
    }
  }

  private armRetryTimer(now: number): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
      this.changed();
    }, timerMs(this.pausedUntil - now));
    this.retryTimer.unref(); // the worker's port keeps its loop alive; a test's sender must not
  }

  /** The queue is in queuing order, so the batches to give up on are at its head. */
  private giveUpExpired(now: number): void {
    while (this.queue.length && this.expired(this.queue[0]!, now)) {
      const b = this.queue.shift()!;
      this.finish(b, { sent: false, as: 'dropped' }, this.giveUpMessage(b));
    }
  }

  private expired(b: Batch, now: number): boolean {
    return this.failingSince !== undefined &&
      now - Math.max(b.queuedAt, this.failingSince) >= this.opts.maxRetryElapsedMs;
  }

  private giveUpMessage(b: Batch): string {
    return `gave up on ${b.items} ${ITEM_NAMES[b.signal]} after ${this.opts.maxRetryElapsedMs} ms of failures` +
      (this.lastFailure ? `; last error: ${this.lastFailure}` : '');
  }

  // ---- one attempt ----

  private start(b: Batch): void {
    if (b.attempts > 0) this.s.retries++;
    b.attempts++;
    const target = this.targets[b.signal];
    if (!target) {
      const v = `OTEL_EXPORTER_OTLP_${b.signal.toUpperCase()}_ENDPOINT`;
      return this.settle(b, { sent: false, as: 'rejected' }, `no OTLP endpoint for ${b.signal} ` +
        `(set --endpoint, OTEL_EXPORTER_OTLP_ENDPOINT or ${v})`);
    }
    if (b.wire) return this.post(b, target);
    const body = b.body!;
    b.body = undefined;
    if (this.config.signals[b.signal].compression === 'none') {
      b.wire = body;
      b.plain = true;
      return this.post(b, target);
    }
    // Level 1: on the 2-vCPU hosts measured, the default level (6) compressed ~75 MB/s and was the whole
    // export's bottleneck; level 1 is ~3x faster for a body ~6 % larger (OTLP's repeated keys compress well).
    // memLevel 9 (a 256 KiB hash table instead of 128): 279 -> 322 MB/s on these bodies, the same size.
    zlib.gzip(body, { level: zlib.constants.Z_BEST_SPEED, memLevel: 9 }, (err, out) => {
      giveBack(b, body); // zlib is done with it
      if (b.state !== 'inFlight') return; // abandoned meanwhile
      if (err) return this.settle(b, { sent: false, as: 'dropped' }, `gzip failed: ${err.message}`);
      b.wire = out;
      this.post(b, target);
    });
  }

  private post(b: Batch, url: URL): void {
    try {
      b.written = false;
      b.abort = postBody(url, b.wire!, this.config.signals[b.signal], this.agents, (outcome) => {
        b.abort = undefined;
        b.written = outcome.written;
        if (b.state !== 'inFlight') return;
        if (outcome.answered) this.answered(b, url, outcome.res, outcome.body);
        else this.retryLater(b, url, outcome.reason, undefined);
      });
    } catch (e) {
      this.settle(b, { sent: false, as: 'rejected' }, `POST ${shown(url)}: ${(e as Error).message}`);
    }
  }

  private answered(b: Batch, url: URL, res: http.IncomingMessage, body: Buffer): void {
    const status = res.statusCode ?? 0;
    if (status === 429 || status === 502 || status === 503 || status === 504) {
      return this.retryLater(b, url, httpError(status, res, body), parseRetryAfter(res.headers['retry-after']));
    }
    this.failingSince = undefined; // the backend answered: not an outage
    this.failureStreak = 0;
    if (status < 200 || status > 299) {
      return this.settle(b, { sent: false, as: 'rejected' },
        `POST ${shown(url)}: ${httpError(status, res, body)}; ${b.items} ${ITEM_NAMES[b.signal]} rejected`);
    }
    let partial: PartialSuccess | undefined;
    try {
      partial = decodePartialSuccess(body);
    } catch {
      // a response body that is not an ExportServiceResponse: the request still succeeded
    }
    const rejected = Math.min(b.items, Math.max(0, partial?.rejected ?? 0));
    let note: string | undefined;
    if (rejected > 0) {
      note = `POST ${shown(url)}: the backend rejected ${rejected} of ${b.items} ${ITEM_NAMES[b.signal]}` +
        (partial?.message ? `: ${partial.message}` : '');
    } else if (partial?.message) {
      note = `POST ${shown(url)}: accepted with a warning: ${partial.message}`;
    }
    this.settle(b, { sent: true, rejectedItems: rejected }, note);
  }

  /** A retryable failure: back into the queue in its place, and the queue pauses for the backoff. */
  private retryLater(b: Batch, url: URL, reason: string, retryAfterMs: number | undefined): void {
    const now = Date.now();
    this.failingSince ??= now;
    this.lastFailure = `POST ${shown(url)}: ${reason}`;
    this.s.lastError = this.lastFailure;
    if (this.expired(b, now)) return this.settle(b, { sent: false, as: 'dropped' }, this.giveUpMessage(b));
    if (now >= this.pausedUntil) this.failureStreak++; // one step per round of failures, not per request
    // Retry-After is honoured as given up to maxRetryElapsedMs: waiting longer than that would only
    // end in giving the batch up, so the pause ends there and the give-up rule decides.
    const delay = retryAfterMs !== undefined ? Math.min(retryAfterMs, this.opts.maxRetryElapsedMs)
      : backoffMs(this.failureStreak, this.opts.initialBackoffMs, this.opts.maxBackoffMs);
    this.pausedUntil = Math.max(this.pausedUntil, now + delay);
    this.count(b, -1);
    this.inFlight.delete(b);
    b.state = 'queued';
    this.count(b, +1);
    let at = this.queue.findIndex((q) => q.seq > b.seq);
    if (at < 0) at = this.queue.length;
    this.queue.splice(at, 0, b);
    this.dropOldestOverLimit();
    this.pump();
    this.changed();
  }

  /** An in-flight batch's end: frees its slot and starts the next. */
  private settle(b: Batch, outcome: Outcome, message: string | undefined): void {
    this.inFlight.delete(b);
    this.finish(b, outcome, message);
    this.pump();
    this.changed();
  }

  /** Count a batch's outcome, from whatever state it was in. */
  private finish(b: Batch, outcome: Outcome, message: string | undefined): void {
    this.count(b, -1);
    b.state = 'done';
    const sig = this.s.signals[b.signal];
    if (outcome.sent) {
      this.s.sentBatches++;
      this.s.sentItems += b.items - outcome.rejectedItems;
      this.s.sentBytes += b.wire?.byteLength ?? 0;
      this.s.rejectedItems += outcome.rejectedItems;
      sig.sentItems += b.items - outcome.rejectedItems;
      sig.rejectedItems += outcome.rejectedItems;
    } else if (outcome.as === 'rejected') {
      this.s.rejectedBatches++;
      this.s.rejectedItems += b.items;
      sig.rejectedItems += b.items;
    } else {
      this.s.droppedBatches++;
      this.s.droppedItems += b.items;
      sig.droppedItems += b.items;
    }
    // Not started: its body as it came. Sent uncompressed: its wire is the body, given back unless a
    // request may still be writing it (aborted mid-write). Compressed: given back when gzip was done with it.
    const given = b.body ?? (b.plain && b.written ? b.wire : undefined);
    b.body = b.wire = undefined;
    if (given) giveBack(b, given);
    if (message !== undefined) this.s.lastError = message;
  }

  /** Add (+1) or remove (-1) a batch from the counts of its current state. */
  private count(b: Batch, sign: 1 | -1): void {
    if (b.state === 'queued') {
      this.s.queuedBatches += sign;
      this.s.queuedItems += sign * b.items;
      this.s.queuedBytes += sign * b.bytes;
    } else if (b.state === 'inFlight') {
      this.s.inFlight += sign;
      this.s.inFlightItems += sign * b.items;
      this.s.inFlightBytes += sign * b.bytes;
    }
  }

  /** The flush deadline passed: everything still here is dropped. */
  private abandonAll(): void {
    const left = [...this.queue, ...this.inFlight];
    if (!left.length) return;
    const items = left.reduce((n, b) => n + b.items, 0);
    this.queue.length = 0;
    this.inFlight.clear();
    for (const b of left) {
      b.abort?.();
      this.finish(b, { sent: false, as: 'dropped' }, undefined);
    }
    this.s.lastError = `the backend did not take ${items} items (${left.length} batches) before the deadline` +
      (this.lastFailure ? `; last error: ${this.lastFailure}` : '');
    this.changed();
  }

  private idle(): boolean {
    return this.queue.length === 0 && this.inFlight.size === 0;
  }

  private changed(): void {
    if (this.idleWaiters.length && this.idle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
    try {
      this.onChange?.();
    } catch {
      // an observer's failure is not the sender's
    }
  }
}

/** b's body to its maker, once (a gzip callback and the batch's end may both come to it). */
function giveBack(b: Batch, body: Uint8Array): void {
  const release = b.release;
  b.release = undefined;
  try {
    release?.(body);
  } catch {
    // the maker's failure is not the sender's
  }
}

/** A URL for messages: without credentials or query (either may hold a secret). */
function shown(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

