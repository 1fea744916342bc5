// The session clock end to end: an app whose cycle counter jumps forward or
// back mid-recording (the test addon's RINGTRACE_TEST_CYCLES_JUMP_* hook, as a
// VM's restore would) gives a trace whose times stay ordered and bounded by
// the monotonic clock, and `stats` reports the jump. Cycle sessions only: where
// the counter is not usable the session is monotonic and this is skipped.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { emitterPath, testAddonPath, uniqueName } from '../fixtures/trace-helpers';
import { cliPath, scratchDir, traceConsume } from '../fixtures/cli-helpers';
import { SIDECAR } from '../src/trace/writer';

const work = scratchDir('clock');

interface Stats {
  events: number;
  durationS: number;
  errors: string[];
  clock: { kind: string; why: string; anomalies: number; held: number } | null;
}

/** Record 2 s of 5 000 events/s from an app whose counter is `jumpS` seconds off from its 4 000th record on. */
function recordWithJump(jumpS: number): { stats: Stats; text: string; emitted: number } | null {
  const out = path.join(work, `trace-${jumpS}`);
  // The hooked addon in the app only (through env(1)): the recorder is the one users run.
  const app = ['env', `RINGTRACE_ADDON=${testAddonPath}`, 'RINGTRACE_TEST_CYCLES_JUMP_AT=4000',
    `RINGTRACE_TEST_CYCLES_JUMP_S=${jumpS}`, process.execPath, emitterPath, 'paced', '2', '5000'];
  // Small sub-buffers: packets close (with the producer's own pairs) on both sides of the jump.
  const r = spawnSync(process.execPath, [cliPath, 'record', '--session', uniqueName('clk'), '--subbuffer-size', '16K',
    '--subbuffers', '64', '-o', out, '--', ...app], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const sidecar = JSON.parse(fs.readFileSync(path.join(out, SIDECAR), 'utf8')) as { clock: string };
  if (sidecar.clock !== 'cycles') return null;
  const stats = JSON.parse(traceConsume('stats', out, '--json').stdout) as Stats;
  const text = traceConsume('stats', out).stdout;
  const emitted = Number(/emitted (\d+)/.exec(r.stdout)?.[1]);
  return { stats, text, emitted };
}

for (const [what, jumpS] of [['forward', 30], ['back', -30]] as const) {
  test(`a cycle counter jumping ${what} 30 s mid-recording: times ordered and bounded, the jump reported`, (t) => {
    const r = recordWithJump(jumpS);
    if (!r) return t.skip('the session clock is CLOCK_MONOTONIC here (no usable cycle counter)');
    const { stats, text, emitted } = r;
    assert.deepEqual(stats.errors, [], 'no stream goes back in time'); // the reader refuses times going back
    assert.ok(emitted > 9_000, `emitted ${emitted}`);
    assert.equal(stats.events, emitted);
    // 2 s of events: the jump did not stretch (or fold) the trace by 30 s.
    assert.ok(stats.durationS > 1.5 && stats.durationS < 3, `duration ${stats.durationS} s`);
    assert.equal(stats.clock?.kind, 'cycles');
    assert.ok(stats.clock!.anomalies >= 1, `the jump is reported: ${JSON.stringify(stats.clock)}`);
    assert.match(text, /packets where the counter jumped or stalled/);
  });
}

test('without a jump, a cycle session reports no clock anomaly', (t) => {
  const r = recordWithJump(0);
  if (!r) return t.skip('the session clock is CLOCK_MONOTONIC here (no usable cycle counter)');
  assert.deepEqual(r.stats.errors, []);
  assert.equal(r.stats.events, r.emitted);
  assert.deepEqual([r.stats.clock?.anomalies, r.stats.clock?.held], [0, 0]);
  assert.doesNotMatch(r.text, /jumped/);
});

test('stats tells a trace recorded before per-packet conversion (cycles calibrated once) from one after', () => {
  const old = traceConsume('stats', path.join(__dirname, '..', '..', 'test', 'corpus', 'valid'));
  assert.equal(old.status, 0, old.stderr);
  assert.match(old.stdout, /^clock: {4}cycle counter, calibrated once$/m);
});
