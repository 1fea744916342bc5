// Sending a recording over OTLP while it is recorded. The recorder's thread
// only tells a worker (live-worker.ts) how far each stream file has been
// written after each flush, when every stream is whole up to the same moment;
// the worker reads the new packets, builds OTLP and hands the requests to
// the sender (client.ts, mode 'drop'): a backend that is slow or down costs
// the recording nothing, its oldest batches are dropped and counted.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { OtlpSummary } from './builder';
import type { OtlpConfig } from './config';
import type { ResourceChoice } from './resource-choice';
import type { SenderStats } from './sender';

export interface LiveOptions {
  config: OtlpConfig;
  /** service.name and attributes for every process (resolveResourceChoice). */
  resource?: ResourceChoice;
  /** No trace is kept: free the stream files' space once read (their size and offsets stay). */
  releaseRead?: boolean;
  /** Sender tuning, for tests. */
  sender?: { maxQueueBytes?: number; initialBackoffMs?: number; maxBackoffMs?: number; maxRetryElapsedMs?: number };
}

/** What the worker reports after each cut. */
export interface LiveStats {
  events: number;
  summary: OtlpSummary;
  sent: SenderStats;
  errors: string[];
}

export type StreamSizes = Record<string, number>; // stream file -> bytes written (whole packets)

export class OtlpLive {
  private readonly worker: Worker;
  private last: LiveStats | undefined;
  private failure: string | undefined;
  private final: ((s: LiveStats | undefined) => void) | undefined;
  private ended = false;

  constructor(dir: string, opts: LiveOptions) {
    this.worker = new Worker(path.join(__dirname, 'live-worker.js'), { workerData: { dir, ...opts } });
    this.worker.unref();
    this.worker.on('message', (m: { stats: LiveStats; final?: boolean }) => {
      this.last = m.stats;
      if (m.final) this.final?.(m.stats);
    });
    this.worker.on('error', (e) => {
      this.failure = `OTLP export stopped: ${e.message}`; // the recording goes on without it
      this.final?.(this.last);
    });
    this.worker.on('exit', () => this.final?.(this.last));
  }

  /** Every stream is whole up to these sizes: the worker may read that far. Never blocks. */
  cut(sizes: StreamSizes): void {
    if (!this.ended && !this.failure) this.worker.postMessage({ sizes });
  }

  /** The latest figures (undefined before the first cut is done). */
  stats(): LiveStats | undefined {
    return this.last;
  }

  /** Why the live export stopped, if it did. */
  error(): string | undefined {
    return this.failure;
  }

  /**
   * The recording is over, written up to `sizes`: send the rest, ending spans
   * still open, and wait up to deadlineMs for the backend to take it.
   */
  async close(sizes: StreamSizes, deadlineMs: number): Promise<LiveStats | undefined> {
    this.ended = true;
    if (this.failure) return this.last;
    const done = new Promise<LiveStats | undefined>((resolve) => { this.final = resolve; });
    this.worker.ref(); // until it has sent what it could
    this.worker.postMessage({ sizes, end: true, deadlineMs });
    const stats = await done;
    await this.worker.terminate();
    return stats;
  }
}
