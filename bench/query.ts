// Query benchmark: records a trace of N events of every kind (spans, events
// with 3 ints + a string, counters; `fixtures/emitter.js mixed`), then, in a
// fresh process per run, alternating:
//   ringtrace  loadTrace (src/query/load.ts) into DuckDB, then a span
//              latency query (percentiles per name: the spans view's join)
//   jsonl      what a user could do without it: export JSON lines, then
//              DuckDB's read_json into a table (both steps timed)
//   parquet    `export -f parquet` (load + write every table)
// Prints
//   bench ringtrace query_load events_per_s=… seconds=… peak_rss_mb=…
// and the others' seconds with their ratio to the load.
// Usage: node dist/bench/query.js [--events N] [--rounds R] [--trace DIR (reuse)] [--keep]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { median } from './median';
import { arg, helpOnRequest } from './arg';

helpOnRequest();

const root = path.join(__dirname, '..');
const cli = path.join(root, 'cli', 'trace-consume.js');
const emitter = path.join(root, 'fixtures', 'emitter.js');
const events = Number(arg('--events', '4000000'));
const rounds = Number(arg('--rounds', '3'));
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-bench-query-'));
const given = arg('--trace', '');
const trace = given || path.join(base, 'trace');
const src = JSON.stringify(path.join(root, 'src'));
const T = JSON.stringify(trace);
const SPANS_SQL = 'SELECT name, count(*), median(dur), quantile_cont(dur, 0.99), max(dur) FROM spans GROUP BY name';

// Each case prints {"s": {step: seconds}, "rss": KiB} from its own process.
const cases: Record<string, string> = {
  ringtrace: `const { loadTrace } = require(${src} + '/query/load');
    (async () => { let t = process.hrtime.bigint(); const s = {};
      const lap = (k) => { const n = process.hrtime.bigint(); s[k] = Number(n - t) / 1e9; t = n; };
      const db = await loadTrace(${T}); lap('load');
      await db.con.runAndReadAll(${JSON.stringify(SPANS_SQL)}); lap('spans_query');
      db.close(); console.log(JSON.stringify({ s, rss: process.resourceUsage().maxRSS })); })();`,
  jsonl: `const { runExport } = require(${src} + '/export/export');
    const { DuckDBInstance } = require('@duckdb/node-api');
    (async () => { let t = process.hrtime.bigint(); const s = {};
      const lap = (k) => { const n = process.hrtime.bigint(); s[k] = Number(n - t) / 1e9; t = n; };
      const out = ${JSON.stringify(path.join(base, 'events.jsonl'))};
      runExport(${T}, { format: 'jsonl', output: out }); lap('export_jsonl');
      const db = await DuckDBInstance.create(':memory:'); const con = await db.connect();
      await con.run("CREATE TABLE events AS SELECT * FROM read_json('" + out + "', format='newline_delimited', " +
        "columns={timestamp_ns: 'VARCHAR', cpu: 'USMALLINT', pid: 'UINTEGER', tid: 'UINTEGER', provider: 'VARCHAR', " +
        "event: 'VARCHAR', kind: 'VARCHAR', fields: 'JSON'})"); lap('read_json');
      require('fs').rmSync(out); console.log(JSON.stringify({ s, rss: process.resourceUsage().maxRSS })); })();`,
  parquet: `const t = process.hrtime.bigint(); process.argv = [process.argv[0], ${JSON.stringify(cli)}, 'export', ${T},
    '-q', '-f', 'parquet', '-o', ${JSON.stringify(path.join(base, 'parquet'))}];
    process.on('exit', () => console.log(JSON.stringify({ s: { export_parquet: Number(process.hrtime.bigint() - t) / 1e9 },
      rss: process.resourceUsage().maxRSS }))); require(${JSON.stringify(cli)});`,
};

try {
  if (!given) {
    const rec = spawnSync(process.execPath, [cli, 'record', '-q', '-o', trace, '--subbuffers', '32', '--',
      process.execPath, emitter, 'mixed', String(events), '3000000'], { encoding: 'utf8' });
    if (rec.status !== 0) throw new Error(`record failed: ${rec.stderr}`);
    spawnSync('sync'); // the fresh trace's write-back would compete with the first run
  }
  const st = JSON.parse(spawnSync(process.execPath, [cli, 'stats', trace, '--json'], { encoding: 'utf8' }).stdout) as
    { events: number; lost: number; bytes: number };
  const clock = fs.readFileSync('/sys/devices/system/clocksource/clocksource0/current_clocksource', 'utf8').trim();
  console.log(`# trace: ${st.events} events (${st.lost} lost), ${(st.bytes / 1e6).toFixed(0)} MB; ` +
    `${os.cpus().length} CPUs, clocksource ${clock}, Node ${process.version}`);
  const steps: Record<string, number[]> = {};
  const rss: Record<string, number> = {};
  for (let r = 0; r < rounds; r++) {
    const order = Object.keys(cases);
    if (r % 2) order.reverse();
    for (const name of order) {
      const p = spawnSync(process.execPath, ['-e', cases[name]!], { encoding: 'utf8', cwd: root });
      if (p.status !== 0) throw new Error(`${name} failed: ${p.stderr}`);
      const m = JSON.parse(p.stdout.trim().split('\n').pop()!) as { s: Record<string, number>; rss: number };
      for (const [k, v] of Object.entries(m.s)) (steps[k] ??= []).push(v);
      rss[name] = Math.max(rss[name] ?? 0, m.rss / 1024);
      console.log(`# round ${r + 1} ${name}: ${Object.entries(m.s).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ')}`);
    }
  }
  const load = median(steps['load']!);
  console.log(`bench ringtrace query_load events_per_s=${(st.events / load).toFixed(0)} seconds=${load.toFixed(2)} ` +
    `peak_rss_mb=${rss['ringtrace']!.toFixed(0)}`);
  const jsonl = median(steps['export_jsonl']!) + median(steps['read_json']!);
  console.log(`bench ringtrace query_spans_percentiles seconds=${median(steps['spans_query']!).toFixed(2)}`);
  console.log(`bench jsonl_then_read_json events_per_s=${(st.events / jsonl).toFixed(0)} seconds=${jsonl.toFixed(2)} ` +
    `ratio_to_load=${(jsonl / load).toFixed(2)} peak_rss_mb=${rss['jsonl']!.toFixed(0)}`);
  const pq = median(steps['export_parquet']!);
  console.log(`bench ringtrace export_parquet events_per_s=${(st.events / pq).toFixed(0)} seconds=${pq.toFixed(2)} ` +
    `peak_rss_mb=${rss['parquet']!.toFixed(0)}`);
} finally {
  if (process.argv.includes('--keep')) console.log(`# kept ${trace}`);
  else fs.rmSync(base, { recursive: true, force: true });
}
