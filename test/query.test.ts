// `trace-consume query`: a trace loaded into the embedded database must hold
// exactly what the trace holds. Every event's time, place, class and fields
// are compared with the JSON lines export (the reference formatter) on
// awkward values; spans, their depth and parents, counters, threads, lost
// events and damaged streams are checked against what the apps did; the
// output formats and errors are checked through the CLI.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { queryJson, scratchDir, traceConsume as tc } from '../fixtures/cli-helpers';
import { emitterPath } from '../fixtures/trace-helpers';
import { loadTrace } from '../src/query/load';
import { recordsCsv } from '../src/query/tables';

const work = scratchDir('query');
const trace = (name: string, ...args: string[]): string => {
  const out = path.join(work, name);
  const r = tc('record', '-q', '-o', out, ...args);
  assert.equal(r.status, 0, r.stderr);
  return out;
};
let awkward = '';
let timeline = '';
let app = '';
let auto = '';
test.before(() => {
  awkward = trace('awkward', '--', process.execPath, emitterPath, 'awkward');
  timeline = trace('timeline', '--', process.execPath, emitterPath, 'timeline');
  app = trace('app', '--', process.execPath, path.join(__dirname, '..', 'fixtures', 'query-app.js'));
  auto = trace('auto', '--auto', '--', process.execPath, path.join(__dirname, '..', 'fixtures', 'auto-app.js'), 'plain');
});

/**
 * Events as `view --json` (the reference formatter) has them, in the
 * database's shape: span ids and a counter's value in columns of their own;
 * a span's `args` JSON (span(name, fields)) as its fields; no fields: null.
 */
function reference(dir: string): string[] {
  const r = tc('view', dir, '--json');
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').map((l) => {
    const e = JSON.parse(l) as { timestamp_ns: string; cpu: number; pid: number; tid: number; provider: string;
      event: string; kind: string; fields: Record<string, unknown> };
    let rest: Record<string, unknown> = { ...e.fields };
    let spanId = null;
    let parentId = null;
    let value = null;
    if (e.kind === 'span_begin' || e.kind === 'span_end') {
      spanId = rest['span_id'];
      if (e.kind === 'span_begin' && rest['parent_id'] !== 0) parentId = rest['parent_id'];
      delete rest['span_id'];
      delete rest['parent_id'];
      const keys = Object.keys(rest);
      // (a lone surrogate becomes U+FFFD: DuckDB's JSON reader refuses one)
      if (keys.length === 1 && keys[0] === 'args') {
        rest = rest['args'] === '' ? {} : JSON.parse((rest['args'] as string).replace(/\\ud800/g, '\\ufffd'));
      }
    } else if (e.kind === 'counter') {
      value = rest['value'];
      delete rest['value'];
    } else if (Object.keys(rest)[0] === 'span_id') { // an event about a span (auto mode's responses)
      spanId = rest['span_id'];
      delete rest['span_id'];
    }
    return JSON.stringify([e.timestamp_ns, e.cpu, e.pid, e.tid, e.provider, e.event, e.kind, spanId, parentId, value,
      Object.keys(rest).length ? rest : null]);
  }).sort();
}

test('every event of the trace, with every field type and awkward value, as the JSON lines export has it', () => {
  for (const dir of [awkward, timeline, app, auto]) {
    const rows = queryJson(dir, 'SELECT ts::VARCHAR AS ts, cpu, pid, tid, provider, name, kind, span_id, parent_id, ' +
      'value, fields FROM events').map((r) => JSON.stringify([r['ts'], r['cpu'], r['pid'], r['tid'], r['provider'],
      r['name'], r['kind'], r['span_id'], r['parent_id'], r['value'], r['fields']]));
    assert.ok(rows.length > 20, `${dir}: events loaded`);
    assert.deepEqual(rows.sort(), reference(dir));
  }
});

test('spans: depth and parent however they arise, durations, fields, and the events inside them', () => {
  const spans = queryJson(app, `SELECT s.name, s.depth, p.name AS parent_name, s.dur, s.end_ts - s.start_ts AS d,
    s.start_ts > p.end_ts AS after_parent FROM spans s LEFT JOIN spans p ON p.id = s.parent AND p.pid = s.pid`);
  const byName = (n: string) => spans.filter((s) => s['name'] === n);
  const expected: [string, number, string | null][] = [['outer', 0, null], ['inner', 1, 'outer'], ['leaf', 2, 'inner'],
    ['holder', 0, null], ['parent', 1, 'holder'], ['late', 2, 'parent'], ['grandchild', 3, 'late']];
  for (const [name, depth, parent] of expected) {
    assert.equal(byName(name).length, 1, name);
    assert.equal(byName(name)[0]!['depth'], depth, `${name}: depth`);
    assert.equal(byName(name)[0]!['parent_name'], parent, `${name}: parent`);
  }
  assert.equal(byName('late')[0]!['after_parent'], true, 'the late child begins after its parent ended');
  assert.equal(byName('item').length, 300);
  for (const s of spans) {
    assert.equal(s['dur'], s['d'], 'dur = end - start');
    assert.ok((s['dur'] as number) > 0);
  }
  const [inside] = queryJson(app, `SELECT count(*) AS n FROM events e JOIN spans s ON s.name = 'item'
    AND e.ts BETWEEN s.start_ts AND s.end_ts AND (e.fields->>'n')::INT = (s.fields->>'n')::INT WHERE e.name = 'note'`);
  assert.equal(inside!['n'], 300, 'each note inside its item span, matched by its typed field');
  const paths = queryJson(app, `SELECT fields->>'path' AS path, count(*) AS n FROM spans WHERE name = 'item'
    GROUP BY ALL ORDER BY path`);
  assert.deepEqual(paths.map((p) => p['path']), Array.from({ length: 7 }, (_, i) => `/items/${i}`));
  assert.equal(paths.reduce((n, p) => n + (p['n'] as number), 0), 300);
  const [odd] = queryJson(app, "SELECT fields, end_fields, fields->>'s' AS s FROM spans WHERE name = 'odd'");
  assert.deepEqual(odd, { fields: { s: 'lone \ufffd é', nested: { list: [1, 'two', { three: null }] }, esc: 'a"b\\c\n' },
    end_fields: { ok: true }, s: 'lone \ufffd é' });
});

test('an unmodified app in auto mode: each request span ends with its response status and size', () => {
  const spans = queryJson(auto, `SELECT name, fields->>'path' AS path, end_fields FROM spans ORDER BY start_ts`);
  const server = spans.filter((s) => s['name'] === 'server');
  assert.deepEqual(server.map((s) => [s['path'], (s['end_fields'] as { status: number }).status]),
    [['/items/1', 200], ['/missing', 404], ['/items/2', 200]]);
  assert.ok(server.every((s) => typeof (s['end_fields'] as { size: number }).size === 'number'));
  const client = spans.filter((s) => s['name'] === 'client');
  assert.deepEqual(client.map((s) => (s['end_fields'] as { status: number }).status), [200, 404]);
  const [slow] = queryJson(auto, `SELECT count(*) AS n FROM spans WHERE (end_fields->>'status')::INT >= 400`);
  assert.equal(slow!['n'], 2, 'the failed request as server and client span');
});

test('unfinished spans, threads of workers, processes and counters', () => {
  const unfinished = queryJson(timeline, 'SELECT name, depth FROM spans WHERE end_ts IS NULL ORDER BY name');
  assert.deepEqual(unfinished, [{ name: 'forgotten', depth: 1 }, { name: 'never', depth: 0 }]);
  const work = queryJson(timeline, "SELECT thread, tid <> pid AS worker FROM spans WHERE name = 'work'");
  assert.deepEqual(work, [{ thread: 'worker 1', worker: true }]);
  const threads = queryJson(timeline, 'SELECT t.name, p.name AS process FROM threads t JOIN processes p USING (pid) ORDER BY t.name');
  assert.deepEqual(threads.map((t) => t['name']), ['main', 'worker 1']);
  assert.match(String(threads[0]!['process']), /emitter/);
  const gauge = queryJson(timeline, "SELECT value FROM counters WHERE name = 'gauge' ORDER BY ts");
  assert.deepEqual(gauge.map((g) => g['value']), [1, 2.5, 3]);
});

test('lost events: per CPU and interval, as many as the trace counts', () => {
  const lossy = trace('lossy', '--subbuffer-size', '4K', '--subbuffers', '2', '--', process.execPath, emitterPath,
    'count', '200000', 'x');
  const stats = JSON.parse(tc('stats', lossy, '--json').stdout) as { events: number; lost: number;
    perCpu: Record<string, { lost: number }> };
  assert.ok(stats.lost > 0, 'tiny rings overflow');
  const perCpu = queryJson(lossy, 'SELECT cpu, sum(events) AS lost, bool_and(start_ts <= end_ts) AS ordered ' +
    'FROM lost GROUP BY cpu ORDER BY cpu');
  assert.deepEqual(Object.fromEntries(perCpu.map((c) => [`cpu${c['cpu']}`, c['lost']])),
    Object.fromEntries(Object.entries(stats.perCpu).filter(([, c]) => c.lost > 0).map(([k, c]) => [k, c.lost])));
  assert.ok(perCpu.every((c) => c['ordered'] === true));
  const r = tc('query', lossy, "SELECT count(*) AS n FROM events WHERE name = 'tick'", '--csv');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(Number(r.stdout.split('\n')[1]) + stats.lost, 200000, 'loaded + lost = emitted');
  assert.match(r.stderr, new RegExp(`note: ${stats.lost} events were lost while recording`));
});

test('a damaged stream: everything before the damage is loaded, the damage is reported, exit 1', () => {
  const dir = path.join(work, 'damaged');
  fs.cpSync(app, dir, { recursive: true });
  const stream = fs.readdirSync(dir).filter((f) => f.startsWith('stream_')).sort((a, b) =>
    fs.statSync(path.join(dir, b)).size - fs.statSync(path.join(dir, a)).size)[0]!;
  const file = path.join(dir, stream);
  fs.truncateSync(file, fs.statSync(file).size - 100);
  const view = tc('view', dir, '--json');
  assert.equal(view.status, 1);
  const r = tc('query', dir, 'SELECT count(*) AS n FROM events', '--csv');
  assert.equal(r.status, 1);
  assert.equal(Number(r.stdout.split('\n')[1]), view.stdout.trim().split('\n').length, 'as many events as view shows');
  assert.match(r.stderr, new RegExp(`warning: ${stream}: .*everything before it is loaded`));
});

test('output as a table, CSV and JSON lines; without SQL, the tables', () => {
  let r = tc('query', awkward, "SELECT fields->>'s' AS s, fields->>'n' AS n FROM events ORDER BY ts LIMIT 3");
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0]!, /^s +n$/);
  assert.match(lines[1]!, /^-+ +-+$/);
  assert.match(r.stdout, /\(3 rows\)\n$/);
  // A table goes to a terminal: a string's control characters are shown, never sent as they are
  r = tc('query', awkward, "SELECT fields->>'s' AS s FROM events");
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /[\u0000-\u0009\u000b-\u001f\u007f]/, 'no control character but line ends');
  assert.match(r.stdout, /tab new line\\u0001\\u001f/);
  // CSV keeps every string whole: quotes, tabs, newlines, non-ASCII (compared with JSON lines)
  const sql = "SELECT fields->>'s' AS s FROM events ORDER BY ts";
  r = tc('query', awkward, sql, '--csv');
  assert.equal(r.status, 0, r.stderr);
  const fromJson = queryJson(awkward, sql).map((x) => x['s']);
  assert.deepEqual(parseCsv(r.stdout).slice(1).map((row) => row[0]), fromJson);
  assert.ok(fromJson.includes('tab\tnew\nline\u0001\u001f') && fromJson.includes('say "hi"'));
  r = tc('query', app);
  assert.equal(r.status, 0, r.stderr);
  for (const t of ['events', 'spans', 'counters', 'processes', 'threads', 'lost', 'classes']) {
    assert.match(r.stdout, new RegExp(`^${t} +\\d+ rows`, 'm'));
  }
  assert.match(r.stdout, /^spans +309 rows/m);
});

test('errors: bad SQL, bad options, not a trace; a closed pipe ends quietly', () => {
  let r = tc('query', app, 'SELECT nope FROM spans');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /query: Binder Error: Referenced column "nope" not found/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  r = tc('query', app, 'SELECT 1', '--csv', '--json');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--csv and --json: choose one/);
  r = tc('query', work, 'SELECT 1');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /not a trace directory/);
  r = tc('query', '--help');
  assert.match(r.stdout, /Examples:/);
  const piped = spawnSync('bash', ['-c', `"${process.execPath}" "${path.join(__dirname,
    '..', 'cli', 'trace-consume.js')}" query "${app}" "SELECT * FROM events" --json | head -c 10 >/dev/null; ` +
    'echo "status ${PIPESTATUS[0]}"'], { encoding: 'utf8' });
  assert.match(piped.stdout, /status 0/);
  assert.equal(piped.stderr, '');
});

test('loading in many small chunks gives the same database', async () => {
  const sql = 'SELECT count(*), sum(ts % 1000003), sum(hash(fields)), sum(depth), count(DISTINCT span_id) FROM records';
  const small = await loadTrace(app, { chunkBytes: 4096 });
  const whole = await loadTrace(app);
  try {
    const a = (await small.con.runAndReadAll(sql)).getRowsJson();
    const b = (await whole.con.runAndReadAll(sql)).getRowsJson();
    assert.deepEqual(a, b);
    assert.equal(small.summary.events, whole.summary.events);
  } finally {
    small.close();
    whole.close();
  }
});

/** RFC 4180 CSV into rows of cells. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (ch === '"') quoted = false; else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(cell); cell = ''; } else if (ch === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; } else cell += ch;
  }
  return rows;
}

test('export -f parquet: every table as a Parquet file holding what query shows', async () => {
  const out = path.join(work, 'parquet');
  const r = tc('export', app, '-f', 'parquet', '-o', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /wrote \d+ events as 7 Parquet tables/);
  assert.equal(fs.statSync(out).mode & 0o777, 0o700);
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    for (const t of ['events', 'spans', 'counters', 'processes', 'threads', 'lost', 'classes']) {
      const file = path.join(out, `${t}.parquet`);
      const bytes = fs.readFileSync(file);
      assert.equal(bytes.subarray(0, 4).toString(), 'PAR1', `${t}: a Parquet file`);
      assert.equal(bytes.subarray(-4).toString(), 'PAR1');
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      const fromFile = (await con.runAndReadAll(`SELECT * FROM read_parquet('${file}')`)).getRowObjectsJson();
      const fromQuery = queryJson(app, `SELECT * FROM ${t}`);
      // The same rows, compared as text: DuckDB's JSON gives 64-bit integers and JSON columns as strings
      const canon = (rows: Record<string, unknown>[]) => rows.map((x) => JSON.stringify(Object.values(x).map((v) =>
        v === null ? null : typeof v === 'object' ? v : typeof v === 'string' && /^[[{]/.test(v) ? JSON.parse(v) : String(v))))
        .sort();
      assert.deepEqual(canon(fromFile as Record<string, unknown>[]), canon(fromQuery), `${t}: same rows`);
      if (t === 'events') assert.ok(fromFile.length > 600);
    }
  } finally {
    con.closeSync();
    db.closeSync();
  }
  fs.symlinkSync(path.join(work, 'elsewhere'), path.join(work, 'link'));
  let e = tc('export', app, '-f', 'parquet', '-o', path.join(work, 'link'));
  assert.equal(e.status, 1);
  assert.match(e.stderr, /symbolic link \(not followed\)/);
  e = tc('export', app, '-f', 'parquet');
  assert.equal(e.status, 2);
  assert.match(e.stderr, /--format parquet needs -o DIR/);
});

test('a row longer than the default read buffer loads: each chunk is read with room for its longest row', async () => {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const file = path.join(work, 'long.tsv');
  const long = `{"s":"${'x'.repeat(9 << 20)}"}`;
  const row = `2\t0\t0\t1\t0\t\t\t\t\t${long}`; // (the loader measures rows without their newline)
  fs.writeFileSync(file, `1\t0\t0\t1\t0\t\t\t\t\t{}\n${row}\n`);
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    await assert.rejects(con.run(`SELECT count(*) FROM read_csv('${file}', ${recordsCsv(0)})`),
      (e: Error) => /Maximum line size/.test(e.message), 'the default buffer is too small for it');
    const r = await con.runAndReadAll(`SELECT max(length(fields)) FROM read_csv('${file}', ${recordsCsv(row.length)})`);
    assert.equal(Number(r.getRows()[0]![0]), long.length);
  } finally {
    con.closeSync();
    db.closeSync();
  }
});
