// `trace-consume flight` and `snapshot` end to end, with real traced programs
// (fixtures/flight-app.ts): each trigger source fires exactly once per
// occurrence and its snapshot holds the triggering event; snapshots are
// traces every reader (and babeltrace2) reads; rotation keeps the newest N.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { uniqueName } from '../fixtures/trace-helpers';

const cli = path.join(__dirname, '..', 'cli', 'trace-consume.js');
const app = path.join(__dirname, '..', 'fixtures', 'flight-steps.js');
const hasBabeltrace = spawnSync('babeltrace2', ['--version']).status === 0;
const tmpDir = (tag: string) => path.join(fs.mkdtempSync(path.join(os.tmpdir(), `rt-${tag}-`)), 'snaps');

interface Run { code: number | null; stdout: string; stderr: string }

/** Run the CLI; `started` resolves once its standard error shows `ready` (or it ended). */
function start(args: string[], ready = /^$/): { done: Promise<Run>; started: Promise<void>; child: ChildProcess } {
  const child = spawn(process.execPath, [cli, ...args]);
  let stdout = '';
  let stderr = '';
  let markStarted = () => undefined as void;
  const started = new Promise<void>((r) => { markStarted = r; });
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (ready.test(stderr)) markStarted();
  });
  const done = new Promise<Run>((resolve) => child.on('close', (code) => {
    markStarted();
    resolve({ code, stdout, stderr });
  }));
  return { done, started, child };
}
const run = (args: string[]) => start(args).done;

/** flight with the fixture app running `steps`; small rings so they wrap; no hold-off unless `extra` gives one. */
function flight(out: string, steps: string[], extra: string[] = []): Promise<Run> {
  const holdoff = extra.includes('--holdoff') ? [] : ['--holdoff', '0'];
  return run(['flight', '-o', out, '-s', uniqueName('flight'), '--buffer-size', '256K', '--subbuffers', '8',
    ...holdoff, ...extra, '--', process.execPath, app, ...steps]);
}

function snapshots(out: string): string[] {
  return fs.existsSync(out) ? fs.readdirSync(out).filter((n) => n.startsWith('snapshot-')).sort() : [];
}

interface Stats { events: number; perClass: Record<string, number>; errors: string[];
  snapshot: { reasons: string[]; overwritten: number } | null }
function stats(dir: string): Stats {
  const r = spawnSync(process.execPath, [cli, 'stats', dir, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Stats;
}

function events(dir: string, cls: string): Record<string, unknown>[] {
  const r = spawnSync(process.execPath, [cli, 'view', dir, '--json', '--event', cls],
    { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('an app request, an event trigger and a slow span each give one snapshot holding what fired it', async () => {
  const out = tmpDir('flight');
  // 20 000 ticks (~500 KiB) wrap the 256 KiB rings before anything fires.
  const r = await flight(out, ['emit', '20000', 'request', 'checkout failed', 'sleep', '300', 'emit', '100',
    'error', '42', 'sleep', '300', 'slow', '400', 'sleep', '300', 'emit', '10'],
  ['--trigger', 'fx:error', '--trigger', 'fx:work: duration > 250ms']);
  assert.equal(r.code, 0, r.stderr);
  // Each occurrence is listed once, in a snapshot that holds its event (a slow host may gather
  // occurrences into fewer snapshots; none is listed twice or missing).
  const dirs = snapshots(out).map((d) => path.join(out, d));
  const listed = dirs.flatMap((d) => stats(d).snapshot!.reasons.map((reason) => ({ d, reason })));
  assert.equal(listed.length, 3, listed.map((l) => l.reason).join('\n') + r.stderr);
  const find = (re: RegExp) => {
    const hits = listed.filter((l) => re.test(l.reason));
    assert.equal(hits.length, 1, `one reason matches ${re}`);
    return hits[0]!.d;
  };
  const req = find(/^app request from process \d+: checkout failed$/);
  const err = find(/^trigger 'fx:error' on fx:error from process \d+ \(thread \d+\)$/);
  const slow = find(/^trigger 'fx:work: duration > 250ms' on fx:work from process \d+/);
  const s1 = stats(req);
  assert.ok(s1.snapshot!.overwritten > 0, 'the rings wrapped before the first snapshot');
  assert.equal(s1.errors.length, 0);
  assert.equal(events(req, 'ringtrace:snapshot_request').length >= 1, true);
  // The newest ticks before the request are there, each once; with those the rings overwrote,
  // every tick emitted before it (the app was asleep meanwhile: nothing was torn or open).
  const ticks = events(req, 'fx:tick').map((e) => (e['fields'] as { seq: number }).seq).filter((q) => q < 20000);
  assert.ok(ticks.includes(19999), 'the newest tick');
  assert.equal(new Set(ticks).size, ticks.length, 'no tick twice');
  assert.equal(ticks.length + s1.snapshot!.overwritten, 20000, 'in the snapshot + overwritten == emitted');
  assert.deepEqual(events(err, 'fx:error').map((e) => (e['fields'] as { code: number }).code), [42]);
  assert.ok(events(slow, 'fx:work').length >= 2, 'the span start and end');
  assert.match(r.stderr, /trigger 'fx:error' fired 1x, trigger 'fx:work: duration > 250ms' fired 1x/);

  if (hasBabeltrace) {
    const bt = spawnSync('babeltrace2', [req], { encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(bt.status, 0, bt.stderr);
    assert.match(bt.stdout, /fx:tick/);
  }
});

test('a command that exits non-zero, an uncaught exception, a stalled event loop: one snapshot each', async () => {
  const exit = tmpDir('exit'); // the app's request as it exits and its exit code: one incident, one snapshot
  const r1 = await flight(exit, ['emit', '100', 'exit', '3'], ['--holdoff', '1s']);
  assert.equal(r1.code, 3, 'flight returns the command\'s exit code');
  assert.deepEqual(snapshots(exit).map((d) => stats(path.join(exit, d)).snapshot?.reasons
    .map((x) => x.replace(/process \d+/, 'process P')).sort()), [['app request from process P: exiting with code 3',
    'node exited with code 3']], 'the app asked as it exited; the recorder saw the exit code');

  const thrown = tmpDir('throw');
  // The exception's request and the exit it causes are one incident: one snapshot (the hold-off).
  const r2 = await flight(thrown, ['emit', '100', 'throw', 'boom'], ['--holdoff', '1s']);
  assert.equal(r2.code, 1, 'an uncaught exception still ends the app as without tracing');
  const [d2] = snapshots(thrown).map((d) => path.join(thrown, d));
  assert.equal(snapshots(thrown).length, 1);
  const reasons = stats(d2!).snapshot!.reasons.join('\n');
  assert.match(reasons, /uncaught exception: boom/);
  assert.match(reasons, /node exited with code 1/);
  assert.equal(events(d2!, 'ringtrace:uncaught_exception').length, 1);

  const stall = tmpDir('stall');
  const r3 = await flight(stall, ['emit', '100', 'sleep', '300', 'stall', '1500', 'sleep', '200'], ['--stall', '500ms']);
  assert.equal(r3.code, 0, r3.stderr);
  const [d3] = snapshots(stall).map((d) => path.join(stall, d));
  assert.equal(snapshots(stall).length, 1, r3.stderr);
  assert.match(stats(d3!).snapshot!.reasons[0]!, /^event loop of process \d+ stalled \(no turn for \d+ ms\)$/);
  assert.equal(stats(d3!).perClass['fx:tick'], 100, 'what led to the stall is in the snapshot');
});

test('trace-consume snapshot writes one now; --max-snapshots keeps the newest', async () => {
  const out = tmpDir('rotate');
  const name = uniqueName('rotate');
  const steps: string[] = [];
  for (let i = 0; i < 5; i++) steps.push('emit', '10', 'request', `r${i}`, 'sleep', '250');
  const flying = start(['flight', '-o', out, '-s', name, '--holdoff', '0', '--max-snapshots', '2', '--buffer-size', '256K',
    '--subbuffers', '8', '--', process.execPath, app, 'sleep', '400', ...steps], /flight recorder on session/);
  await flying.started; // the session exists
  const now = path.join(path.dirname(out), 'now');
  const s = await run(['snapshot', '-s', name, '-o', now, '--reason', 'by hand']);
  assert.equal(s.code, 0, s.stderr);
  assert.deepEqual(stats(now).snapshot?.reasons, ['by hand']);
  const r = await flying.done;
  assert.equal(r.code, 0, r.stderr);
  const taken = Number(/(\d+) snapshots? taken/.exec(r.stderr)?.[1]);
  assert.ok(taken >= 2, r.stderr);
  const kept = snapshots(out);
  assert.deepEqual(kept.map((d) => Number(/-(\d+)-/.exec(d)![1])), [taken - 1, taken]);
  assert.match(stats(path.join(out, kept[1]!)).snapshot!.reasons.join('\n'), /: r4$/m);
  const bad = await run(['snapshot', '-s', uniqueName('nosuch')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /no session/);
});

test('attached apps: a non-zero exit and a SIGKILL each give one snapshot naming the process', async () => {
  const out = tmpDir('attached');
  const name = uniqueName('attached');
  const flying = start(['flight', '-o', out, '-s', name, '--holdoff', '0', '--buffer-size', '256K', '--subbuffers', '8'],
    /flight recorder on session/);
  await flying.started;
  const env = { ...process.env, RINGTRACE_SESSION: name };
  const exiting = spawn(process.execPath, [app, 'emit', '100', 'exit', '2'], { env, stdio: 'ignore' });
  const exitCode = await new Promise((r) => exiting.on('exit', r));
  assert.equal(exitCode, 2, 'the app exits as it would untraced');
  const killed = spawn(process.execPath, [app, 'emit', '50', 'sleep', '20000'], { env });
  await new Promise<void>((r) => killed.stdout.on('data', (d: Buffer) => { if (/step 1 sleep/.test(d.toString())) r(); }));
  await new Promise((r) => setTimeout(r, 250)); // it has beaten at least once
  killed.kill('SIGKILL');
  for (let i = 0; i < 100 && snapshots(out).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300)); // nothing more comes
  flying.child.kill('SIGINT');
  const r = await flying.done;
  assert.equal(r.code, 0, r.stderr);
  const reasons = snapshots(out).flatMap((d) => stats(path.join(out, d)).snapshot!.reasons);
  assert.deepEqual(reasons.sort(), [`app request from process ${exiting.pid}: exiting with code 2`,
    `process ${killed.pid} ended without exiting (killed by a signal, or crashed)`].sort());
});
