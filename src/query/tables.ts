// The query database's tables and views (docs/trace-consume.md "query"
// lists them for users). Times are ns since the epoch (BIGINT, exact),
// durations ns.
//
// `records` holds every record as loaded (rows.ts); the user-facing
// `events` and `counters` are views over it joined with the small tables,
// so loading writes each record once. `spans` is a view pairing each begin
// with its end, made by the queries that read it (the report makes it a
// table once: MATERIALIZE_SPANS).
import { KIND_BEGIN, KIND_COUNTER, KIND_END, KIND_EVENT } from './kinds';

/**
 * read_csv's settings for the row files: tab-separated, no quoting (no
 * column can hold a tab or newline). Its buffer must hold the longest row;
 * 8 MiB buffers let its two threads share a 16 MiB chunk (one buffer per
 * chunk left one thread idle: a 4M-event load took 1.8-2.2 s, 1.4 s after).
 */
export function recordsCsv(longestRow: number): string {
  const buffer = Math.max(8 << 20, longestRow + 2);
  return `delim='\\t', quote='', escape='', header=false, auto_detect=false, ` +
    `max_line_size=${buffer}, buffer_size=${buffer}, columns={'ts': 'BIGINT', 'cpu': 'USMALLINT', ` +
    `'thread': 'UINTEGER', 'class': 'UINTEGER', 'kind': 'UTINYINT', 'span_id': 'UBIGINT', 'parent_id': 'UBIGINT', ` +
    `'depth': 'UINTEGER', 'value': 'DOUBLE', 'fields': 'VARCHAR'}`;
}

export const CREATE_TABLES = [
  `CREATE TABLE records (ts BIGINT, cpu USMALLINT, thread UINTEGER, class UINTEGER, kind UTINYINT,
    span_id UBIGINT, parent_id UBIGINT, depth UINTEGER, value DOUBLE, fields VARCHAR)`,
  `CREATE TABLE classes (id UINTEGER, provider VARCHAR, name VARCHAR, kind VARCHAR, fields JSON)`,
  `CREATE TABLE processes (pid UINTEGER, name VARCHAR)`,
  `CREATE TABLE threads (id UINTEGER, pid UINTEGER, tid UINTEGER, name VARCHAR)`,
  `CREATE TABLE lost (cpu USMALLINT, start_ts BIGINT, end_ts BIGINT, events UBIGINT)`,
];

/** Made once the records are in. */
export const CREATE_DERIVED = [
  `CREATE VIEW events AS
    SELECT r.ts, r.cpu, t.pid, t.tid, t.name AS thread, c.provider, c.name, c.kind, r.span_id, r.parent_id,
      r.value, r.fields::JSON AS fields
    FROM records r JOIN classes c ON c.id = r.class JOIN threads t ON t.id = r.thread`,
  `CREATE VIEW counters AS
    SELECT r.ts, t.pid, t.tid, c.provider, c.name, r.value
    FROM records r JOIN classes c ON c.id = r.class JOIN threads t ON t.id = r.thread WHERE r.kind = ${KIND_COUNTER}`,
  // A view: made by the queries that read it (a hash join of begins and ends: ~0.2 s per million spans).
  // Events about a span (a span_id first: auto mode's response status and size) join its end_fields.
  `CREATE VIEW spans AS
    WITH ends AS (SELECT t.pid, e.span_id, e.ts, e.fields FROM records e JOIN threads t ON t.id = e.thread
      WHERE e.kind = ${KIND_END}),
    about AS (SELECT t.pid, a.span_id, list_reduce(list(a.fields::JSON ORDER BY a.ts),
        (x, y) -> json_merge_patch(x, y)) AS fields
      FROM records a JOIN threads t ON t.id = a.thread
      WHERE a.kind = ${KIND_EVENT} AND a.span_id IS NOT NULL AND a.fields IS NOT NULL GROUP BY ALL)
    SELECT b.span_id AS id, b.parent_id AS parent, t.pid, t.tid, t.name AS thread, c.provider,
      CASE WHEN c.provider = 'otel' AND c.name = 'span' THEN coalesce(b.fields->>'span_name', c.name)
        ELSE c.name END AS name,
      b.ts AS start_ts, e.ts AS end_ts, e.ts - b.ts AS dur, b.depth, b.fields::JSON AS fields,
      CASE WHEN a.fields IS NULL THEN e.fields::JSON WHEN e.fields IS NULL THEN a.fields
        ELSE json_merge_patch(e.fields::JSON, a.fields) END AS end_fields
    FROM records b JOIN classes c ON c.id = b.class JOIN threads t ON t.id = b.thread
      LEFT JOIN ends e ON e.pid = t.pid AND e.span_id = b.span_id
      LEFT JOIN about a ON a.pid = t.pid AND a.span_id = b.span_id
    WHERE b.kind = ${KIND_BEGIN}`,
];

/**
 * spans as a table: for readers that run many queries on it (the report),
 * which would each pair begins and ends again through the view.
 */
export const MATERIALIZE_SPANS = [
  'CREATE TABLE spans_made AS SELECT * FROM spans',
  'DROP VIEW spans',
  'ALTER TABLE spans_made RENAME TO spans',
];

/** What `query` without SQL, and --help, show. */
export const TABLE_DOCS: [string, string][] = [
  ['events', 'ts, cpu, pid, tid, thread, provider, name, kind, span_id, parent_id, value, fields (JSON)'],
  ['spans', 'id, parent, pid, tid, thread, provider, name, start_ts, end_ts, dur, depth, fields, end_fields'],
  ['counters', 'ts, pid, tid, provider, name, value'],
  ['processes', 'pid, name'],
  ['threads', 'id, pid, tid, name'],
  ['lost', 'cpu, start_ts, end_ts, events'],
  ['classes', 'id, provider, name, kind, fields (JSON: their names and types)'],
];
