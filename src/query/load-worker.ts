// The reading half of loading a trace into the query database, on a thread
// of its own: it formats the records as rows (rows.ts) into chunk files in a
// private temporary directory and posts each one to the main thread, which
// has the database parse it while this thread formats the next. At most
// MAX_PENDING chunks wait on disk: past that, this thread waits for one to
// be taken (Atomics.wait on a shared counter), so the temporary space stays
// bounded whatever the trace's size.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { ticksToEpochNs } from '../ctf/metadata';
import { ByteOut } from '../export/byteout';
import { openCursors, type StreamCursor } from '../trace/cursor';
import { mergeRuns } from '../trace/merge';
import { openTrace, type PacketInfo } from '../trace/reader';
import { RecordRows } from './rows';
import type { LostRow, WorkerMessage } from './load-protocol';

const { dir, tmp, chunkBytes, ctrl, progress } = workerData as { dir: string; tmp: string; chunkBytes: number;
  ctrl: SharedArrayBuffer; progress: boolean }; // progress: someone shows it (else none is posted)
const pending = new Int32Array(ctrl); // [0]: chunks posted and not yet taken
const MAX_PENDING = 3;

const post = (m: WorkerMessage) => parentPort!.postMessage(m);
/** How long the thread stays idle after its work (see the end of run()). */
const SETTLE_MS = 100;

function run(): void {
  const trace = openTrace(dir);
  const { cursors, startNs } = openCursors(trace);
  post({ type: 'start', startNs: startNs.toString() });
  let chunks = 0;
  const free: Buffer[] = [];
  const out = new ByteOut({
    buffer: () => free.pop() ?? Buffer.allocUnsafe(chunkBytes),
    submit: (buf, n) => {
      const file = path.join(tmp, `records-${chunks++}.tsv`);
      fs.writeFileSync(file, buf.subarray(0, n), { mode: 0o600 });
      free.push(buf);
      Atomics.add(pending, 0, 1);
      post({ type: 'chunk', file, longest: rows.longest });
      rows.longest = 0;
      for (let n2 = Atomics.load(pending, 0); n2 >= MAX_PENDING; n2 = Atomics.load(pending, 0)) {
        Atomics.wait(pending, 0, n2, 1000);
      }
    },
  });
  const rows: RecordRows = new RecordRows(out);

  // Lost events: each packet says how many its stream had discarded so far; a rise is a row.
  const lost: LostRow[] = [];
  const seenPacket = new Map<StreamCursor, { info: PacketInfo | undefined; discarded: number }>();
  const checkLost = (c: StreamCursor) => {
    let s = seenPacket.get(c);
    if (!s) seenPacket.set(c, (s = { info: undefined, discarded: 0 }));
    const info = c.packet;
    if (!info || info === s.info) return;
    if (info.eventsDiscarded > s.discarded) {
      const from = s.info ? s.info.timestampEnd : info.timestampBegin;
      lost.push({ cpu: info.cpu, startNs: ticksToEpochNs(trace.clock, from).toString(),
        endNs: ticksToEpochNs(trace.clock, info.timestampEnd).toString(), events: info.eventsDiscarded - s.discarded });
      s.discarded = info.eventsDiscarded;
    }
    s.info = info;
  };

  const errors: string[] = [];
  const total = cursors.reduce((n, c) => n + c.fileSize(), 0);
  mergeRuns(cursors, (e) => errors.push(e.message), (c, from, to) => {
    checkLost(c);
    rows.addRun(c, from, to);
  }, progress ? () => post({ type: 'progress', done: cursors.reduce((n, c) => n + c.bytesRead(), 0), total, rows: rows.rows })
    : undefined);
  for (const c of cursors) checkLost(c); // the last packet of each stream
  out.flush();
  post({ type: 'done', rows: rows.rows, errors, lost, threads: rows.threadRows });
  // Stay idle a moment before this thread ends (the main thread waits for it): V8 may still be
  // compiling this thread's code on its background threads, and such a task can ask this thread for
  // a collection. While the thread's event loop runs it is served; once the thread is shutting down
  // Node 20 waits for those tasks without serving it, and both wait forever (seen as a query that
  // printed its result and never exited: the process joins this thread at exit).
  setTimeout(() => {}, SETTLE_MS);
}

try {
  run();
} catch (e) {
  post({ type: 'error', message: (e as Error).message });
}
