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
import { StreamCursor, traceBase } from '../trace/cursor';
import { mergeRuns } from '../trace/merge';
import { openTrace, type Trace } from '../trace/reader';
import { ticksToEpochNs } from '../ctf/metadata';
import { readProcessLog } from '../export/processes';
import { OtlpBuilder } from './builder';
import { OtlpClient } from './client';
import { traceSeed } from './ids';
import { Resources, traceEnv } from './resource';
import type { LiveOptions, LiveStats, StreamSizes } from './live';

interface Cut { sizes: StreamSizes; end?: boolean; deadlineMs?: number }

const { dir, config, serviceName, sender, releaseRead } = workerData as LiveOptions & { dir: string };
const client = new OtlpClient(config, { mode: 'drop', ...sender });
const offsets = new Map<string, number>();
const errors: string[] = [];
let events = 0;
let builder: OtlpBuilder | undefined;
let resources: Resources | undefined;
let base: { hi: number; lo: number } | undefined;
let startNs = 0n;

function start(trace: Trace): OtlpBuilder {
  const ticks = traceBase(trace);
  base = { hi: Number(ticks >> 32n), lo: Number(ticks & 0xffffffffn) };
  startNs = ticksToEpochNs(trace.clock, ticks);
  const env = traceEnv(dir);
  const res = resources = new Resources({ serviceName }, env, readProcessLog(dir));
  return new OtlpBuilder({
    startNs, seed: traceSeed(env.session, startNs), resourceOf: res.of, maxOpenSpans: 100_000,
    onResource: (pid, json) => res.setRecorded(pid, json),
    out: (signal, body, items) => client.send(signal, body, items),
  });
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
  events += mergeRuns(cursors, (e) => { if (errors.length < 20) errors.push(e.message); },
    (c, from, to) => b.addRun(c, from, to));
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
    if (errors.length < 20) errors.push(`cannot free the space of ${stream}: ${(e as Error).message}`);
  }
}

function stats(): LiveStats {
  return { events, summary: builder ? { ...builder.summary } : { spans: 0, spanEvents: 0, logs: 0, points: 0,
    unfinished: 0, endsWithoutBegin: 0, requests: 0 }, sent: client.stats(), errors: [...errors] };
}

parentPort!.on('message', (cut: Cut) => {
  try {
    read(cut.sizes);
    if (cut.end) builder?.finish();
    else builder?.flush();
  } catch (e) {
    if (errors.length < 20) errors.push((e as Error).message);
  }
  if (!cut.end) {
    parentPort!.postMessage({ stats: stats() });
    return;
  }
  client.close(cut.deadlineMs ?? 10_000);
  for (const fd of fds.values()) fs.closeSync(fd);
  parentPort!.postMessage({ stats: stats(), final: true });
});
