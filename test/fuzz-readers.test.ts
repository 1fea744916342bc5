// Property test of the trace readers (stats, view, export in every format,
// and every fifth round the query loader with a query reading every field):
// a valid trace, damaged at random (bit flips, overwritten runs, truncation,
// foreign bytes in the side files), must give either output or a clear
// error naming the damaged file - never an uncaught exception of another
// kind, a hang or runaway memory. Seeds are fixed so failures reproduce;
// RINGTRACE_FUZZ_ROUNDS raises the count (CI runs the default).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { computeStats } from '../cli/stats';
import { runView } from '../cli/view';
import { runExport } from '../src/export/export';
import { loadTrace } from '../src/query/load';
import { damage, rng } from '../fixtures/damage';
import { emitterPath } from '../fixtures/trace-helpers';

const cli = path.join(__dirname, '..', 'cli', 'trace-consume.js');
const ROUNDS = Number(process.env['RINGTRACE_FUZZ_ROUNDS'] ?? 150);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-fuzz-'));
const pristine = path.join(work, 'pristine');

test.before(() => {
  const r = spawnSync(process.execPath, [cli, 'record', '-q', '-o', pristine, '--subbuffer-size', '4K', '--subbuffers',
    '64', '--', process.execPath, emitterPath, 'timeline'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // more records and packets than the timeline alone
  const r2 = spawnSync(process.execPath, [cli, 'stats', pristine], { encoding: 'utf8' });
  assert.equal(r2.status, 0, r2.stderr);
});
test.after(() => fs.rmSync(work, { recursive: true, force: true }));

test(`readers survive ${ROUNDS} randomly damaged traces with clear errors`, async () => {
  const devnull = path.join(work, 'out');
  const acceptable = (e: unknown, what: string) => {
    assert.ok(e instanceof Error, `${what}: threw a non-Error`);
    const bad = e instanceof RangeError || e instanceof TypeError || /ERR_/.test(String((e as NodeJS.ErrnoException).code));
    assert.ok(!bad, `${what}: unclear ${e.constructor.name}: ${e.message}\n${e.stack}`);
    assert.ok(e.message.length > 10, `${what}: message too short: ${e.message}`);
  };
  for (let round = 0; round < ROUNDS; round++) {
    const rand = rng(0x9e3779b9 ^ (round * 2654435761));
    const dir = path.join(work, `r${round}`);
    fs.cpSync(pristine, dir, { recursive: true });
    const what = `round ${round} (${damage(dir, rand)}${rand() < 0.3 ? `, ${damage(dir, rand)}` : ''})`;
    const heapBefore = process.memoryUsage().heapUsed;
    try {
      const s = computeStats(dir);
      for (const m of s.errors) assert.match(m, /^(stream_\S+|\.classes|metadata): /, `${what}: stats error names its file`);
    } catch (e) {
      acceptable(e, `${what} stats`);
    }
    try {
      runView(dir, { json: rand() < 0.5 }, () => undefined,
        (m) => assert.match(m, /^stream_\S+: at byte \d+: /, `${what}: view error names its place`));
    } catch (e) {
      acceptable(e, `${what} view`);
    }
    for (const format of ['jsonl', 'perfetto', 'chrome'] as const) {
      try {
        const r = runExport(dir, { format, output: devnull });
        for (const m of r.errors) assert.match(m, /^stream_\S+: at byte \d+: /, `${what}: export error names its place`);
      } catch (e) {
        acceptable(e, `${what} export ${format}`);
      }
    }
    if (round % 5 === 0) {
      let db;
      try {
        db = await loadTrace(dir);
      } catch (e) {
        acceptable(e, `${what} query load`);
      }
      if (db) { // what loaded must be readable: every field valid JSON, every span whole
        try {
          for (const m of db.summary.errors) assert.match(m, /^stream_\S+: at byte \d+: /, `${what}: query error names its place`);
          await db.con.runAndReadAll('SELECT count(*), sum(length(fields::VARCHAR)) FROM events');
          await db.con.runAndReadAll('SELECT count(*), sum(dur), sum(length(end_fields::VARCHAR)) FROM spans');
        } finally {
          db.close();
        }
      }
    }
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 256 * 1024 * 1024, `${what}: memory ran away`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
