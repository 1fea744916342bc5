// Every number `trace-consume report` shows, as SQL over the query database
// (src/query/tables.ts): the same tables `trace-consume query` answers from,
// so each figure can be checked there. Only the public tables and views are
// read. Caps are here, and what they leave out is counted.
import type { DuckDBConnection } from '@duckdb/node-api';
import type { TraceDb } from '../query/load';
import { jsonOf } from '../query/format';
import { MATERIALIZE_SPANS } from '../query/tables';
import type { CounterSeries, GcKindRow, GcPause, LatencyRow, LostCpuRow, LoopSummaryRow, RateSeries, ReportData,
  ReportLimits, SlowTree, SpanRow, TimelineThread, TraceInfo } from './model';

export const DEFAULT_LIMITS: ReportLimits = { slowest: 20, maxSpans: 20_000 };
/** Span names in the latency table (most total time first). */
export const LATENCY_NAMES = 200;
/** Descendants listed under each of the slowest spans (earliest first). */
export const CHILDREN_PER_TREE = 200;
/** Characters of a span's fields JSON kept (the page's hover, the text summary). */
export const FIELDS_CHARS = 300;
/** Classes drawn one by one in the rates chart; the rest are summed as "other". */
export const RATE_CLASSES = 12;
/** About this many time buckets across the trace (rates, losses). */
export const TIME_BUCKETS = 120;
/** GC pauses drawn (the longest); all of them are in the per-kind table. */
export const GC_PAUSES = 5000;

export const LOOP_COUNTERS = ['loop_delay_p50_ms', 'loop_delay_p99_ms', 'loop_delay_max_ms', 'loop_utilization'];
export const MEMORY_COUNTERS = ['heap_used_bytes', 'rss_bytes'];

type Row = Record<string, unknown>;

async function rows(con: DuckDBConnection, sql: string): Promise<Row[]> {
  const r = await con.runAndReadAll(sql);
  // (as query --json has them: 64-bit integers as numbers when exact, else decimal strings; decimals as numbers)
  return r.getRowObjects().map((o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, jsonOf(v, false)])));
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** A bucket width of 1, 2 or 5 × 10^k ns (at least 1 µs) giving about `buckets` buckets over `span` ns. */
export function niceBucket(spanNs: number, buckets = TIME_BUCKETS): number {
  const raw = Math.max(spanNs / buckets, 1000);
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

/** A cut JSON column as text: at most FIELDS_CHARS characters, "…" when cut. */
const cutJson = (col: string) => `CASE WHEN length(${col}::VARCHAR) > ${FIELDS_CHARS} ` +
  `THEN left(${col}::VARCHAR, ${FIELDS_CHARS - 1}) || '…' ELSE ${col}::VARCHAR END`;

/** A span's columns as SpanRow has them; `start` relative to `startNs`. */
export const spanColumns = (startNs: string, t = '') => `${t}pid, ${t}tid, ${t}id::VARCHAR AS id, ` +
  `${t}parent::VARCHAR AS parent, ${t}thread, ${t}provider, ${t}name, ${t}start_ts - ${startNs} AS start, ${t}dur, ` +
  `${t}depth, ${cutJson(`${t}fields`)} AS fields, ${cutJson(`${t}end_fields`)} AS end_fields`;

function spanRow(r: Row): SpanRow {
  return { pid: num(r['pid']), tid: num(r['tid']), id: String(r['id']), parent: r['parent'] as string | null,
    thread: String(r['thread']), provider: String(r['provider']), name: String(r['name']), start: num(r['start']),
    dur: numOrNull(r['dur']), depth: num(r['depth']), fields: r['fields'] as string | null,
    endFields: r['end_fields'] as string | null };
}

/** Per span name: finished spans, those never ended, percentiles (interpolated) and max of the finished. */
export const LATENCY_SQL = `SELECT provider, name, count(dur) AS count, count(*) - count(dur) AS open,
    quantile_cont(dur, 0.5) AS p50, quantile_cont(dur, 0.9) AS p90, quantile_cont(dur, 0.99) AS p99,
    max(dur) AS max, sum(dur) AS total
  FROM spans GROUP BY provider, name ORDER BY total DESC NULLS LAST, count DESC, provider, name LIMIT ${LATENCY_NAMES}`;

/** Log-scale buckets: two per power of two (each √2 wide). */
export const HISTOGRAM_SQL = `SELECT provider, name, floor(log2(greatest(dur, 1)) * 2)::INTEGER AS bucket,
    count(*) AS n
  FROM spans WHERE dur IS NOT NULL GROUP BY ALL ORDER BY provider, name, bucket`;

/**
 * The `limit` slowest finished spans (ties: earliest first), each with its
 * descendants, earliest first, and their level below it (on equal starts the
 * lower level first: a child that starts with its parent is listed after it).
 */
export function slowestSql(limit: number, startNs: string): string {
  return `WITH RECURSIVE slow AS (SELECT pid, id, row_number() OVER (ORDER BY dur DESC, start_ts, pid, id) AS rank
      FROM spans WHERE dur IS NOT NULL ORDER BY rank LIMIT ${limit}),
    tree AS (SELECT rank, pid, id, 0 AS level FROM slow
      UNION ALL
      SELECT t.rank, c.pid, c.id, t.level + 1 FROM tree t JOIN spans c ON c.pid = t.pid AND c.parent = t.id
      WHERE t.level < 1000),
    numbered AS (SELECT t.rank, t.level, s.*, row_number() OVER (PARTITION BY t.rank
        ORDER BY t.level = 0 DESC, s.start_ts, t.level, s.id) - 1 AS nth, count(*) OVER (PARTITION BY t.rank) - 1 AS descendants
      FROM tree t JOIN spans s ON s.pid = t.pid AND s.id = t.id)
    SELECT rank, nth, descendants, level, ${spanColumns(startNs)} FROM numbered
    WHERE nth <= ${CHILDREN_PER_TREE} ORDER BY rank, nth`;
}

/** The timeline's spans: the longest (a span never ended lasts to the trace's end). */
export function timelineSql(limit: number, startNs: string, endNs: string): string {
  return `SELECT ${spanColumns(startNs)} FROM spans
    ORDER BY coalesce(dur, ${endNs} - start_ts) DESC, start_ts, pid, id LIMIT ${limit}`;
}

/** Records per class and time bucket (a span once, at its begin), with each class's rank by total. */
export function ratesSql(startNs: string, bucketNs: number): string {
  return `WITH r AS (SELECT provider, name, (ts - ${startNs}) // ${bucketNs} AS bucket FROM events
      WHERE kind <> 'span_end'),
    totals AS (SELECT provider, name, count(*) AS total,
      row_number() OVER (ORDER BY count(*) DESC, provider, name) AS rank FROM r GROUP BY provider, name)
    SELECT t.rank, t.provider, t.name, t.total, r.bucket, count(*) AS n FROM r JOIN totals t USING (provider, name)
    GROUP BY ALL ORDER BY t.rank, r.bucket`;
}

/** GC pauses (auto mode's node.runtime:gc): when each began (the record is later by ago_ms) and how long. */
export function gcSql(startNs: string): string {
  return `SELECT pid, tid, ts - ${startNs} - round(coalesce(TRY_CAST(fields->>'ago_ms' AS DOUBLE), 0) * 1e6)::BIGINT
      AS start, coalesce(fields->>'kind', '?') AS kind, TRY_CAST(fields->>'duration_ms' AS DOUBLE) AS ms
    FROM events WHERE provider = 'node.runtime' AND name = 'gc' AND kind = 'event'`;
}

export const gcKindsSql = (startNs: string) => `SELECT kind, count(*) AS count, sum(ms) AS total_ms,
    quantile_cont(ms, 0.5) AS p50_ms, max(ms) AS max_ms
  FROM (${gcSql(startNs)}) GROUP BY kind ORDER BY total_ms DESC NULLS LAST, kind`;

const threadNames = 'LEFT JOIN (SELECT pid, tid, any_value(name) AS thread FROM threads GROUP BY pid, tid) USING (pid, tid)';
const inList = (names: string[]) => names.map((n) => `'${n}'`).join(', ');

export function countersSql(names: string[], startNs: string): string {
  return `SELECT pid, tid, coalesce(thread, 'thread ' || tid) AS thread, name, ts - ${startNs} AS t, value
    FROM counters ${threadNames} WHERE provider = 'node.runtime' AND name IN (${inList(names)})
    ORDER BY pid, tid, name, ts`;
}

/** Per thread: intervals sampled, mean p50, worst p99 and max delay (ms), mean loop utilization. */
export const LOOP_SUMMARY_SQL = `SELECT pid, tid, coalesce(thread, 'thread ' || tid) AS thread,
    count(*) FILTER (WHERE name = 'loop_delay_p50_ms') AS samples,
    avg(value) FILTER (WHERE name = 'loop_delay_p50_ms') AS p50_mean_ms,
    max(value) FILTER (WHERE name = 'loop_delay_p99_ms') AS p99_max_ms,
    max(value) FILTER (WHERE name = 'loop_delay_max_ms') AS max_ms,
    avg(value) FILTER (WHERE name = 'loop_utilization') AS utilization_mean
  FROM counters ${threadNames} WHERE provider = 'node.runtime' AND name IN (${inList(LOOP_COUNTERS)})
  GROUP BY ALL ORDER BY pid, tid`;

export const LOST_PER_CPU_SQL = (startNs: string) => `SELECT cpu, sum(events)::BIGINT AS events, count(*) AS packets,
    min(start_ts) - ${startNs} AS first, max(end_ts) - ${startNs} AS last FROM lost GROUP BY cpu ORDER BY cpu`;

export const lostBucketsSql = (startNs: string, bucketNs: number, buckets: number) => `SELECT cpu,
    greatest(0, least(${buckets - 1}, (start_ts - ${startNs}) // ${bucketNs})) AS bucket, sum(events)::BIGINT AS n
  FROM lost GROUP BY ALL ORDER BY cpu, bucket`;

async function traceInfo(db: TraceDb, dir: string): Promise<TraceInfo> {
  const [t] = await rows(db.con, `SELECT coalesce(min(ts), 0)::VARCHAR AS start,
    coalesce(max(ts) - min(ts), 0) AS duration, count(*) AS events FROM events`);
  const [s] = await rows(db.con, 'SELECT count(*) AS n, count(*) - count(dur) AS open FROM spans');
  const processes = await rows(db.con, 'SELECT pid, name FROM processes ORDER BY pid');
  const [th] = await rows(db.con, 'SELECT count(*) AS n FROM threads');
  const [lost] = await rows(db.con, 'SELECT coalesce(sum(events), 0)::BIGINT AS n FROM lost');
  return { dir, startNs: String(t!['start']), durationNs: num(t!['duration']), events: num(t!['events']),
    spans: num(s!['n']), openSpans: num(s!['open']), processes: processes.map((p) => ({ pid: num(p['pid']),
      name: String(p['name']) })), threads: num(th!['n']), lostEvents: num(lost!['n']), errors: db.summary.errors };
}

async function latency(con: DuckDBConnection): Promise<ReportData['latency']> {
  const hist = new Map<string, [number, number][]>();
  for (const h of await rows(con, HISTOGRAM_SQL)) {
    const key = JSON.stringify([h['provider'], h['name']]);
    if (!hist.has(key)) hist.set(key, []);
    hist.get(key)!.push([num(h['bucket']), num(h['n'])]);
  }
  const latencyRows: LatencyRow[] = (await rows(con, LATENCY_SQL)).map((r) => ({
    provider: String(r['provider']), name: String(r['name']), count: num(r['count']), open: num(r['open']),
    p50: numOrNull(r['p50']), p90: numOrNull(r['p90']), p99: numOrNull(r['p99']), max: numOrNull(r['max']),
    total: numOrNull(r['total']), histogram: hist.get(JSON.stringify([r['provider'], r['name']])) ?? [],
  }));
  const [n] = await rows(con, 'SELECT count(*) AS n FROM (SELECT DISTINCT provider, name FROM spans)');
  return { rows: latencyRows, names: num(n!['n']) };
}

async function slowest(con: DuckDBConnection, limit: number, startNs: string): Promise<SlowTree[]> {
  const trees: SlowTree[] = [];
  for (const r of await rows(con, slowestSql(limit, startNs))) {
    if (num(r['nth']) === 0) {
      trees.push({ root: spanRow(r), children: [], moreChildren: Math.max(0, num(r['descendants']) - CHILDREN_PER_TREE) });
    } else {
      trees[trees.length - 1]!.children.push({ ...spanRow(r), level: num(r['level']) });
    }
  }
  return trees;
}

async function timeline(con: DuckDBConnection, info: TraceInfo, maxSpans: number, trees: SlowTree[]):
  Promise<ReportData['timeline']> {
  const endNs = (BigInt(info.startNs) + BigInt(info.durationNs)).toString();
  const spans = (await rows(con, timelineSql(maxSpans, info.startNs, endNs))).map(spanRow);
  const seen = new Set(spans.map((s) => `${s.pid}:${s.id}`));
  for (const t of trees) {
    for (const s of [t.root, ...t.children]) {
      if (!seen.has(`${s.pid}:${s.id}`)) {
        seen.add(`${s.pid}:${s.id}`);
        spans.push(s);
      }
    }
  }
  const withSpans = new Set(spans.map((s) => `${s.pid}:${s.tid}`));
  const threads: TimelineThread[] = (await rows(con, `SELECT t.pid, t.tid, t.name AS thread,
      coalesce(p.name, 'process') AS process FROM threads t LEFT JOIN processes p USING (pid) ORDER BY t.pid, t.tid`))
    .filter((t) => withSpans.has(`${t['pid']}:${t['tid']}`))
    .map((t) => ({ pid: num(t['pid']), tid: num(t['tid']), thread: String(t['thread']), process: String(t['process']) }));
  return { threads, spans: spans.sort((a, b) => a.start - b.start), total: info.spans };
}

async function rates(con: DuckDBConnection, info: TraceInfo): Promise<ReportData['rates']> {
  const bucketNs = niceBucket(info.durationNs);
  const buckets = Math.floor(info.durationNs / bucketNs) + 1;
  const series: RateSeries[] = [];
  let other: RateSeries | null = null;
  let classes = 0;
  for (const r of await rows(con, ratesSql(info.startNs, bucketNs))) {
    const rank = num(r['rank']);
    classes = Math.max(classes, rank);
    let s: RateSeries;
    if (rank <= RATE_CLASSES) {
      if (series.length < rank) series.push({ provider: String(r['provider']), name: String(r['name']),
        total: num(r['total']), counts: new Array<number>(buckets).fill(0) });
      s = series[rank - 1]!;
    } else {
      other ??= { provider: '', name: 'other', total: 0, counts: new Array<number>(buckets).fill(0) };
      s = other;
      s.total += num(r['n']);
    }
    s.counts[Math.min(buckets - 1, num(r['bucket']))]! += num(r['n']);
  }
  return { bucketNs, buckets, classes, series, other };
}

async function gc(con: DuckDBConnection, startNs: string): Promise<ReportData['gc']> {
  const byKind: GcKindRow[] = (await rows(con, gcKindsSql(startNs))).map((k) => ({ kind: String(k['kind']),
    count: num(k['count']), totalMs: num(k['total_ms'] ?? 0), p50Ms: num(k['p50_ms'] ?? 0), maxMs: num(k['max_ms'] ?? 0) }));
  const total = byKind.reduce((n, k) => n + k.count, 0); // every pause has a kind ('?' when unnamed)
  if (total === 0) return null;
  const pauses: GcPause[] = (await rows(con, `${gcSql(startNs)} ORDER BY ms DESC NULLS LAST, start LIMIT ${GC_PAUSES}`))
    .map((p) => ({ pid: num(p['pid']), tid: num(p['tid']), start: num(p['start']), kind: String(p['kind']),
      ms: num(p['ms'] ?? 0) }))
    .sort((a, b) => a.start - b.start);
  return { pauses, total, byKind };
}

async function counterSeries(con: DuckDBConnection, names: string[], startNs: string): Promise<CounterSeries[]> {
  const series: CounterSeries[] = [];
  for (const r of await rows(con, countersSql(names, startNs))) {
    const last = series[series.length - 1];
    const point: [number, number] = [num(r['t']), num(r['value'])];
    if (last && last.pid === r['pid'] && last.tid === r['tid'] && last.name === r['name']) {
      last.points.push(point);
    } else {
      series.push({ pid: num(r['pid']), tid: num(r['tid']), thread: String(r['thread']), name: String(r['name']),
        points: [point] });
    }
  }
  return series;
}

async function loop(con: DuckDBConnection, startNs: string): Promise<ReportData['loop']> {
  const series = await counterSeries(con, LOOP_COUNTERS, startNs);
  if (series.length === 0) return null;
  const summary: LoopSummaryRow[] = (await rows(con, LOOP_SUMMARY_SQL)).map((r) => ({ pid: num(r['pid']),
    tid: num(r['tid']), thread: String(r['thread']), samples: num(r['samples']), p50MeanMs: numOrNull(r['p50_mean_ms']),
    p99MaxMs: numOrNull(r['p99_max_ms']), maxMs: numOrNull(r['max_ms']), utilizationMean: numOrNull(r['utilization_mean']) }));
  return { summary, series };
}

async function lost(con: DuckDBConnection, info: TraceInfo): Promise<ReportData['lost']> {
  const perCpu: LostCpuRow[] = (await rows(con, LOST_PER_CPU_SQL(info.startNs))).map((r) => ({ cpu: num(r['cpu']),
    events: num(r['events']), packets: num(r['packets']), first: num(r['first']), last: num(r['last']) }));
  const bucketNs = niceBucket(info.durationNs);
  const buckets = Math.floor(info.durationNs / bucketNs) + 1;
  const counts: { cpu: number; counts: number[] }[] = [];
  for (const r of await rows(con, lostBucketsSql(info.startNs, bucketNs, buckets))) {
    if (counts[counts.length - 1]?.cpu !== r['cpu']) counts.push({ cpu: num(r['cpu']), counts: new Array<number>(buckets).fill(0) });
    counts[counts.length - 1]!.counts[num(r['bucket'])] = num(r['n']);
  }
  return { perCpu, bucketNs, buckets, counts };
}

/** Everything the report shows, from the loaded trace; `spans` becomes a table first (every section reads it). */
export async function reportData(db: TraceDb, dir: string, limits: ReportLimits = DEFAULT_LIMITS): Promise<ReportData> {
  for (const sql of MATERIALIZE_SPANS) await db.con.run(sql);
  const info = await traceInfo(db, dir);
  const trees = await slowest(db.con, limits.slowest, info.startNs);
  const memory = await counterSeries(db.con, MEMORY_COUNTERS, info.startNs);
  return {
    trace: info,
    limits,
    latency: await latency(db.con),
    slowest: trees,
    timeline: await timeline(db.con, info, limits.maxSpans, trees),
    rates: await rates(db.con, info),
    gc: await gc(db.con, info.startNs),
    loop: await loop(db.con, info.startNs),
    memory: memory.length ? { series: memory } : null,
    lost: await lost(db.con, info),
  };
}
