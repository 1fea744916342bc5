// A trace directory into an in-memory DuckDB database (tables.ts). The
// records are read and formatted on a worker thread (load-worker.ts) while
// the database parses the previous chunk on its own threads: on two CPUs the
// two halves overlap. The small tables (classes, processes, threads, lost)
// follow, then the views and the spans table.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { readProcessLog, threadName } from '../export/processes';
import type { ClassDescription } from '../schema';
import { openTrace } from '../trace/reader';
import { duckdb } from './duckdb';
import type { LostRow, WorkerMessage } from './load-protocol';
import type { ThreadRow } from './rows';
import { CREATE_DERIVED, CREATE_TABLES, recordsCsv } from './tables';

/** Rows per chunk file: 16 MiB of text (~100 000 records) keeps the two threads in step. */
const CHUNK_BYTES = 16 << 20;

export interface LoadOptions {
  progress?: (bytesRead: number, bytesTotal: number, rows: number) => void;
  /** Bytes of row text per chunk (default 16 MiB). */
  chunkBytes?: number;
}

export interface LoadSummary {
  events: number;
  lostEvents: number;
  /** Damaged streams: everything before the damage is loaded. */
  errors: string[];
  seconds: number;
}

export interface TraceDb {
  instance: DuckDBInstance;
  con: DuckDBConnection;
  summary: LoadSummary;
  close(): void;
}

/** A string as an SQL literal. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

export async function loadTrace(dir: string, opts: LoadOptions = {}): Promise<TraceDb> {
  const started = process.hrtime.bigint();
  const trace = openTrace(dir); // a bad directory fails here, before anything starts
  const { DuckDBInstance } = duckdb();
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  const close = () => {
    con.closeSync();
    instance.closeSync();
  };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ringtrace-query-')); // 0700: the rows are the user's data
  const removeTmp = () => fs.rmSync(tmp, { recursive: true, force: true });
  process.on('exit', removeTmp); // a process.exit() while loading (the CLI's Ctrl-C) leaves no rows behind
  try {
    for (const sql of CREATE_TABLES) await con.run(sql);
    const done = await loadRecords(con, dir, tmp, opts);
    await fillSmallTables(con, dir, trace.classes, done.threads, done.lost);
    for (const sql of CREATE_DERIVED) await con.run(sql);
    const summary: LoadSummary = { events: done.rows, lostEvents: done.lost.reduce((n, l) => n + l.events, 0),
      errors: done.errors, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
    return { instance, con, summary, close };
  } catch (e) {
    close();
    throw e;
  } finally {
    process.off('exit', removeTmp);
    removeTmp();
  }
}

type Done = Extract<WorkerMessage, { type: 'done' }>;

/** The worker's chunks into `records`, one INSERT at a time, as they come. */
function loadRecords(con: DuckDBConnection, dir: string, tmp: string, opts: LoadOptions): Promise<Done> {
  const ctrl = new SharedArrayBuffer(4);
  const pending = new Int32Array(ctrl);
  const worker = new Worker(path.join(__dirname, 'load-worker.js'), { workerData: { dir, tmp, chunkBytes: opts.chunkBytes ?? CHUNK_BYTES,
    ctrl, progress: opts.progress !== undefined } });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return new Promise<Done>((resolve, reject) => {
    let inserting: Promise<void> = Promise.resolve();
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      void worker.terminate();
      reject(e);
    };
    let startNs = '0';
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'start') {
        startNs = m.startNs;
      } else if (m.type === 'chunk') {
        inserting = inserting.then(async () => {
          if (failed) return;
          await con.run(`INSERT INTO records SELECT ts + ${startNs}, * EXCLUDE (ts) ` +
            `FROM read_csv(${sqlString(m.file)}, ${recordsCsv(m.longest)})`);
          fs.unlinkSync(m.file);
          Atomics.sub(pending, 0, 1);
          Atomics.notify(pending, 0);
        }).catch((e: unknown) => fail(new Error(`loading the trace into the database: ${(e as Error).message}`)));
      } else if (m.type === 'progress') {
        opts.progress?.(m.done, m.total, m.rows);
      } else if (m.type === 'done') {
        // The worker ends by itself once idle (load-worker.ts): terminating it now, or exiting while it
        // lives, could stop it while V8 still compiles for it, which can hang the process in Node 20.
        inserting.then(() => exited).then(() => {
          if (!failed) resolve(m);
        }, fail);
      } else {
        fail(new Error(m.message));
      }
    });
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (code !== 0) fail(new Error(`the trace reading thread stopped (exit code ${code})`));
    });
  });
}

async function fillSmallTables(con: DuckDBConnection, dir: string, classes: Map<number, ClassDescription>,
  threads: ThreadRow[], lost: LostRow[]): Promise<void> {
  const a = await con.createAppender('classes');
  for (const [id, c] of classes) {
    a.appendUInteger(id);
    a.appendVarchar(c.provider);
    a.appendVarchar(c.name);
    a.appendVarchar(c.kind);
    a.appendVarchar(JSON.stringify(c.fields.map((f) => ({ name: f.name, type: f.type }))));
    a.endRow();
  }
  a.closeSync();

  const log = readProcessLog(dir);
  const pids = new Set<number>();
  const t = await con.createAppender('threads');
  for (let i = 0; i < threads.length; i++) {
    const { pid, tid } = threads[i]!;
    pids.add(pid);
    t.appendUInteger(i);
    t.appendUInteger(pid);
    t.appendUInteger(tid);
    t.appendVarchar(threadName(log.threads, pid, tid));
    t.endRow();
  }
  t.closeSync();

  const p = await con.createAppender('processes');
  for (const pid of pids) {
    p.appendUInteger(pid);
    p.appendVarchar(log.processes.get(pid) ?? 'process');
    p.endRow();
  }
  p.closeSync();

  const l = await con.createAppender('lost');
  for (const row of lost) {
    l.appendUSmallInt(row.cpu);
    l.appendBigInt(BigInt(row.startNs));
    l.appendBigInt(BigInt(row.endNs));
    l.appendUBigInt(BigInt(row.events));
    l.endRow();
  }
  l.closeSync();
}
