// `trace-consume export DIR -f otlp`: a recorded trace to an OTLP/HTTP
// endpoint. Records are merged across streams in time order into the OTLP
// builder; its requests go to a sender thread (client.ts) that compresses,
// posts and retries them while this thread goes on reading. When the
// sender's queue is full, reading waits: a file export loses nothing to a
// slow backend, and gives up on a batch only once retrying it has failed
// for the sender's retry time.
import { openCursors } from '../trace/cursor';
import { mergeRuns } from '../trace/merge';
import { openTrace } from '../trace/reader';
import { readProcessLog } from '../export/processes';
import { OtlpBuilder, type OtlpBuilderOptions, type OtlpSummary } from './builder';
import { OtlpClient } from './client';
import type { OtlpConfig } from './config';
import { traceSeed } from './ids';
import { Resources, traceEnv } from './resource';
import type { ResourceChoice } from './resource-choice';
import type { SenderStats } from './sender';

export interface OtlpExportOptions {
  config: OtlpConfig;
  /** service.name and attributes for every process (resolveResourceChoice); default: none. */
  resource?: ResourceChoice;
  progress?: (done: number, total: number, events: number, sent: SenderStats) => void;
  /** How long to keep trying to deliver what is left once the trace is read (ms). */
  closeDeadlineMs?: number;
  /** Sender tuning, for tests. */
  sender?: { maxQueueBytes?: number; initialBackoffMs?: number; maxBackoffMs?: number; maxRetryElapsedMs?: number };
}

export interface OtlpExportResult {
  events: number;
  errors: string[];
  summary: OtlpSummary;
  sent: SenderStats;
}

/**
 * A builder for the trace in `dir` (its time 0 at epoch `startNs`) handing
 * its requests to `client`: its processes' resources and its id seed.
 */
export function traceBuilder(dir: string, startNs: bigint, choice: ResourceChoice, client: OtlpClient,
  more: Partial<OtlpBuilderOptions> = {}): { builder: OtlpBuilder; resources: Resources } {
  const env = traceEnv(dir);
  const resources = new Resources(choice, env, readProcessLog(dir));
  const builder = new OtlpBuilder({
    startNs, seed: traceSeed(env.session, startNs), resourceOf: resources.of,
    onResource: (pid, json) => resources.setRecorded(pid, json),
    out: (signal, body, items) => client.send(signal, body, items, true), spare: (bytes) => client.spareBuffer(bytes),
    routed: client.routed, ...more,
  });
  return { builder, resources };
}

export function runOtlpExport(dir: string, opts: OtlpExportOptions): OtlpExportResult {
  const trace = openTrace(dir);
  const { cursors, startNs } = openCursors(trace);
  const client = new OtlpClient(opts.config, { mode: 'wait', ...opts.sender });
  const errors: string[] = [];
  const { builder } = traceBuilder(dir, startNs, opts.resource ?? {}, client);
  let events = 0;
  let sent: SenderStats;
  try {
    const total = cursors.reduce((n, c) => n + c.fileSize(), 0);
    const report = opts.progress;
    events = mergeRuns(cursors, (e) => errors.push(e.message), (c, from, to) => builder.addRun(c, from, to),
      report && ((n) => report(cursors.reduce((sum, s) => sum + s.bytesRead(), 0), total, n, client.stats())));
    builder.finish();
  } finally {
    sent = client.close(opts.closeDeadlineMs ?? 30_000); // after an error too: the sender thread stops
  }
  return { events, errors, summary: builder.summary, sent };
}
