// `trace-consume export DIR --format perfetto|chrome|jsonl -o FILE`.
import { type ExportFormat, runExport } from '../src/export/export';
import { OutputClosed } from '../src/export/sink';
import { progressLine } from './progress';

export interface ExportCliOptions {
  format: ExportFormat;
  output: string;
  quiet?: boolean;
}

const log = (msg: string) => process.stderr.write(`trace-consume: ${msg}\n`);

export function runExportCommand(dir: string, opts: ExportCliOptions): number {
  const started = Date.now();
  const progress = progressLine(!opts.quiet && process.stderr.isTTY, started);
  let result;
  try {
    result = runExport(dir, { format: opts.format, output: opts.output, ...(progress ? { progress } : {}) });
  } catch (e) {
    if (e instanceof OutputClosed) return 0;
    throw e;
  } finally {
    progress?.clear();
  }
  const secs = (Date.now() - started) / 1000;
  for (const e of result.errors) log(e);
  const m = result.model;
  if (m) {
    const notes = [
      m.asyncLanes ? `${m.asyncLanes} async lanes for overlapping spans` : '',
      m.endedWithParent ? `${m.endedWithParent} spans ended with their parent (they outlived it)` : '',
      m.unfinished ? `${m.unfinished} spans still open at the end (ended there, unfinished=true)` : '',
      m.endsWithoutBegin ? `${m.endsWithoutBegin} span ends without their begin in the trace` : '',
    ].filter(Boolean);
    if (notes.length && !opts.quiet) log(notes.join('; '));
  }
  if (!opts.quiet && opts.output !== '-') {
    log(`wrote ${result.events} events to ${opts.output} (${(result.bytesOut / 1e6).toFixed(1)} MB, ${opts.format}) ` +
      `in ${secs.toFixed(1)} s, ${(result.events / Math.max(secs, 1e-3) / 1e6).toFixed(2)} M events/s`);
  }
  return result.errors.length ? 1 : 0;
}
