// A traced process SIGKILLed between reserve and commit (the test addon's
// hook RINGTRACE_TEST_KILL_IN_RECORD=N: reserve the Nth record, write half of
// it, die) must not block its ring: record notices the dead writer, turns the
// record into padding counted as one lost event, and every event of the
// surviving process and every earlier event of the dead one is delivered.
// The hooks exist only in the test build of the addon (testAddonPath); the
// addon apps load ignores the variables.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emitterPath, testAddonPath } from '../fixtures/trace-helpers';

const cli = path.join(__dirname, '..', 'cli', 'trace-consume.js');
const hooked = (env: Record<string, string>) => ({ ...env, RINGTRACE_ADDON: testAddonPath });
// A session name of our own: the default (record-<pid>) may name a session another run left behind.
const ownSession = () => ['--session', `dw-${process.pid}-${randomBytes(4).toString('hex')}`];

test('the test addon (with the mid-record hooks) is built', () => {
  assert.ok(fs.existsSync(testAddonPath), `${testAddonPath} is missing: run npm run build:test-addon`);
});

test('the addon apps load has no test hooks: RINGTRACE_TEST_KILL_IN_RECORD does nothing', () => {
  const addon = path.join(__dirname, '..', '..', 'build', 'Release', 'ringtrace.node');
  assert.doesNotMatch(fs.readFileSync(addon).toString('latin1'), /RINGTRACE_TEST_/, 'no hook in the shipped binary');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-nohook-'));
  try {
    const out = path.join(work, 'trace');
    const env: NodeJS.ProcessEnv = { ...process.env, RINGTRACE_TEST_KILL_IN_RECORD: '1',
      RINGTRACE_TEST_STOP_IN_RECORD: '1', RINGTRACE_TEST_SLEEP_IN_RECORD: '1' };
    delete env['RINGTRACE_ADDON']; // the addon apps load
    const r = spawnSync(process.execPath, [cli, 'record', ...ownSession(), '-o', out, '--', process.execPath, emitterPath,
      'late', '2000'], { encoding: 'utf8', env, timeout: 60_000 });
    assert.equal(r.status, 0, `the traced app survived its first record: ${r.stderr}`);
    const stats = JSON.parse(spawnSync(process.execPath, [cli, 'stats', out, '--json'], { encoding: 'utf8' }).stdout) as
      { events: number; lost: number; errors: string[] };
    assert.deepEqual(stats.errors, []);
    assert.equal(stats.events, 2000, 'every event recorded');
    assert.equal(stats.lost, 0);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

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
        p.on('exit', (code, signal) => resolve({ text, code, signal, pid: p.pid }));
      });
      Promise.all([run(['late', '20000'], ${JSON.stringify(hooked({ RINGTRACE_TEST_KILL_IN_RECORD: String(KILL_AT) }))}),
                   run(['blast', '3', '20000'], {})]).then(([victim, survivor]) => {
        console.log(JSON.stringify({ victim: victim.signal, victimPid: victim.pid, survivor: survivor.text.trim() }));
      });`;
    const r = spawnSync(process.execPath, [cli, 'record', ...ownSession(), '-o', out, '--', process.execPath, '-e', driver],
      { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as
      { victim: string; victimPid: number; survivor: string };
    assert.equal(result.victim, 'SIGKILL', 'the victim was killed by the hook');
    const survivorEmitted = Number(/emitted (\d+)/.exec(result.survivor)?.[1]);
    assert.ok(survivorEmitted > 0, result.survivor);
    assert.match(r.stderr, new RegExp(`pid ${result.victimPid} thread ${result.victimPid} died between reserve and ` +
      'commit; its record is counted as lost'), 'the dead holder is named');
    assert.match(r.stderr, /lost 1 \(1 records of writers killed mid-record\)/);

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

test('a writer stopped (SIGSTOP) mid-record is waited for, not salvaged; nothing is lost', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-stopped-'));
  try {
    const out = path.join(work, 'trace');
    // The victim stops in its 3000th recorded event and is continued 2.5 s later
    // (longer than the consumer's 1 s patience for dead writers).
    const driver = `
      const { spawn } = require('node:child_process');
      const fs = require('node:fs');
      const run = (args, env) => {
        const p = spawn(process.execPath, [${JSON.stringify(emitterPath)}, ...args],
          { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
        let text = '';
        p.stdout.on('data', (d) => { text += d; });
        return { p, done: new Promise((resolve) => p.on('exit', (code) => resolve({ text, code }))) };
      };
      const state = (pid) => { try { const s = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
        return s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3); } catch { return '?'; } };
      const victim = run(['late', '20000'], ${JSON.stringify(hooked({ RINGTRACE_TEST_STOP_IN_RECORD: '3000' }))});
      const survivor = run(['blast', '4', '20000'], {});
      const wait = setInterval(() => {
        if (state(victim.p.pid) !== 'T') return;
        clearInterval(wait);
        setTimeout(() => process.kill(victim.p.pid, 'SIGCONT'), 2500);
      }, 20);
      Promise.all([victim.done, survivor.done]).then(([v, s]) =>
        console.log(JSON.stringify({ victim: v.code, survivor: s.text.trim() })));`;
    const r = spawnSync(process.execPath, [cli, 'record', ...ownSession(), '-o', out, '--', process.execPath, '-e', driver],
      { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { victim: number; survivor: string };
    assert.equal(result.victim, 0, 'the victim finished after SIGCONT');
    assert.doesNotMatch(r.stderr, /died between reserve and commit/, 'no salvage of a stopped writer');
    const view = spawnSync(process.execPath, [cli, 'view', out, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(view.status, 0, view.stderr);
    const events = view.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { fields: { tag: string } });
    assert.equal(events.filter((e) => e.fields.tag === 'after').length, 20000, 'every victim event, the stopped one too');
    assert.equal(events.filter((e) => e.fields.tag === 'blast').length,
      Number(/emitted (\d+)/.exec(result.survivor)?.[1]), 'every survivor event');
    const stats = JSON.parse(spawnSync(process.execPath, [cli, 'stats', out, '--json'], { encoding: 'utf8' }).stdout) as
      { lost: number };
    assert.equal(stats.lost, 0);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('a live writer stalled mid-record is not salvaged, though another process has exited', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-stalled-'));
  try {
    const out = path.join(work, 'trace');
    // One process records 10 events and exits normally (a dead pid of the
    // session); then the victim sleeps 2.5 s inside its 3000th record (alive,
    // not stopped: like a thread descheduled by CPU throttling), past the
    // consumer's 1 s patience, and finishes it.
    const driver = `
      const { spawn } = require('node:child_process');
      const run = (args, env) => new Promise((resolve) => {
        const p = spawn(process.execPath, [${JSON.stringify(emitterPath)}, ...args],
          { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
        let text = '';
        p.stdout.on('data', (d) => { text += d; });
        p.on('exit', (code, signal) => resolve({ text, code, signal }));
      });
      run(['count', '10', 'early'], {}).then((early) =>
        run(['late', '20000'], ${JSON.stringify(hooked({ RINGTRACE_TEST_SLEEP_IN_RECORD: '3000',
          RINGTRACE_TEST_SLEEP_MS: '2500' }))}).then((victim) =>
          console.log(JSON.stringify({ early: early.code, victim: victim.code }))));`;
    const r = spawnSync(process.execPath, [cli, 'record', ...ownSession(), '-o', out, '--', process.execPath, '-e', driver],
      { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').pop()!), { early: 0, victim: 0 });
    assert.doesNotMatch(r.stderr, /died between reserve and commit|stays blocked|abandon/, 'no salvage of a live writer');
    const view = spawnSync(process.execPath, [cli, 'view', out, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(view.status, 0, view.stderr);
    const events = view.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { fields: { tag: string } });
    assert.equal(events.filter((e) => e.fields.tag === 'early').length, 10);
    assert.equal(events.filter((e) => e.fields.tag === 'after').length, 20000, 'every victim event, the stalled one too');
    const stats = JSON.parse(spawnSync(process.execPath, [cli, 'stats', out, '--json'], { encoding: 'utf8' }).stdout) as
      { lost: number; errors: string[] };
    assert.deepEqual(stats.errors, []);
    assert.equal(stats.lost, 0);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});

test('a writer killed before writing its packet header: the sub-buffer is abandoned and counted', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-opener-'));
  try {
    const out = path.join(work, 'trace');
    // The victim dies right after reserving the first record from its 3000th
    // on that opens a sub-buffer, its packet header unwritten; the survivor
    // emits for 3 s meanwhile (on either CPU).
    const driver = `
      const { spawn } = require('node:child_process');
      const run = (args, env) => new Promise((resolve) => {
        const p = spawn(process.execPath, [${JSON.stringify(emitterPath)}, ...args],
          { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
        let text = '';
        p.stdout.on('data', (d) => { text += d; });
        p.on('exit', (code, signal) => resolve({ text, code, signal }));
      });
      Promise.all([run(['late', '20000'], ${JSON.stringify(hooked({ RINGTRACE_TEST_KILL_OPENING_AT: '3000' }))}),
                   run(['blast', '3', '20000'], {})]).then(([victim, survivor]) => {
        console.log(JSON.stringify({ victim: victim.signal, survivor: survivor.text.trim() }));
      });`;
    // 64 x 64 KiB: the victim's burst never fills its ring, so its records (the opening one too) are reserved.
    const r = spawnSync(process.execPath, [cli, 'record', ...ownSession(), '-o', out, '--subbuffer-size', '64K', '--subbuffers', '64',
      '--', process.execPath, '-e', driver], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { victim: string; survivor: string };
    assert.equal(result.victim, 'SIGKILL', 'the victim was killed by the hook');
    const committed = Number(/killed opening a sub-buffer at record (\d+)/.exec(r.stderr)?.[1]);
    assert.ok(committed >= 2999, r.stderr);
    const survivorEmitted = Number(/emitted (\d+)/.exec(result.survivor)?.[1]);
    const said = /ring (\d+): abandoned the sub-buffer at offset (\d+): (\d+) records lost \(.*bad header.*\); pid \d+ thread \d+ died holding it/
      .exec(r.stderr);
    assert.ok(said, `the recorder reports ring, offset and count: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /stays blocked/);
    const sidecar = JSON.parse(fs.readFileSync(path.join(out, '.ringtrace.json'), 'utf8')) as
      { totals: { abandonedRecords: number; lost: number };
        abandonedSubBuffers: { ring: number; subOffset: number; records: number; exact: boolean }[] };
    assert.deepEqual(sidecar.abandonedSubBuffers.map((a) => [a.ring, a.subOffset, a.records, a.exact]),
      [[Number(said[1]), Number(said[2]), Number(said[3]), true]]);
    assert.equal(sidecar.totals.abandonedRecords, Number(said[3]));

    const view = spawnSync(process.execPath, [cli, 'view', out, '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(view.status, 0, view.stderr);
    const events = view.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { fields: { tag: string } });
    const delivered = events.filter((e) => e.fields.tag === 'after' || e.fields.tag === 'blast').length;
    const stats = JSON.parse(spawnSync(process.execPath, [cli, 'stats', out, '--json'], { encoding: 'utf8' }).stdout) as
      { lost: number; errors: string[] };
    assert.deepEqual(stats.errors, []);
    // Every record: the victim's committed ones and its dead one, the survivor's. The side file's count
    // (the rings' counters) is the whole of it: a sub-buffer still open when recording ended is counted
    // there, with no later packet of its ring to carry the count into the trace.
    assert.equal(delivered + sidecar.totals.lost, committed + 1 + survivorEmitted,
      `delivered + lost == emitted: ${r.stderr}`);
    assert.ok(sidecar.totals.lost >= Number(said[3]), 'the abandoned records are in the lost count');
    assert.ok(stats.lost <= sidecar.totals.lost);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
