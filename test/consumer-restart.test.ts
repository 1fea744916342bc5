// The consumer killed with SIGKILL mid-recording and started again on the same
// session: the second recording takes over (the lock names a dead pid) and
// resumes where the first one stopped. Every event the app emitted is in
// exactly one of the two traces, or counted as lost; none is in both (the
// position in a sub-buffer already written is kept in the session, not in
// the consumer). The first trace ends wherever the kill left it: its valid
// packets are read, a torn last packet is reported as damage.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emitterPath } from '../fixtures/trace-helpers';

const cli = path.join(__dirname, '..', 'cli', 'trace-consume.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sequenceNumbers(dir: string): number[] {
  const r = spawnSync(process.execPath, [cli, 'view', dir, '--json', '--event', 'fixture:tick'],
    { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.ok(r.status === 0 || /at byte \d+/.test(r.stderr), r.stderr); // a torn last packet only
  return r.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { fields: { seq: number } }).fields.seq);
}

test('a consumer killed with SIGKILL is resumed by the next one: nothing lost, nothing twice', async () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-restart-'));
  const session = `restart-${process.pid}`;
  const [t1, t2] = [path.join(work, 't1'), path.join(work, 't2')];
  try {
    const first = spawn(process.execPath, [cli, 'record', '-q', '-o', t1, '--session', session], { stdio: 'ignore' });
    const firstExit = new Promise((r) => first.on('exit', r));
    // 3 s of events at 40 000/s once the session is there (bursts of 10 000).
    const app = spawn(process.execPath, [emitterPath, 'blast', '3', '40000'],
      { env: { ...process.env, RINGTRACE_SESSION: session } });
    let appOut = '';
    app.stdout.on('data', (d: Buffer) => { appOut += d.toString(); });
    const appExit = new Promise((r) => app.on('exit', r));
    await sleep(1500);
    first.kill('SIGKILL');
    await firstExit;
    await sleep(300); // the app goes on emitting into the rings meanwhile
    const second = spawnSync(process.execPath, [cli, 'record', '-o', t2, '--session', session, '--duration', '3.5'],
      { encoding: 'utf8' });
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stderr, /taking over session .* left by a consumer that exited/);
    await appExit;
    const emitted = Number(/emitted (\d+)/.exec(appOut)?.[1]);
    assert.ok(emitted > 0, appOut);

    const a = sequenceNumbers(t1);
    const b = sequenceNumbers(t2);
    assert.ok(a.length > 0 && b.length > 0, `both recordings hold events (${a.length}, ${b.length})`);
    const seen = new Set<number>();
    for (const s of [...a, ...b]) {
      assert.ok(!seen.has(s), `event ${s} recorded twice`);
      seen.add(s);
    }
    const stats = JSON.parse(spawnSync(process.execPath, [cli, 'stats', t2, '--json'], { encoding: 'utf8' }).stdout) as
      { lost: number };
    assert.equal(seen.size + stats.lost, emitted, `delivered ${seen.size} + lost ${stats.lost} == emitted ${emitted}`);
  } finally {
    spawnSync(process.execPath, [cli, 'record', '-q', '-o', path.join(work, 'clean'), '--session', session, '--clean',
      '--duration', '0.1']);
    fs.rmSync(work, { recursive: true, force: true });
  }
});
