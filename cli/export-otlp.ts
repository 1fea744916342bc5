// `trace-consume export DIR -f otlp --endpoint URL`: send a recorded trace to
// an OpenTelemetry backend (a Collector, or any OTLP/HTTP receiver), with a
// progress line and a summary of what was sent, retried and dropped.
import { resolveOtlpConfig } from '../src/otlp/config';
import { resolveResourceChoice } from '../src/otlp/resource-choice';
import { asUsage } from './usage-error';
import { runOtlpExport } from '../src/otlp/export';
import type { SenderStats } from '../src/otlp/sender';
import { destinationLine, noEndpointLine, sentLine } from './otlp-lines';
import { progressLine } from './progress';

export interface OtlpCliOptions {
  endpoint?: string;
  header?: string[];
  serviceName?: string;
  compression?: 'gzip' | 'none';
  quiet?: boolean;
}

const log = (msg: string) => process.stderr.write(`trace-consume: ${msg}\n`);

export function runOtlpExportCommand(dir: string, opts: OtlpCliOptions): number {
  const { config, resource } = asUsage(() => ({
    config: resolveOtlpConfig({
      ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {}),
      ...(opts.header ? { headers: opts.header } : {}),
      ...(opts.compression ? { compression: opts.compression } : {}),
    }),
    resource: resolveResourceChoice(opts.serviceName),
  }));
  const started = Date.now();
  const progress = progressLine(!opts.quiet && process.stderr.isTTY, started);
  let result;
  try {
    result = runOtlpExport(dir, {
      config, resource,
      ...(progress ? { progress: (done: number, total: number, events: number, sent: SenderStats) =>
        progress(done, total, events, `  sent ${sent.sentItems}${sent.retries ? `, ${sent.retries} retries` : ''}`) }
        : {}),
    });
  } finally {
    progress?.clear();
  }
  for (const e of result.errors) log(e);
  const m = result.summary;
  const s = result.sent;
  if (!opts.quiet) {
    const secs = (Date.now() - started) / 1000;
    log(`read ${result.events} events: ${m.spans} spans (${m.spanEvents} span events), ${m.logs} log records, ` +
      `${m.points} gauge points` +
      `${m.unfinished ? `; ${m.unfinished} spans still open at the end (sent with ringtrace.unfinished=true)` : ''}` +
      `${m.endsWithoutBegin ? `; ${m.endsWithoutBegin} span ends without their begin in the trace (not sent)` : ''}`);
    log(`to ${destinationLine(config.urls)}: ${sentLine(s)} in ${secs.toFixed(1)} s`);
  }
  const unsent = noEndpointLine(m.noEndpointItems, config.urls);
  if (unsent) log(unsent); // the user's choice (only some signals' endpoints): said, not a failure
  if (s.lastError && (s.droppedItems || s.rejectedItems)) log(`last error: ${s.lastError}`);
  return result.errors.length || s.droppedItems || s.rejectedItems ? 1 : 0;
}
