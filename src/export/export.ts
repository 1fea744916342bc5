// `trace-consume export`: stream a trace directory into Perfetto protobuf,
// Chrome trace JSON or JSON lines. Records are merged across streams in time
// order and handled one at a time, so memory is bounded by one packet per
// stream plus the per-thread state of the timeline model.
import * as fs from 'node:fs';
import { mergeCursors, openCursors, type StreamCursor } from '../trace/cursor';
import { openTrace } from '../trace/reader';
import { ChromeSink } from './chrome';
import { jsonLine } from './jsonl';
import { type ModelSummary, TimelineModel } from './model';
import { PerfettoSink } from './perfetto';
import { readNames } from './processes';
import { TextSink, writeAllSync } from './sink';

export const FORMATS = ['perfetto', 'chrome', 'jsonl'] as const;
export type ExportFormat = (typeof FORMATS)[number];

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

const O_OUTPUT = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW;

/** Open the output before reading anything, so a bad path fails at once. */
export function openOutput(output: string, format: ExportFormat): { fd: number; close: () => void } {
  if (output === '-') {
    if (format === 'perfetto' && process.stdout.isTTY) {
      throw new Error('refusing to write binary Perfetto data to a terminal; use -o FILE or a pipe');
    }
    return { fd: 1, close: () => undefined };
  }
  let fd: number;
  try {
    fd = fs.openSync(output, O_OUTPUT, 0o600);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ELOOP' ? 'it is a symbolic link (not followed)'
      : err.code === 'EISDIR' ? 'it is a directory'
        : err.code === 'ENOENT' ? 'its directory does not exist'
          : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new Error(`cannot write ${output}: ${why}`);
  }
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
  let bytesOut = 0;
  let model: TimelineModel | undefined;
  let visit: (c: StreamCursor) => void;
  let finish: () => void;
  const text = new TextSink(out.fd, what);
  try {
    if (opts.format === 'jsonl') {
      visit = (c) => text.line(jsonLine(c));
      finish = () => text.flush();
    } else if (opts.format === 'chrome') {
      const sink = new ChromeSink((s) => text.write(s), startNs);
      const m = new TimelineModel(sink, readNames(dir));
      model = m;
      visit = (c) => m.add(c);
      finish = () => { m.finish(); sink.finish(); text.flush(); };
    } else {
      const sink = new PerfettoSink(startNs, (chunk) => { bytesOut += chunk.length; writeAllSync(out.fd, chunk, what); });
      const m = new TimelineModel(sink, readNames(dir));
      model = m;
      visit = (c) => m.add(c);
      finish = () => { m.finish(); sink.finish(); };
    }
    const report = opts.progress;
    mergeCursors(cursors, (e) => errors.push(e.message), (c) => {
      visit(c);
      if ((++events & 0xffff) === 0 && report) report(cursors.reduce((n, s) => n + s.bytesRead(), 0), total, events);
    });
    finish();
  } finally {
    out.close();
  }
  return { events, bytesOut: bytesOut + text.bytes, errors, model: model?.summary };
}
