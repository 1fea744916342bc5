// Event-loop heartbeats, read the way a flight recorder reads them: from
// another process, through Session.heartbeats(). An app attached to an
// overwrite-mode session beats from its main thread every 100 ms while its
// loop turns; the beat grows old while the loop is blocked; the timer never
// keeps the app alive and stops when the app detaches. Discard-mode sessions
// get no beat.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { uniqueName } from '../fixtures/trace-helpers';
import { loadNative, Session, type LoopHeartbeat } from '../src/index';

const flightApp = path.join(__dirname, '..', 'fixtures', 'flight-app.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const OVERWRITE = 1; // native/ring/layout.h enum rt_ring_mode
// A beat every 100 ms: anything under this is a loop that turns (slack for a loaded machine).
const FRESH_MS = 400;

/** A session created natively in `mode`, opened as a Session. */
function sessionIn(mode: number, tag: string): { s: Session; dispose(): void } {
  const native = loadNative();
  const name = uniqueName(tag);
  const created = native.create(name, 1 << 16, 4, mode ? 'overwrite' : 'discard');
  const s = Session.open(name);
  return { s, dispose: () => { s.remove(); s.close(); native.close(created); } };
}

/** Start the fixture app; `line(re)` waits for a line of its stdout matching re. */
function startApp(session: string, args: string[]): { child: ChildProcess; line(re: RegExp): Promise<string>;
  exit: Promise<number | null> } {
  const child = spawn(process.execPath, [flightApp, ...args], { env: { ...process.env, RINGTRACE_SESSION: session },
    stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  const waiters: (() => void)[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    text += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const line = (re: RegExp) => new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no line ${re} in ${JSON.stringify(text)}`)), 10_000);
    const look = () => {
      const m = re.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      } else waiters.push(look);
    };
    look();
  });
  return { child, line, exit };
}

/** The app's exit code, or 'still running' after `ms` (then it is killed: a test must not hang). */
async function exited(app: { child: ChildProcess; exit: Promise<number | null> }, ms = 5000): Promise<number | null | string> {
  const code = await Promise.race([app.exit, sleep(ms).then(() => 'still running')]);
  if (code === 'still running') app.child.kill('SIGKILL');
  return code;
}

/** The app's beats (its main thread's only, if all is well). */
const beatsOf = (s: Session, pid: number): LoopHeartbeat[] => s.heartbeats().filter((b) => b.pid === pid);

test('beats while the loop turns, grows old while it is blocked, beats again after; the app still exits by itself', async () => {
  const { s, dispose } = sessionIn(OVERWRITE, 'beat');
  try {
    const app = startApp(s.info.name, ['loop', '700', '1500']);
    const pid = app.child.pid!;
    await app.line(/ready attached/);
    await sleep(150);
    // Turning: fresh, from the main thread, and moving (its time, now - age, advances).
    const turning: number[] = [];
    for (let i = 0; i < 4; i++) {
      const beats = beatsOf(s, pid);
      assert.equal(beats.length, 1, `one beating thread: ${JSON.stringify(beats)}`);
      assert.equal(beats[0]!.tid, pid, 'the main thread');
      assert.ok(beats[0]!.ageMs >= 0 && beats[0]!.ageMs < FRESH_MS, `fresh while turning: ${beats[0]!.ageMs} ms`);
      turning.push(performance.now() - beats[0]!.ageMs);
      await sleep(100);
    }
    assert.ok(turning[3]! - turning[0]! > 150, `the beat advances: ${turning.map((t) => t - turning[0]!).join(', ')}`);
    await app.line(/blocking/);
    await sleep(1100);
    const blocked = beatsOf(s, pid);
    assert.equal(blocked.length, 1);
    assert.ok(blocked[0]!.ageMs > 1000, `old while blocked: ${blocked[0]!.ageMs} ms`);
    await app.line(/unblocked/);
    await sleep(150);
    const after = beatsOf(s, pid);
    assert.ok(after.length === 1 && after[0]!.ageMs < FRESH_MS, `fresh again: ${JSON.stringify(after)}`);
    assert.equal(await exited(app), 0, 'the app ended by itself: the heartbeat timer does not keep it alive');
    assert.deepEqual(beatsOf(s, pid), [], 'an exited app has no beat');
  } finally {
    dispose();
  }
});

test('only the main thread beats; a discard-mode session gets no beat at all', async () => {
  const over = sessionIn(OVERWRITE, 'beat-worker');
  const discard = sessionIn(0, 'beat-discard');
  try {
    const a = startApp(over.s.info.name, ['worker-loop', '600']);
    const b = startApp(discard.s.info.name, ['loop', '600', '0']);
    await Promise.all([a.line(/ready attached/), b.line(/ready attached/)]);
    await sleep(300);
    assert.deepEqual(beatsOf(over.s, a.child.pid!).map((x) => x.tid), [a.child.pid], 'the main thread alone');
    assert.deepEqual(discard.s.heartbeats(), [], 'discard mode: no heartbeat');
    assert.deepEqual(await Promise.all([exited(a), exited(b)]), [0, 0]);
  } finally {
    over.dispose();
    discard.dispose();
  }
});

test('detaching (the session removed) stops the beat and clears it', async () => {
  const { s, dispose } = sessionIn(OVERWRITE, 'beat-detach');
  try {
    const app = startApp(s.info.name, ['loop', '1500', '0']);
    await app.line(/ready attached/);
    await sleep(200);
    assert.equal(beatsOf(s, app.child.pid!).length, 1, 'beating');
    Session.unlink(s.info.name); // the app notices within milliseconds (or at its 500 ms poll) and detaches
    await sleep(700);
    assert.deepEqual(beatsOf(s, app.child.pid!), [], 'cleared in the mapping this test still holds');
    assert.equal(await exited(app), 0);
  } finally {
    dispose();
  }
});
