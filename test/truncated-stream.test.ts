// A stream file cut short (a copy interrupted, a full disk, `truncate`):
// every reader delivers each complete record before the cut with its exact
// values, then reports the cut with the file, the byte, how many bytes are
// missing and, from the recorder's side file, how many events. Real recorded
// traces, cut at several kinds of place.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { computeStats } from '../cli/stats';
import { runView } from '../cli/view';
import { runExport } from '../src/export/export';
import { emitterPath } from '../fixtures/trace-helpers';

const cli = path.join(__dirname, '..', 'cli', 'trace-consume.js');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-trunc-'));
test.after(() => fs.rmSync(work, { recursive: true, force: true }));

/** Record `count` fixture:tick events (seq, tag) of one thread; extra args size the rings. */
function recordTrace(name: string, count: number, ...ringArgs: string[]): string {
  const dir = path.join(work, name);
  const r = spawnSync(process.execPath, [cli, 'record', '-q', '-o', dir, ...ringArgs, '--', process.execPath,
    emitterPath, 'count', String(count), 'cut'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return dir;
}

interface Layout {
  packets: number[]; // packet offsets
  recordEnds: number[]; // file offset just past each record, in file order
}

/** Packets and record boundaries of a stream file, walked independently of the reader. */
function layout(file: string): Layout {
  const b = fs.readFileSync(file);
  const packets: number[] = [];
  const recordEnds: number[] = [];
  for (let off = 0; off < b.length; off += Number(b.readBigUInt64LE(off + 56) / 8n)) {
    packets.push(off);
    const content = Number(b.readBigUInt64LE(off + 48) / 8n);
    for (let p = 88; p < content; p += (b.readUInt32LE(off + p + 4) + 7) & ~7) {
      recordEnds.push(off + p + b.readUInt32LE(off + p + 4));
    }
  }
  return { packets, recordEnds };
}

interface ViewLine { cpu: number; fields: { seq: number; tag: string } }

/** Everything each reader reads from `dir`, and the errors each reports. */
function readAll(dir: string): { view: string[]; viewErrors: string[]; stats: ReturnType<typeof computeStats>;
  exports: Record<string, { events: number; errors: string[]; text?: string }> } {
  const view: string[] = [];
  const viewErrors: string[] = [];
  runView(dir, { json: true }, (l) => view.push(l), (m) => viewErrors.push(m));
  const exports: Record<string, { events: number; errors: string[]; text?: string }> = {};
  for (const format of ['jsonl', 'perfetto', 'chrome'] as const) {
    const output = path.join(work, `out.${format}`);
    const r = runExport(dir, { format, output });
    exports[format] = { events: r.events, errors: r.errors,
      ...(format === 'jsonl' ? { text: fs.readFileSync(output, 'utf8') } : {}) };
  }
  return { view, viewErrors, stats: computeStats(dir), exports };
}

/** The stream with the most records (a thread that migrated has records in several). */
function biggestStream(dir: string): string {
  const streams = fs.readdirSync(dir).filter((f) => f.startsWith('stream_'));
  return streams.sort((a, b) => fs.statSync(path.join(dir, b)).size - fs.statSync(path.join(dir, a)).size)[0]!;
}

/**
 * Cut `stream` of a copy of `pristine` at `at` bytes and check every reader:
 * the records wholly before the cut, exactly as in the pristine trace, then
 * one error naming the file, the byte and what is missing.
 */
function checkCut(pristine: string, label: string, at: (l: Layout) => number, sidecar = true): void {
  const stream = biggestStream(pristine);
  const file = path.join(pristine, stream);
  const l = layout(file);
  const size = fs.statSync(file).size;
  const cut = at(l);
  assert.ok(cut > 0 && cut < size, `${label}: cut ${cut} inside the file of ${size} bytes`);
  const dir = path.join(work, `${path.basename(pristine)}-${label}`);
  fs.cpSync(pristine, dir, { recursive: true });
  fs.truncateSync(path.join(dir, stream), cut);
  if (!sidecar) fs.rmSync(path.join(dir, '.ringtrace.json'));

  const whole = readAll(pristine);
  assert.deepEqual(whole.viewErrors, []);
  const cpu = Number(/stream_cpu(\d+)$/.exec(stream)![1]);
  const inStream = whole.view.filter((line) => (JSON.parse(line) as ViewLine).cpu === cpu);
  const kept = l.recordEnds.filter((end) => end <= cut).length; // records wholly before the cut
  const missing = inStream.length - kept;
  assert.ok(kept > 0 && missing > 0, `${label}: the cut keeps ${kept} and removes ${missing} records`);
  const droppedLines = new Set(inStream.slice(kept));
  const expected = whole.view.filter((line) => !droppedLines.has(line));
  const total = whole.view.length;

  const got = readAll(dir);
  assert.deepEqual(got.view, expected, `${label}: view --json delivers every record before the cut, exactly`);
  assert.equal(got.exports['jsonl']!.text, expected.map((x) => x + '\n').join(''), `${label}: export jsonl, exactly`);
  assert.equal(got.stats.events, total - missing, `${label}: stats counts what is delivered`);
  const times = expected.map((line) => BigInt((JSON.parse(line) as { timestamp_ns: string }).timestamp_ns));
  assert.equal(got.stats.durationS, Number(times[times.length - 1]! - times[0]!) / 1e9, `${label}: stats duration`);
  for (const format of ['perfetto', 'chrome']) {
    assert.equal(got.exports[format]!.events, total - missing, `${label}: export ${format}`);
  }
  const where = `^${stream}: at byte ${cut}: `;
  const amount = sidecar
    ? `${size - cut} bytes and ${missing} of the ${inStream.length} events recorded in this stream are missing`
    : 'bytes are missing';
  const errors = [...got.viewErrors, ...got.stats.errors, ...Object.values(got.exports).flatMap((e) => e.errors)];
  assert.equal(errors.length, 5, `${label}: each reader reports the cut once: ${errors.join(' | ')}`);
  for (const e of errors) {
    assert.match(e, new RegExp(where), label);
    assert.ok(e.includes(amount), `${label}: "${e}" says "${amount}"`);
  }
  if (sidecar) assert.equal(got.stats.missingEvents, missing, `${label}: stats --json counts the missing events`);

  const cliRun = spawnSync(process.execPath, [cli, 'view', dir], { encoding: 'utf8' });
  assert.equal(cliRun.status, 1, `${label}: damage is exit code 1`);
  assert.equal(cliRun.stdout.trim().split('\n').length, total - missing, `${label}: the CLI prints what was kept`);
  assert.match(cliRun.stderr, new RegExp(`^trace-consume: ${stream}: at byte ${cut}: `), label);
  fs.rmSync(dir, { recursive: true, force: true });
}

test('one large packet cut at 100 000 bytes (default rings): the records before the cut are read', () => {
  const dir = recordTrace('large', 12000); // ~380 KB: the biggest stream passes 120 KB even if the thread migrated
  const stream = biggestStream(dir);
  assert.ok(fs.statSync(path.join(dir, stream)).size > 120_000, 'a stream file past the cut');
  checkCut(dir, 'at-100000', () => 100_000);
  checkCut(dir, 'at-100000-no-sidecar', () => 100_000, false);
});

test('many packets, cut mid-record, mid-packet-header, at a record end and exactly at a packet boundary', () => {
  const dir = recordTrace('small', 5000, '--subbuffer-size', '4K', '--subbuffers', '64');
  const l = layout(path.join(dir, biggestStream(dir)));
  assert.ok(l.packets.length >= 8, `several packets (${l.packets.length})`);
  // the third record of the fifth packet: records before it in its packet are kept
  const third = l.recordEnds.findIndex((end) => end > l.packets[4]!) + 2;
  checkCut(dir, 'mid-record', (x) => x.recordEnds[third]! - 5);
  checkCut(dir, 'record-end', (x) => x.recordEnds[third]!);
  checkCut(dir, 'mid-packet-header', (x) => x.packets[4]! + 40);
  checkCut(dir, 'packet-boundary', (x) => x.packets[5]!);
  checkCut(dir, 'mid-record-no-sidecar', (x) => x.recordEnds[third]! - 5, false);
});

test('without the side file, a cut exactly at a packet boundary cannot be seen', () => {
  const dir = recordTrace('boundary', 3000, '--subbuffer-size', '4K', '--subbuffers', '64');
  const stream = biggestStream(dir);
  const l = layout(path.join(dir, stream));
  const copy = path.join(work, 'boundary-no-sidecar');
  fs.cpSync(dir, copy, { recursive: true });
  fs.truncateSync(path.join(copy, stream), l.packets[3]!);
  fs.rmSync(path.join(copy, '.ringtrace.json'));
  const got = readAll(copy);
  assert.deepEqual(got.viewErrors, [], 'nothing tells the reader the file was longer');
  assert.equal(got.view.length, got.stats.events);
});
