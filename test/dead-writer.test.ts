// A traced process SIGKILLed between reserve and commit (the addon's test
// hook RINGTRACE_TEST_KILL_IN_RECORD=N: reserve the Nth record, write half of
// it, die) must not block its ring: record notices the dead writer, turns the
// record into padding counted as one lost event, and every event of the
// surviving process and every earlier event of the dead one is delivered.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emitterPath } from '../fixtures/trace-helpers';

const cli = path.join(__dirname, '..', 'cli', 'trace-consume.js');

test('a writer killed between reserve and commit costs exactly its one record', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-dead-'));
  try {
    const out = path.join(work, 'trace');
    const KILL_AT = 5000;
    // The victim dies in its 5000th recorded event; the survivor emits for 3 s at 20 000/s meanwhile.
    const driver = `
      const { spawn } = require('node:child_process');
      const run = (args, env) => new Promise((resolve) => {
        const p = spawn(process.execPath, [${JSON.stringify(emitterPath)}, ...args],
          { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
        let text = '';
        p.stdout.on('data', (d) => { text += d; });
        p.on('exit', (code, signal) => resolve({ text, code, signal }));
      });
      Promise.all([run(['late', '20000'], { RINGTRACE_TEST_KILL_IN_RECORD: '${KILL_AT}' }),
                   run(['blast', '3', '20000'], {})]).then(([victim, survivor]) => {
        console.log(JSON.stringify({ victim: victim.signal, survivor: survivor.text.trim() }));
      });`;
    const r = spawnSync(process.execPath, [cli, 'record', '-o', out, '--', process.execPath, '-e', driver],
      { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { victim: string; survivor: string };
    assert.equal(result.victim, 'SIGKILL', 'the victim was killed by the hook');
    const survivorEmitted = Number(/emitted (\d+)/.exec(result.survivor)?.[1]);
    assert.ok(survivorEmitted > 0, result.survivor);
    assert.match(r.stderr, /a writer died between reserve and commit .*its record is counted as lost/);

    const view = spawnSync(process.execPath, [cli, 'view', out, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(view.status, 0, view.stderr);
    const events = view.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as
      { pid: number; fields: { seq: number; tag: string } });
    const victim = events.filter((e) => e.fields.tag === 'after');
    const survivor = events.filter((e) => e.fields.tag === 'blast');
    assert.equal(victim.length, KILL_AT - 1, 'every event the victim committed');
    assert.equal(survivor.length, survivorEmitted, 'every event of the survivor');
    const seqs = survivor.map((e) => e.fields.seq);
    assert.ok(seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1), 'survivor events intact, none twice');
    const stats = JSON.parse(spawnSync(process.execPath, [cli, 'stats', out, '--json'], { encoding: 'utf8' }).stdout) as
      { lost: number; errors: string[] };
    assert.deepEqual(stats.errors, []);
    assert.equal(stats.lost, 1, 'the dead record is the one loss');
    const sidecar = JSON.parse(fs.readFileSync(path.join(out, '.ringtrace.json'), 'utf8')) as
      { totals: { deadWriterRecords: number } };
    assert.equal(sidecar.totals.deadWriterRecords, 1);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
