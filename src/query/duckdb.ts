// The embedded database behind `query`, `report` and Parquet export: DuckDB
// through @duckdb/node-api (its package ships the engine's binary), loaded
// only when one of those runs: tracing and the other commands never load it.
import type * as DuckDB from '@duckdb/node-api';

export type Duck = typeof DuckDB;

let loaded: Duck | undefined;

/** The DuckDB module, or an error saying how to install it (an optional dependency). */
export function duckdb(): Duck {
  if (loaded) return loaded;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require('@duckdb/node-api') as Duck;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code !== 'MODULE_NOT_FOUND') throw new Error(`cannot load the query engine (@duckdb/node-api): ${err.message}`);
    throw new Error('the query engine is not installed: it is the optional dependency @duckdb/node-api ' +
      '(install it with `npm install @duckdb/node-api`)');
  }
  return loaded;
}
