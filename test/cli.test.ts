// The trace-consume CLI: help on every command, the doctor round trip,
// usage errors and what stats and view say about what a trace lacks.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emitterPath } from '../fixtures/trace-helpers';

const cli = path.join(__dirname, '..', 'cli', 'trace-consume.js');
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

test('--help lists the commands; each command has --help with examples', () => {
  const top = run(['--help']);
  assert.equal(top.status, 0);
  const commands = [...top.stdout.split('Commands:')[1]!.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1]!)
    .filter((c) => c !== 'help');
  assert.ok(commands.length >= 13, `commands listed: ${commands.join(', ')}`);
  for (const command of commands) {
    const r = run([command, '--help']);
    assert.equal(r.status, 0, `${command} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: trace-consume ${command}`), command);
    assert.match(r.stdout, /\nExamples:\n {2}\$ trace-consume /, `${command} --help has examples`);
  }
});

test('doctor records and reads back every event', () => {
  const r = run(['doctor', '--json', '--events', '20000']);
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { ok: boolean; emitted: number; delivered: number; lost: number };
  assert.equal(report.ok, true);
  assert.equal(report.emitted, report.delivered + report.lost);
});

test('doctor works and says so when rseq is disabled', () => {
  const r = run(['doctor'], { GLIBC_TUNABLES: 'glibc.pthread.rseq=0' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /not registered \(atomic fallback\)/);
});

test('bad arguments give a clear error and a non-zero exit', () => {
  const r = run(['doctor', '--events', 'many']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /positive integer/);
});

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-cli-'));
test.after(() => fs.rmSync(work, { recursive: true, force: true }));

function recordEmitter(name: string, ...emitterArgs: string[]): string {
  const dir = path.join(work, name);
  const r = run(['record', '-q', '-o', dir, '--', process.execPath, emitterPath, ...emitterArgs]);
  assert.equal(r.status, 0, r.stderr);
  return dir;
}

test('stats on a trace without events reads its side file: no "unknown" remote commits', () => {
  const dir = path.join(work, 'empty');
  const rec = run(['record', '-q', '-o', dir, '--', process.execPath, '-e', '0']);
  assert.equal(rec.status, 0, rec.stderr);
  assert.ok(fs.existsSync(path.join(dir, '.ringtrace.json')));
  const r = run(['stats', dir]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^events: +0$/m);
  assert.match(r.stdout, /^remote commits: 0 \(no events\)$/m);
  const s = JSON.parse(run(['stats', dir, '--json']).stdout) as { remoteCommits: number | null };
  assert.equal(s.remoteCommits, 0);
  fs.rmSync(path.join(dir, '.ringtrace.json'));
  assert.match(run(['stats', dir]).stdout, /^remote commits: unknown \(no \.ringtrace\.json\)$/m);
});

test('view --event with a name the trace does not have: a usage error listing near names', () => {
  const dir = recordEmitter('names', 'mixed', '40');
  const ok = run(['view', dir, '--event', 'fixture:request']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout.trim().split('\n').length, 10);

  const typo = run(['view', dir, '--event', 'fixture:requst']);
  assert.equal(typo.status, 2, 'a usage error');
  assert.equal(typo.stdout, '');
  assert.match(typo.stderr, /^trace-consume: no event 'fixture:requst' in this trace; near names: fixture:request\b/m);

  const bare = run(['view', dir, '--event', 'handle']); // a span: begin and end records
  assert.equal(bare.status, 0, bare.stderr);
  assert.equal(bare.stdout.trim().split('\n').length, 20);
  const part = run(['view', dir, '--event', 'handle:begn,fixture:tick']);
  assert.equal(part.status, 2);
  assert.match(part.stderr, /no event 'handle:begn' in this trace; near names: fixture:handle:begin\b/);
  assert.doesNotMatch(part.stderr, /'fixture:tick'/, 'a class registered without events in the trace is a known name');

  const none = run(['view', dir, '--event', 'nosuch']);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /no event 'nosuch' in this trace; its events: fixture:depth, fixture:handle:begin, /);
});

test('command-line mistakes are usage errors (exit 2); damage stays exit 1', () => {
  assert.equal(run(['view']).status, 2, 'missing argument');
  assert.equal(run(['export', work, '-f', 'svg', '-o', '-']).status, 2, 'bad choice');
  assert.equal(run(['stats', path.join(work, 'absent')]).status, 1, 'no such directory: not a usage error');
});

test('stats counts the events apps dropped for invalid values, and view shows why', () => {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rt-invalid-')), 'trace');
  const rec = run(['record', '-q', '-o', out, '--', process.execPath, emitterPath, 'wrongtype', '200']);
  assert.equal(rec.status, 0, rec.stderr);
  const survived = Number(/survived (\d+)/.exec(rec.stdout)?.[1]);
  const stats = JSON.parse(run(['stats', out, '--json']).stdout) as { invalidValues: number };
  assert.equal(stats.invalidValues, survived, 'one per wrong emit: the session existed from the start');
  assert.match(run(['stats', out]).stdout, new RegExp(`invalid:  ${survived} \\(events apps dropped`));
  const first = JSON.parse(run(['view', out, '--json', '--event', 'ringtrace:invalid_value']).stdout.split('\n')[0]!) as
    { fields: Record<string, string> };
  assert.equal(first.fields['event'], 'fixture:request');
  assert.match(first.fields['problem']!, /field 'status' \(u16\) expects an integer in \[0, 65535\], got string "200"/);
});
