// `trace-consume query DIR "SQL"`: loads the trace into an embedded database
// (src/query/load.ts) and prints the result of the SQL as a table, CSV or
// JSON lines. Without SQL it lists the tables with their row counts. Also
// `export -f parquet`, which writes the same tables as files.
import { writeResult, type ResultFormat } from '../src/query/format';
import { loadTrace, type TraceDb } from '../src/query/load';
import { TABLE_DOCS } from '../src/query/tables';
import { parquetOutput, writeParquet } from '../src/query/parquet';
import { progressLine } from './progress';

export interface QueryOptions {
  csv?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/**
 * Text to standard output, waiting when the pipe is full (a closed pipe,
 * `| head`, ends the process quietly: trace-consume's EPIPE handler).
 */
function writeOut(s: string): Promise<void> {
  return new Promise<void>((resolve) => {
    if (process.stdout.write(s)) resolve();
    else process.stdout.once('drain', resolve);
  });
}

export async function load(dir: string, quiet: boolean | undefined): Promise<TraceDb> {
  // Ctrl-C exits through process.exit, whose 'exit' handlers remove the loader's temporary rows.
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) process.once(signal, () => process.exit(code));
  const progress = progressLine(!quiet && process.stderr.isTTY === true);
  try {
    return await loadTrace(dir, progress ? { progress } : {});
  } finally {
    progress?.clear();
  }
}

/**
 * Once a command on the embedded database has done its work (or failed), the
 * process ends by itself when nothing is left to run. Should anything of the
 * engine outlive its close and hold the event loop, the process exits anyway
 * (with its exit code) a second after standard output and error have handed
 * everything to the OS: a slow reader of a pipe (a pager) still gets it all.
 * The timers are unref'd: they keep nothing alive themselves.
 */
function exitSoonIfHeld(): void {
  const waiting = setInterval(() => {
    if (process.stdout.writableLength > 0 || process.stderr.writableLength > 0) return; // still being written
    clearInterval(waiting);
    setTimeout(() => process.exit(), 1000).unref();
  }, 100);
  waiting.unref();
}

/** Run a command on the embedded database: its result is the exit code; then exitSoonIfHeld. */
export async function databaseCommand(run: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await run();
  } finally {
    exitSoonIfHeld();
  }
}

/** Warnings about what the trace itself is missing, on standard error: nothing incomplete goes unsaid. */
export function warnIncomplete(db: TraceDb): void {
  for (const e of db.summary.errors) process.stderr.write(`trace-consume: warning: ${e} (everything before it is loaded)\n`);
  if (db.summary.lostEvents > 0) {
    process.stderr.write(`trace-consume: note: ${db.summary.lostEvents} events were lost while recording ` +
      '(rings full): see the lost table\n');
  }
}

export async function runQueryCommand(dir: string, sql: string | undefined, opts: QueryOptions): Promise<number> {
  const format: ResultFormat = opts.json ? 'json' : opts.csv ? 'csv' : 'table';
  const db = await load(dir, opts.quiet);
  try {
    warnIncomplete(db);
    if (sql === undefined || sql.trim() === '') {
      for (const [table, columns] of TABLE_DOCS) {
        const r = await db.con.runAndReadAll(`SELECT count(*) FROM ${table}`);
        await writeOut(`${table.padEnd(10)} ${String(r.getRows()[0]![0]).padStart(12)} rows   ${columns}\n`);
      }
      return db.summary.errors.length ? 1 : 0;
    }
    let result;
    try {
      result = await db.con.stream(sql);
    } catch (e) {
      throw new Error(`query: ${(e as Error).message}`);
    }
    await writeResult(result, format, writeOut);
    return db.summary.errors.length ? 1 : 0;
  } finally {
    db.close();
  }
}

/** `export DIR -f parquet -o DIR2`. */
export async function runParquetExportCommand(dir: string, output: string, quiet: boolean | undefined): Promise<number> {
  parquetOutput(output); // a bad output fails before the trace is read
  const started = Date.now();
  const db = await load(dir, quiet);
  try {
    warnIncomplete(db);
    const sizes = await writeParquet(db, output);
    if (!quiet) {
      const total = Object.values(sizes).reduce((a, b) => a + b, 0);
      process.stderr.write(`trace-consume: wrote ${db.summary.events} events as ${Object.keys(sizes).length} Parquet ` +
        `tables to ${output} (${(total / 1e6).toFixed(1)} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    }
    return db.summary.errors.length ? 1 : 0;
  } finally {
    db.close();
  }
}
