// Choosing what is recorded, end to end (docs/selection.md): record's -e,
// --exclude and --level across processes and worker threads, enable/disable
// while recording, bad patterns, and a malformed selection file.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emitterPath, runCommand, startEmitter, uniqueName } from '../fixtures/trace-helpers';
import { Session } from '../src/index';

const cli = path.join(__dirname, '..', 'cli', 'trace-consume.js');
const tmpTrace = (tag: string) => path.join(fs.mkdtempSync(path.join(os.tmpdir(), `rt-${tag}-`)), 'trace');
const tc = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('record -e / --exclude / --level / --filter: exactly the selected events, from two processes and their workers', () => {
  const out = tmpTrace('select');
  const node = JSON.stringify(process.execPath);
  const fixture = JSON.stringify(emitterPath);
  const r = tc('record', '-q', '-o', out, '-e', 'fixture:*', '-e', 'lv', '--exclude', 'fixture:b', '--level', 'info',
    '--filter', 'fixture:a: n < 100', '--', 'sh', '-c', `${node} ${fixture} classes 400 & ${node} ${fixture} workers 2 700; wait`);
  assert.equal(r.status, 0, r.stderr);
  const rounds = Number(/emitted (\d+)/.exec(r.stdout)?.[1]);
  assert.ok(rounds > 100, r.stdout);
  const stats = JSON.parse(tc('stats', out, '--json').stdout) as { perClass: Record<string, number>;
    filtered: Record<string, number>; lost: number };
  const { 'ringtrace:filtered': reports, ...classes } = stats.perClass;
  assert.ok(reports! >= 1, 'the filtered counts are in the trace');
  assert.deepEqual(classes, {
    'fixture:a': 100, 'fixture:s:begin': rounds, 'fixture:s:end': rounds, 'fixture:tick': rounds + 2 * 700,
    'lv:alarm': rounds, 'ringtrace:selection': 1, // the selection asked for, in the trace
  }, 'not fixture:b (excluded) nor lv:detail (debug, below info); fixture:a only while n < 100');
  assert.deepEqual(stats.filtered, { 'fixture:a': rounds - 100 }, 'emitted == delivered + lost + filtered');
  assert.equal(stats.lost, 0);
});

test('enable / disable while recording: the apps follow within the polling bound, and the trace says when', async () => {
  const out = tmpTrace('select-live');
  const name = uniqueName('select');
  const rec = runCommand(process.execPath, [cli, 'record', '-q', '-s', name, '-o', out, '--', process.execPath,
    emitterPath, 'classes', '4000'], { RINGTRACE_POLL_MS: '500' }); // 2 s left after the last change
  await sleep(1000);
  const off = tc('disable', '-s', name, 'fixture:b', 'lv:*');
  assert.equal(off.status, 0, off.stderr);
  assert.match(off.stdout, /selection 1 in force:\ndefault on\ndisable fixture:b\ndisable lv:\*/);
  await sleep(1000);
  const on = tc('enable', '-s', name, 'fixture:b');
  assert.equal(on.status, 0, on.stderr);
  const r = await rec;
  assert.equal(r.code, 0, r.stderr);
  const flip = (cls: string, state: string) => Number(new RegExp(`flip ${cls} ${state} at round (\\d+)`).exec(r.stdout)?.[1]);
  const offAt = flip('fixture:b', 'off');
  const onAt = flip('fixture:b', 'on');
  const detailOff = flip('lv:detail', 'off');
  const rounds = Number(/emitted (\d+)/.exec(r.stdout)?.[1]);
  assert.ok(offAt > 0 && onAt > offAt && onAt < rounds, r.stdout);
  const view = tc('view', out, '--json');
  const lines = view.stdout.trim().split('\n').map((l) => JSON.parse(l) as
    { event: string; provider: string; fields: Record<string, unknown>; timestamp_ns: string });
  const ns = (l: { fields: Record<string, unknown> }) => Number(l.fields['n']);
  const b = lines.filter((l) => l.provider === 'fixture' && l.event === 'b').map(ns);
  assert.deepEqual(b, Array.from({ length: rounds }, (_, i) => i).filter((i) => i < offAt || i >= onAt),
    'fixture:b recorded exactly while the app had it enabled');
  assert.deepEqual(lines.filter((l) => l.event === 'detail').map(ns), Array.from({ length: detailOff }, (_, i) => i));
  assert.equal(lines.filter((l) => l.event === 'a').length, rounds, 'the rest untouched');
  // When: each change is in the trace; the app followed it within the polling bound.
  const changes = lines.filter((l) => l.event === 'selection').map((l) => BigInt(l.timestamp_ns));
  assert.equal(changes.length, 2, 'no selection asked at the start (everything): only the two changes');
  const firstOffB = BigInt(lines.find((l) => l.event === 'a' && ns(l) === offAt)!.timestamp_ns);
  const delayMs = Number(firstOffB - changes[0]!) / 1e6;
  assert.ok(delayMs < 600, `the app stopped recording fixture:b ${delayMs} ms after the change`);
});

test('bad patterns, levels and filters are usage errors; a session must exist to be changed', () => {
  const out = tmpTrace('select-bad');
  for (const [args, message] of [
    [['-e', 'http:re(quest)'], /'http:re\(quest\)' is not an event pattern/],
    [['--level', 'loud'], /--level: "loud" is not a level/],
    [['--filter', 'no colon here'], /--filter 'no colon here': expected 'PATTERN: EXPRESSION'/],
  ] as const) {
    const r = tc('record', '-o', out, '--duration', '1', ...args);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(fs.existsSync(out), false, 'nothing created');
  }
  const none = tc('enable', '-s', uniqueName('nosuch'), 'a:b');
  assert.equal(none.status, 1);
  assert.match(none.stderr, /no session/);
  const empty = tc('disable', '-s', 'x');
  assert.equal(empty.status, 2);
  assert.match(empty.stderr, /nothing to disable/);
});

test('a malformed selection file: the app keeps the selection in force and says so once', async () => {
  const name = uniqueName('select-malformed');
  const s = Session.create(name, { subBufferSize: 1 << 16, subBuffers: 4 });
  try {
    const app = startEmitter(name, ['classes', '1500']);
    await sleep(500);
    fs.writeFileSync(s.selectionPath(), 'ringtrace-selection 1\ndisable fixture:b\nnonsense here\n', { mode: 0o600 });
    s.bumpSelection();
    const r = await app.done;
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /flip fixture:b/, 'still enabled');
    const warnings = r.stderr.split('\n').filter((l) => l.includes('RingtraceWarning'));
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(warnings[0]!, /ignoring the session's new selection \(the previous one stays\): .*\.selection: line 3: expected default on\|off/);
  } finally {
    s.remove();
    s.close();
  }
});
