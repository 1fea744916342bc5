// record while it runs: the trace directory fills as the app emits, at most a
// flush interval behind (also after the recorder is killed), and a recording
// nobody joined says why.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emitterPath, uniqueName } from '../fixtures/trace-helpers';

const cli = path.join(__dirname, '..', 'cli', 'trace-consume.js');
const tmpTrace = (tag: string) => path.join(fs.mkdtempSync(path.join(os.tmpdir(), `rt-${tag}-`)), 'trace');
const hasBabeltrace = spawnSync('babeltrace2', ['--version']).status === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function statsOf(out: string): { events: number; errors: string[] } {
  const r = spawnSync(process.execPath, [cli, 'stats', out, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { events: number; errors: string[] };
}

test('events reach the disk while recording at a slow rate, and survive a killed recorder', async (t) => {
  const out = tmpTrace('live');
  const name = uniqueName('live');
  // 400 events/s for 6 s: far less than a 512 KiB sub-buffer, so only the flush writes them.
  const rec = spawn(process.execPath, [cli, 'record', '-q', '-s', name, '-o', out, '--flush-interval', '0.2', '--',
    process.execPath, emitterPath, 'paced', '6', '400'], { detached: true, stdio: 'ignore' });
  let exited = false;
  rec.on('exit', () => { exited = true; });
  try {
    let seen = 0;
    const deadline = Date.now() + 5000;
    while (!exited && Date.now() < deadline && seen === 0) {
      await sleep(100);
      if (fs.existsSync(path.join(out, 'metadata'))) seen = statsOf(out).events;
    }
    assert.equal(exited, false, 'the check ran while the app was still emitting');
    assert.ok(seen > 0, 'events are on disk while recording');
    await sleep(600);
    process.kill(-rec.pid!, 'SIGKILL'); // the recorder and its app, at once
    const killedAt = Date.now();
    const after = statsOf(out);
    assert.deepEqual(after.errors, [], 'a killed recording is readable');
    assert.ok(after.events > seen, `more arrived after the first look (${seen} -> ${after.events})`);
    // Loss bound: what the app emitted in the last flush interval (plus the scheduling slack of this host).
    const view = spawnSync(process.execPath, [cli, 'view', out, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const last = view.stdout.trim().split('\n').map((l) => Number(BigInt((JSON.parse(l) as { timestamp_ns: string })
      .timestamp_ns) / 1_000_000n)).pop()!;
    t.diagnostic(`the last event on disk was ${killedAt - last} ms before the kill`);
    assert.ok(killedAt - last < 2000, `the trace is at most a flush behind: ${killedAt - last} ms`);
    if (hasBabeltrace) { // many small packets per sub-buffer: babeltrace2 reads them as one stream, no warning
      const bt = spawnSync('babeltrace2', [out], { encoding: 'utf8', maxBuffer: 1 << 26 });
      assert.equal(bt.status, 0, bt.stderr);
      assert.equal(bt.stderr, '');
      assert.equal(bt.stdout.trim().split('\n').length, after.events);
    }
  } finally {
    if (!exited) try { process.kill(-rec.pid!, 'SIGKILL'); } catch { /* gone */ }
    // What a user does after a killed recorder: a new recording with --clean removes the session it left.
    spawnSync(process.execPath, [cli, 'record', '-q', '-s', name, '--clean', '--duration', '0.1', '-o', tmpTrace('clean')]);
  }
});

test('a recording no app joined says how apps find the session', () => {
  const out = tmpTrace('nobody');
  const r = spawnSync(process.execPath, [cli, 'record', '-o', out, '-s', uniqueName('nobody'), '--duration', '0.3'],
    { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /wrote 0 events/);
  assert.match(r.stderr, /no app attached to session 't-nobody-[^']+': apps trace into the session named by their RINGTRACE_SESSION/);
  const cmd = spawnSync(process.execPath, [cli, 'record', '-o', tmpTrace('nobody2'), '--', process.execPath, '-e', '1'],
    { encoding: 'utf8' });
  assert.equal(cmd.status, 0, cmd.stderr);
  assert.match(cmd.stderr, /the command ran with RINGTRACE_SESSION=record-\d+ but did not define a ringtrace event/);
});
