// `trace-consume export`: stream a trace directory into Perfetto protobuf,
// Chrome trace JSON or JSON lines. Records are merged across streams in time
// order and handled one at a time, so memory is bounded by one packet per
// stream plus the per-thread state of the timeline model.
import * as fs from 'node:fs';
import { openCursors, type StreamCursor } from '../trace/cursor';
import { mergeRuns } from '../trace/merge';
import { openTrace } from '../trace/reader';
import { ChromeSink } from './chrome';
import { BackgroundWriter } from './background-writer';
import { ByteOut } from './byteout';
import { JsonlWriter } from './jsonl';
import { type ModelSummary, TimelineModel } from './model';
import { PerfettoSink } from './perfetto';
import { readNames } from './processes';
import { TextSink } from './sink';
import { openOwnFile } from './own-file';
import type { ExportFormat } from './formats';

export { FORMATS, type ExportFormat } from './formats';

export interface ExportOptions {
  format: ExportFormat;
  output: string; // a path, or '-' for standard output
  progress?: (done: number, total: number, events: number) => void;
}

export interface ExportResult {
  events: number;
  bytesOut: number;
  errors: string[]; // damaged streams: export holds everything before the damage
  model: ModelSummary | undefined;
}

/** Open the output before reading anything, so a bad path fails at once. */
export function openOutput(output: string, format: ExportFormat): { fd: number; close: () => void } {
  if (output === '-') {
    if (format === 'perfetto' && process.stdout.isTTY) {
      throw new Error('refusing to write binary Perfetto data to a terminal; use -o FILE or a pipe');
    }
    return { fd: 1, close: () => undefined };
  }
  const fd = openOwnFile(output);
  return { fd, close: () => fs.closeSync(fd) };
}


export function runExport(dir: string, opts: ExportOptions): ExportResult {
  const trace = openTrace(dir);
  const out = openOutput(opts.output, opts.format);
  const what = opts.output === '-' ? 'standard output' : opts.output;
  const errors: string[] = [];
  const { cursors, startNs } = openCursors(trace);
  const total = cursors.reduce((n, c) => n + c.fileSize(), 0);
  let events = 0;
  let model: TimelineModel | undefined;
  let run: (c: StreamCursor, from: number, to: number) => void;
  let flush: () => void; // the format's last bytes into the writer
  const writer = new BackgroundWriter(out.fd, what);
  try {
    if (opts.format === 'jsonl') {
      const w = new JsonlWriter(new ByteOut(writer));
      run = (c, from, to) => w.addRun(c, from, to);
      flush = () => w.flush();
    } else {
      const text = new TextSink((b) => writer.write(b), what);
      const sink = opts.format === 'chrome' ? new ChromeSink((s) => text.write(s), startNs)
        : new PerfettoSink(startNs, writer);
      const m = new TimelineModel(sink, readNames(dir));
      model = m;
      run = (c, from, to) => m.addRun(c, from, to);
      flush = () => { m.finish(); sink.finish(); text.flush(); };
    }
    const report = opts.progress;
    events = mergeRuns(cursors, (e) => errors.push(e.message), run,
      report && ((n) => report(cursors.reduce((sum, s) => sum + s.bytesRead(), 0), total, n)));
    flush();
    writer.close();
  } finally {
    try {
      writer.close(); // after an error: stop the thread (a no-op once closed)
    } catch {
      // the error already on its way out is the one to report
    }
    out.close();
  }
  return { events, bytesOut: writer.bytes, errors, model: model?.summary };
}
