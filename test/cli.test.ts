// The trace-consume CLI: help on every command, and the doctor round trip.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const cli = path.join(__dirname, '..', 'cli', 'trace-consume.js');
const run = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

test('--help lists the commands; each command has --help', () => {
  const top = run(['--help']);
  assert.equal(top.status, 0);
  assert.match(top.stdout, /doctor/);
  const doc = run(['doctor', '--help']);
  assert.equal(doc.status, 0);
  assert.match(doc.stdout, /Examples:/);
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
