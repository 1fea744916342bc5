// `trace-consume report`: the numbers it shows (latency per span name, the
// slowest spans and their children, event rates, GC and loop delay, lost
// events) are what `trace-consume query` answers on the same trace, in the
// page's data, in its rendered DOM (headless Chromium, when installed:
// `apt-get install chromium`; .ci/run installs it) and in the text summary.
// Trace strings must not become markup or script; caps are said; output
// files are private and never written through a link.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cliPath, queryJson, scratchDir, traceConsume as tc } from '../fixtures/cli-helpers';
import { HOSTILE_FIELD, HOSTILE_NAME } from '../fixtures/report-app';
import { emitterPath } from '../fixtures/trace-helpers';
import type { ReportData } from '../src/report/model';
import { formatCount, formatDuration } from '../src/report/units';

const hasChromium = spawnSync('chromium', ['--version']).status === 0;
const CHROMIUM_SKIP = hasChromium ? false : 'chromium not installed (apt-get install chromium)';

const work = scratchDir('report');
const fixture = (name: string) => path.join(__dirname, '..', 'fixtures', name);
function record(name: string, args: string[], env: Record<string, string> = {}): string {
  const out = path.join(work, name);
  const r = spawnSync(process.execPath, [cliPath, 'record', '-q', '-o', out, ...args], { encoding: 'utf8',
    env: { ...process.env, ...env } });
  assert.equal(r.status, 0, r.stderr);
  return out;
}
/** `report DIR -o FILE ...`: the page's file. */
function page(dir: string, file: string, ...args: string[]): string {
  const out = path.join(work, file);
  const r = tc('report', dir, '-o', out, ...args);
  assert.equal(r.status, 0, r.stderr);
  return out;
}
/** The data embedded in a page. */
function pageData(file: string): ReportData {
  const m = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(fs.readFileSync(file, 'utf8'));
  assert.ok(m, 'the page holds its data');
  return JSON.parse(m[1]!) as ReportData;
}

let app = '';
let auto = '';
let lossy = '';
test.before(() => {
  app = record('app', ['--', process.execPath, fixture('report-app.js')]);
  auto = record('auto', ['--auto', '--', process.execPath, fixture('auto-app.js'), 'plain'],
    { RINGTRACE_AUTO_INTERVAL_MS: '50' });
  lossy = record('lossy', ['--subbuffer-size', '4K', '--subbuffers', '2', '--', process.execPath, emitterPath,
    'count', '100000', 'x']);
});

/** What query says per span name: finished count, never ended, percentiles, max. */
function latencyByQuery(dir: string): Map<string, Record<string, unknown>> {
  const rows = queryJson(dir, `SELECT CASE WHEN provider = '' THEN name ELSE provider || ':' || name END AS key,
    count(dur) AS count, count(*) FILTER (WHERE dur IS NULL) AS open, quantile_cont(dur, 0.5) AS p50,
    quantile_cont(dur, 0.9) AS p90, quantile_cont(dur, 0.99) AS p99, max(dur) AS max FROM spans GROUP BY ALL`);
  return new Map(rows.map((r) => [String(r['key']), r]));
}
const slowestByQuery = (dir: string, n: number) => queryJson(dir, `SELECT id::VARCHAR AS id, pid, dur FROM spans
  WHERE dur IS NOT NULL ORDER BY dur DESC, start_ts LIMIT ${n}`);
const lostByQuery = (dir: string) => queryJson(dir, 'SELECT cpu, sum(events)::BIGINT AS events FROM lost GROUP BY cpu ORDER BY cpu');

test('the page\'s data: latency per name, slowest spans and their children, rates, GC, loop delay, losses as query has them', () => {
  const d = pageData(page(app, 'app.html'));
  const expected = latencyByQuery(app);
  assert.equal(d.latency.rows.length, expected.size);
  for (const r of d.latency.rows) {
    const q = expected.get(`${r.provider}:${r.name}`)!;
    assert.ok(q, `${r.name} is a span name`);
    assert.deepEqual([r.count, r.open, r.p50, r.p90, r.p99, r.max], [q['count'], q['open'], q['p50'], q['p90'], q['p99'],
      q['max']], r.name);
    assert.equal(r.histogram.reduce((n, b) => n + b[1], 0), r.count, `${r.name}: the histogram holds every finished span`);
  }
  assert.equal(expected.get('shop:request')!['count'], 40);
  assert.equal(expected.get('shop:never')!['open'], 1);

  const slow = slowestByQuery(app, 20);
  assert.deepEqual(d.slowest.map((t) => t.root.dur), slow.map((s) => s['dur']));
  assert.deepEqual(new Set(d.slowest.map((t) => t.root.id)), new Set(slow.map((s) => s['id'])));
  for (const t of d.slowest) {
    const descendants = queryJson(app, `WITH RECURSIVE d AS (SELECT pid, id, 0 AS level FROM spans WHERE pid = ${t.root.pid}
      AND id = ${t.root.id} UNION ALL SELECT s.pid, s.id, d.level + 1 FROM spans s JOIN d ON s.pid = d.pid AND s.parent = d.id)
      SELECT id::VARCHAR AS id, level FROM d WHERE id <> ${t.root.id}`);
    assert.deepEqual(new Map(t.children.map((c) => [c.id, c.level])), new Map(descendants.map((r) => [r['id'], r['level']])),
      `tree of ${t.root.name} ${t.root.id}: its descendants and their levels`);
  }
  assert.ok(d.slowest.some((t) => t.root.name === 'request' && t.children.length === 3), 'request > db > row, render');

  const rates = queryJson(app, `SELECT provider || ':' || name AS key, count(*) AS n FROM events
    WHERE kind <> 'span_end' GROUP BY ALL`);
  const shown = [...d.rates.series, ...(d.rates.other ? [d.rates.other] : [])];
  assert.equal(shown.reduce((n, s) => n + s.total, 0), rates.reduce((n, r) => n + (r['n'] as number), 0));
  for (const s of d.rates.series) {
    assert.equal(s.total, rates.find((r) => r['key'] === `${s.provider}:${s.name}`)!['n']);
    assert.equal(s.counts.reduce((a, b) => a + b, 0), s.total, 'every record in a bucket');
  }
  assert.equal(d.gc, null, 'no GC recorded without --auto');
  assert.equal(d.loop, null);
  assert.deepEqual(d.lost.perCpu, []);

  const a = pageData(page(auto, 'auto.html'));
  const [gc] = queryJson(auto, `SELECT count(*) AS n, max((fields->>'duration_ms')::DOUBLE) AS max FROM events
    WHERE provider = 'node.runtime' AND name = 'gc'`);
  assert.ok((gc!['n'] as number) > 0, 'the app made garbage');
  assert.equal(a.gc!.total, gc!['n']);
  assert.equal(Math.max(...a.gc!.byKind.map((k) => k.maxMs)), gc!['max']);
  const [loop] = queryJson(auto, `SELECT max(value) AS p99 FROM counters WHERE name = 'loop_delay_p99_ms'`);
  assert.equal(Math.max(...a.loop!.summary.map((l) => l.p99MaxMs ?? 0)), loop!['p99']);

  const l = pageData(page(lossy, 'lossy.html'));
  const lost = lostByQuery(lossy);
  assert.ok(lost.length > 0, 'tiny rings overflow');
  assert.deepEqual(l.lost.perCpu.map((c) => [c.cpu, c.events]), lost.map((c) => [c['cpu'], c['events']]));
  assert.equal(l.trace.lostEvents, lost.reduce((n, c) => n + (c['events'] as number), 0));
  assert.deepEqual(l.lost.counts.map((c) => c.counts.reduce((x, y) => x + y, 0)), lost.map((c) => c['events']),
    'losses over time add up per CPU');
});

/** Cells of a text table line (columns are two spaces or more apart). */
const cells = (line: string) => line.trim().split(/ {2,}/);

test('the text summary: the same latency, slowest spans, GC, loop delay and losses', () => {
  let r = tc('report', app);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  for (const [key, q] of latencyByQuery(app)) {
    if (key.length > 40) continue; // cut in the table
    const line = lines.find((l) => cells(l)[0] === key);
    assert.ok(line, `${key} in the latency table`);
    const ns = (v: unknown) => formatDuration(v as number | null);
    assert.deepEqual(cells(line).slice(1, 6), [formatCount(q['count'] as number), ns(q['p50']), ns(q['p90']),
      ns(q['p99']), ns(q['max'])], key);
  }
  const ranks = lines.filter((l) => /^ {0,2}\d+\. /.test(l)).map((l) => /^ *\d+\. +(\S+ \S+)/.exec(l)![1]);
  assert.deepEqual(ranks, slowestByQuery(app, 20).map((s) => formatDuration(s['dur'] as number)));
  assert.match(r.stdout, /└ +\S+ \S+ +shop:db/, 'children under their slow span');
  assert.match(r.stdout, /GC pauses \(node.runtime:gc\)\nnot recorded/);
  assert.match(r.stdout, /Event-loop delay \(node.runtime:loop_delay_\*\)\nnot recorded/);
  assert.match(r.stdout, /Lost: no events lost/);
  assert.ok(!r.stdout.includes('\u001b'), 'no control characters from the trace reach the terminal');

  r = tc('report', auto, '-n', '3');
  assert.equal(r.status, 0, r.stderr);
  const [gc] = queryJson(auto, `SELECT count(*) AS n FROM events WHERE provider = 'node.runtime' AND name = 'gc'`);
  const kinds = r.stdout.split('GC pauses')[1]!.split('\n').slice(3).filter((l) => l.trim()).map(cells);
  assert.equal(kinds.slice(0, kinds.findIndex((c) => c[0] === 'Event-loop delay (node.runtime:loop_delay_*)'))
    .reduce((n, c) => n + Number(c[1]!.replace(/ /g, '')), 0), gc!['n']);
  const [loop] = queryJson(auto, `SELECT max(value) AS p99 FROM counters WHERE name = 'loop_delay_p99_ms'`);
  assert.match(r.stdout, new RegExp(`main \\(pid \\d+, tid \\d+\\) +\\d+ +\\S+ \\S+ +${formatDuration(
    (loop!['p99'] as number) * 1e6).replace('.', '\\.')}`));
  assert.equal(r.stdout.match(/^ +\d+\. /gm)!.length, 3, '-n 3: three slow spans');

  r = tc('report', lossy);
  assert.equal(r.status, 0, r.stderr);
  const total = lostByQuery(lossy).reduce((n, c) => n + (c['events'] as number), 0);
  assert.match(r.stdout, new RegExp(`Lost: ${formatCount(total)} events were lost`));
  for (const c of lostByQuery(lossy)) {
    assert.match(r.stdout, new RegExp(`^${c['cpu']} +${formatCount(c['events'] as number)} `, 'm'));
  }
  assert.match(r.stderr, /note: \d+ events were lost while recording/);
});

test('trace strings stay text: a span named </script><script>… and fields with markup are shown, never run', () => {
  const file = page(app, 'hostile.html');
  const html = fs.readFileSync(file, 'utf8');
  assert.equal(html.match(/<\/script/gi)!.length, 3, 'only the page\'s own scripts end');
  assert.ok(!html.includes(HOSTILE_NAME) && !html.includes(HOSTILE_FIELD), 'no trace string is in the file as written');
  assert.ok(!html.includes('<img'), 'no markup from the trace');
  const d = pageData(file);
  assert.ok(d.latency.rows.some((r) => r.name === HOSTILE_NAME), 'the name itself is in the data, whole');
  assert.ok(d.timeline.spans.some((s) => s.fields?.includes(JSON.stringify(HOSTILE_FIELD).slice(1, -1))));
  assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-/);
  assert.doesNotMatch(html.split('http://www.w3.org/2000/svg').join(''), /https?:\/\//,
    'nothing fetched: no URL in the page (but the SVG namespace\'s name)');
});

test('caps are said: --max-spans keeps the longest spans and the slowest trees; -n sets how many are slowest', () => {
  const d = pageData(page(app, 'capped.html', '--max-spans', '10', '-n', '2'));
  const [{ n }] = queryJson(app, 'SELECT count(*) AS n FROM spans') as [{ n: number }];
  assert.equal(d.timeline.total, n);
  assert.equal(d.slowest.length, 2);
  const longest = queryJson(app, `SELECT id::VARCHAR AS id FROM spans ORDER BY coalesce(dur,
    (SELECT max(ts) FROM events) - start_ts) DESC, start_ts LIMIT 10`).map((r) => r['id']);
  const trees = d.slowest.flatMap((t) => [t.root.id, ...t.children.map((c) => c.id)]);
  assert.deepEqual(new Set(d.timeline.spans.map((s) => s.id)), new Set([...longest, ...trees]));
  const r = tc('report', app, '-o', '-', '--max-spans', '10');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^<!DOCTYPE html>/, '-o -: the page on standard output');
});

test('files: 0600, never through a symbolic link; errors for a bad output, not a trace, a damaged stream', () => {
  const existing = path.join(work, 'existing.html');
  fs.writeFileSync(existing, 'old', { mode: 0o644 });
  fs.chmodSync(existing, 0o644);
  page(app, 'existing.html');
  assert.equal(fs.statSync(existing).mode & 0o777, 0o600, 'a file that was there is made private too');
  assert.match(fs.readFileSync(existing, 'utf8'), /^<!DOCTYPE html>/);

  const target = path.join(work, 'target.html');
  fs.symlinkSync(target, path.join(work, 'link.html'));
  let r = tc('report', app, '-o', path.join(work, 'link.html'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot write .*link\.html: it is a symbolic link \(not followed\)/);
  assert.ok(!fs.existsSync(target), 'nothing written through the link');
  r = tc('report', app, '-o', path.join(work, 'no-such-dir', 'r.html'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /its directory does not exist/);
  r = tc('report', work, '-o', path.join(work, 'not-a-trace.html'));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /not a trace directory/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  assert.ok(!fs.existsSync(path.join(work, 'not-a-trace.html')), 'no empty page left behind');
  r = tc('report', app, '-n', '0');
  assert.equal(r.status, 2);
  r = tc('report', '--help');
  assert.match(r.stdout, /Examples:\n.*trace-consume report out -o report\.html/s);

  const damaged = path.join(work, 'damaged');
  fs.cpSync(app, damaged, { recursive: true });
  const stream = fs.readdirSync(damaged).filter((f) => f.startsWith('stream_')).sort((a, b) =>
    fs.statSync(path.join(damaged, b)).size - fs.statSync(path.join(damaged, a)).size)[0]!;
  fs.truncateSync(path.join(damaged, stream), fs.statSync(path.join(damaged, stream)).size - 100);
  const out = path.join(work, 'damaged.html');
  r = tc('report', damaged, '-o', out);
  assert.equal(r.status, 1, 'a damaged stream: exit 1');
  assert.match(r.stderr, new RegExp(`warning: ${stream}: .*everything before it is loaded`));
  assert.equal(pageData(out).trace.errors.length, 1, 'the page is written, and says so');
  r = tc('report', damaged);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^Damaged: /m);
});

// --- in a browser ------------------------------------------------------------

const artifacts = process.env['RINGTRACE_TEST_ARTIFACTS'] ??
  fs.mkdtempSync(path.join(os.tmpdir(), 'ringtrace-report-artifacts-'));

function chromium(...args: string[]): string {
  const profile = fs.mkdtempSync(path.join(work, 'chromium-'));
  const r = spawnSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', `--user-data-dir=${profile}`,
    '--window-size=1280,2400', ...args], { encoding: 'utf8', maxBuffer: 1 << 28, timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}
const unescapeHtml = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')
  .replace(/&nbsp;/g, '\u00a0').replace(/&amp;/g, '&');

/** The page rendered: no error shown, nothing from the trace ran. */
function assertRendered(dom: string): void {
  const errors = /<div id="page-errors"( hidden="")?>(.*?)<\/div>\s*<div id="app">/s.exec(dom);
  assert.ok(errors, 'the error box is there');
  assert.equal(unescapeHtml(errors[2]!.replace(/<[^>]*>/g, '\n')).trim(), '', 'no error while rendering');
  assert.equal(errors[1], ' hidden=""', 'the error box stays hidden');
  const body = /<body([^>]*)>/.exec(dom)![1]!;
  assert.match(body, /data-rendered="ok"/, 'the page\'s script ran to its end');
  assert.doesNotMatch(body, /pwned/, 'no trace string ran as script');
  assert.doesNotMatch(dom, /<img/);
}

test('in Chromium: renders without errors; the numbers on the page are query\'s; hostile names are text',
  { skip: CHROMIUM_SKIP }, (t) => {
    const file = page(app, 'browser.html');
    const dom = chromium('--dump-dom', `file://${file}`);
    assertRendered(dom);
    const expected = latencyByQuery(app);
    const rows = [...dom.matchAll(/<tr data-name="([^"]*)">(.*?)<\/tr>/gs)];
    assert.equal(rows.length, expected.size);
    for (const [, name, inner] of rows) {
      const key = unescapeHtml(name!);
      const q = expected.get(key)!;
      assert.ok(q, `${key}: a span name`);
      const shown = [...inner!.matchAll(/<td class="num" data-value="([^"]*)">([^<]*)<\/td>/g)].map((m) => [m[1], m[2]]);
      const values = [q['count'], q['p50'], q['p90'], q['p99'], q['max']];
      assert.deepEqual(shown.slice(0, 5).map((c) => c[0] === '' ? null : Number(c[0])), values, key);
      assert.deepEqual(shown.slice(0, 5).map((c) => c[1]), [formatCount(q['count'] as number),
        ...values.slice(1).map((v) => formatDuration(v as number | null))], `${key}: as written`);
    }
    assert.ok(rows.some(([, name]) => unescapeHtml(name!) === `otel:${HOSTILE_NAME}`), 'the hostile name shown as text');
    const slow = [...dom.matchAll(/<span class="num slow-dur" data-value="(\d+)">([^<]*)</g)];
    assert.deepEqual(slow.map((m) => Number(m[1])), slowestByQuery(app, 20).map((s) => s['dur']));
    assert.deepEqual(slow.map((m) => m[2]), slowestByQuery(app, 20).map((s) => formatDuration(s['dur'] as number)));
    assert.match(dom, /Showing all \d+ spans\./);
    assert.match(dom, /GC pauses were not recorded/);
    assert.match(dom, /No events lost\./);

    const lossyDom = chromium('--dump-dom', `file://${page(lossy, 'browser-lossy.html')}`);
    assertRendered(lossyDom);
    const lostRows = [...lossyDom.matchAll(/<tr data-cpu="(\d+)">.*?<td class="num" data-value="(\d+)">([^<]*)</gs)];
    assert.deepEqual(lostRows.map((m) => [Number(m[1]), Number(m[2]), m[3]]), lostByQuery(lossy).map((c) =>
      [c['cpu'], c['events'], formatCount(c['events'] as number)]));
    const autoFile = page(auto, 'browser-auto.html');
    const autoDom = chromium('--dump-dom', `file://${autoFile}`);
    assertRendered(autoDom);
    assert.match(autoDom, /<table id="gc-table">/);
    assert.match(autoDom, /<table id="loop-table">/);

    // A trace with no events at all (an app that emitted nothing) still renders, and says so.
    const empty = record('empty', ['--', process.execPath, '-e', '1']);
    const emptyDom = chromium('--dump-dom', `file://${page(empty, 'browser-empty.html')}`);
    assertRendered(emptyDom);
    assert.match(emptyDom, /\(no events\)/);
    assert.match(tc('report', empty).stdout, /from \(no events\), 0 ns, 0 events/);

    for (const [name, f] of [['report-app', file], ['report-auto', autoFile]]) {
      const shot = path.join(artifacts, `${name}.png`);
      chromium(`--screenshot=${shot}`, `file://${f}`);
      assert.ok(fs.statSync(shot).size > 10_000, 'a screenshot of the page');
      t.diagnostic(`screenshot: ${shot}`);
    }
  });

/**
 * Run in the page after it rendered: zoom with the wheel, drag, reset, hover
 * the slowest request span of the first row and the two interleaved spans;
 * the timeline's range and tooltip after each, as JSON in #probe. (Added to a
 * copy of the page, its hash allowed by the copy's policy.)
 */
const PROBE = `(function () {
  const canvas = document.querySelector('.timeline-canvas');
  const range = document.getElementById('timeline-range');
  const box = canvas.getBoundingClientRect();
  const at = (x, y) => ({ clientX: box.left + x, clientY: box.top + y, bubbles: true, cancelable: true });
  const view = () => [Number(range.dataset.t0), Number(range.dataset.t1)];
  const out = { full: view() };
  canvas.dispatchEvent(new WheelEvent('wheel', Object.assign(at(170 + (box.width - 170) / 2, 40), { deltaY: -800 })));
  out.zoomed = view();
  canvas.dispatchEvent(new MouseEvent('mousedown', at(600, 40)));
  window.dispatchEvent(new MouseEvent('mousemove', at(400, 40)));
  window.dispatchEvent(new MouseEvent('mouseup', at(400, 40)));
  out.panned = view();
  document.getElementById('timeline-reset').click();
  out.reset = view();
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const first = data.timeline.threads[0];
  const s = data.slowest.map((t) => t.root).find((r) => r.pid === first.pid && r.tid === first.tid && r.depth === 0 &&
    r.name === 'request');
  out.hovered = s.id;
  const x = 170 + ((s.start + s.dur / 2) / out.reset[1]) * (box.width - 170);
  canvas.dispatchEvent(new MouseEvent('mousemove', at(x, 24 + 4 + 7)));
  const tip = document.querySelector('.tooltip');
  out.tip = tip.hidden ? null : tip.textContent;
  out.plotWidth = box.width - 170;
  // Two root spans interleaved on that thread: each in a lane of its own (the first two lanes).
  const [a, b] = ['overlap_a', 'overlap_b'].map((n) => data.timeline.spans.find((s) => s.name === n));
  out.overlap = [a, b].map((s) => ({ depth: s.depth, start: s.start, end: s.start + s.dur,
    onFirstRow: s.pid === first.pid && s.tid === first.tid }));
  const xo = 170 + (((b.start + a.start + a.dur) / 2) / out.reset[1]) * (box.width - 170);
  out.lanes = [0, 1].map((i) => {
    canvas.dispatchEvent(new MouseEvent('mousemove', at(xo, 24 + 4 + i * 16 + 7)));
    return tip.hidden ? null : tip.querySelector('.tip-name').textContent;
  });
  const pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();`;

test('in Chromium: the timeline zooms around the pointer, pans by dragging, resets; hover shows a span',
  { skip: CHROMIUM_SKIP }, () => {
    const html = fs.readFileSync(page(app, 'probe.html'), 'utf8');
    const hash = crypto.createHash('sha256').update(PROBE, 'utf8').digest('base64');
    const probed = path.join(work, 'probed.html');
    fs.writeFileSync(probed, html.replace("script-src ", `script-src 'sha256-${hash}' `)
      .replace('</body>', `<script>${PROBE}</script>\n</body>`));
    const dom = chromium('--dump-dom', `file://${probed}`);
    assertRendered(dom);
    const p = JSON.parse(unescapeHtml(/<pre id="probe">(.*?)<\/pre>/s.exec(dom)![1]!)) as { full: number[];
      zoomed: number[]; panned: number[]; reset: number[]; tip: string | null; plotWidth: number; hovered: string;
      overlap: { depth: number; start: number; end: number; onFirstRow: boolean }[]; lanes: (string | null)[] };
    const d = pageData(probed);
    assert.deepEqual(p.full, [0, d.trace.durationNs]);
    const len = (v: number[]) => v[1]! - v[0]!;
    assert.ok(len(p.zoomed) < len(p.full) / 2, 'the wheel zoomed in');
    const mid = (v: number[]) => v[0]! + len(v) / 2;
    const pixel = len(p.full) / p.plotWidth; // (Chromium rounds a pointer's offset to whole pixels)
    assert.ok(Math.abs(mid(p.zoomed) - mid(p.full)) <= pixel, `around the pointer (the middle here): ${JSON.stringify(p)}`);
    const moved = (200 / p.plotWidth) * len(p.zoomed);
    assert.ok(Math.abs(p.panned[0]! - p.zoomed[0]! - moved) <= len(p.zoomed) / p.plotWidth, 'dragging left moved later by 200 px');
    assert.deepEqual(p.reset, p.full);
    const s = d.slowest.find((t) => t.root.id === p.hovered)!.root;
    assert.ok(p.tip, 'hovering the slowest span shows it');
    assert.ok(p.tip.includes(`${s.provider}:${s.name}`) && p.tip.includes(formatDuration(s.dur)), p.tip);
    assert.ok(s.fields === null || p.tip.includes(s.fields), 'with its fields');
    assert.ok(!p.tip.includes('null'), p.tip);
    const [a, b] = p.overlap;
    assert.ok(a!.depth === 0 && b!.depth === 0 && a!.onFirstRow && b!.onFirstRow && b!.start < a!.end,
      `the fixture's two spans overlap at depth 0 on the first row: ${JSON.stringify(p.overlap)}`);
    assert.deepEqual(p.lanes, ['shop:overlap_a', 'shop:overlap_b'], 'each in its own lane');
  });
