// `export -f parquet`: the query database's tables as Parquet files, one per
// table, so a fleet's traces can be queried by any engine that reads Parquet
// (DuckDB, ClickHouse, Spark, Trino). DuckDB writes them (zstd-compressed).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sqlString, type TraceDb } from './load';
import { TABLE_DOCS } from './tables';

/** The tables written: every table users see (views made concrete). */
const PARQUET_TABLES = TABLE_DOCS.map(([table]) => table);

/**
 * Make `dir` (0700) if it does not exist; refuse a symbolic link, a file, or
 * table files that are links (they would be written through).
 */
export function parquetOutput(dir: string): void {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(dir);
  } catch {
    try {
      fs.mkdirSync(dir, { mode: 0o700 });
    } catch (e) {
      throw new Error(`cannot create ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'its parent does not exist'
        : (e as Error).message}`);
    }
    return;
  }
  if (st.isSymbolicLink()) throw new Error(`cannot write ${dir}: it is a symbolic link (not followed)`);
  if (!st.isDirectory()) throw new Error(`cannot write ${dir}: not a directory (Parquet export writes one file per table)`);
  for (const t of PARQUET_TABLES) {
    const f = path.join(dir, `${t}.parquet`);
    if (fs.lstatSync(f, { throwIfNoEntry: false })?.isSymbolicLink()) {
      throw new Error(`cannot write ${f}: it is a symbolic link (not followed)`);
    }
  }
}

/** Writes every table into dir (see parquetOutput); returns the files' sizes. */
export async function writeParquet(db: TraceDb, dir: string, onTable?: (table: string) => void):
  Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for (const t of PARQUET_TABLES) {
    onTable?.(t);
    const file = path.join(dir, `${t}.parquet`);
    const tmp = path.join(dir, `.${t}.parquet.tmp`);
    fs.rmSync(tmp, { force: true });
    const order = t === 'events' || t === 'counters' ? ' ORDER BY ts' : t === 'spans' ? ' ORDER BY start_ts' : '';
    await db.con.run(`COPY (SELECT * FROM ${t}${order}) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
    fs.chmodSync(tmp, 0o600); // the trace's data: the user's own
    fs.renameSync(tmp, file); // whole files only: a reader never sees one half written
    sizes[t] = fs.statSync(file).size;
  }
  return sizes;
}
