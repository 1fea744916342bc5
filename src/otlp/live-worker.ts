// The thread behind OtlpLive (live.ts): at each cut it reads every stream
// file from where the previous cut ended up to the new size (whole packets
// only: the recorder wrote them before sending the cut), merges their records
// in time order into one OtlpBuilder kept for the whole recording, sends what
// the batches hold, and reports its figures. Spans whose begin and end fall
// in different cuts are matched as in a file. Damage in a stream is reported
// and that stream is read again from the next cut's packets on. When no trace
// is kept, what was read is given back to the file system (punched out).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { loadNative } from '../native';
import { StreamCursor, traceStart } from '../trace/cursor';
import { mergeRuns } from '../trace/merge';
import { openTrace, type Trace } from '../trace/reader';
import { readProcessLog } from '../export/processes';
import { emptySummary, type OtlpBuilder } from './builder';
import { OtlpClient } from './client';
import { traceBuilder } from './export';
import type { Resources } from './resource';
import type { LiveOptions, LiveStats, StreamSizes } from './live';

interface Cut { sizes: StreamSizes; end?: boolean; deadlineMs?: number }

const { dir, config, resource, sender, releaseRead } = workerData as LiveOptions & { dir: string };
const client = new OtlpClient(config, { mode: 'drop', ...sender });
const offsets = new Map<string, number>();
const errors: string[] = [];
let events = 0;
let builder: OtlpBuilder | undefined;
let resources: Resources | undefined;
let base: { hi: number; lo: number } | undefined;
let startNs = 0n;

function start(trace: Trace): OtlpBuilder {
  ({ base, startNs } = traceStart(trace));
  const made = traceBuilder(dir, startNs, resource ?? {}, client, { maxOpenSpans: 100_000 });
  resources = made.resources;
  return made.builder;
}

/** A problem to report (the first 20: one that repeats at every cut would fill the summary). */
function note(message: string): void {
  if (errors.length < 20) errors.push(message);
}

function read(sizes: StreamSizes): void {
  const trace = openTrace(dir); // again each time: classes registered since the last cut
  const b = builder ??= start(trace);
  resources!.refresh(readProcessLog(dir));
  const cursors: StreamCursor[] = [];
  const ranges: [string, number, number][] = [];
  for (const [stream, upTo] of Object.entries(sizes)) {
    const from = offsets.get(stream) ?? 0;
    if (upTo <= from) continue;
    cursors.push(new StreamCursor(trace, stream, base!, startNs, { from, upTo }));
    ranges.push([stream, from, upTo]);
    offsets.set(stream, upTo);
  }
  events += mergeRuns(cursors, (e) => note(e.message), (c, from, to) => b.addRun(c, from, to));
  if (releasing) for (const [stream, from, upTo] of ranges) release(stream, from, upTo);
}

const fds = new Map<string, number>();
let releasing = releaseRead === true;
/** Give back the disk space of what was read (no trace is kept); a failure only leaves the space used. */
function release(stream: string, from: number, upTo: number): void {
  try {
    let fd = fds.get(stream);
    if (fd === undefined) fds.set(stream, fd = fs.openSync(path.join(dir, stream), fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW));
    loadNative().punchHole(fd, from, upTo - from);
  } catch (e) {
    releasing = false; // once: the file system cannot (the recording goes on, using the space)
    note(`cannot free the space of ${stream}: ${(e as Error).message}`);
  }
}

function stats(): LiveStats {
  return { events, summary: builder ? { ...builder.summary } : emptySummary(), sent: client.stats(),
    errors: [...errors] };
}

parentPort!.on('message', (cut: Cut) => {
  try {
    read(cut.sizes);
    if (cut.end) builder?.finish();
    else builder?.flush();
  } catch (e) {
    note((e as Error).message);
  }
  if (!cut.end) {
    parentPort!.postMessage({ stats: stats() });
    return;
  }
  client.close(cut.deadlineMs ?? 10_000);
  for (const fd of fds.values()) fs.closeSync(fd);
  parentPort!.postMessage({ stats: stats(), final: true });
});
