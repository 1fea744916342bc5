// A traced Node program that starts a child with child_process.fork (a new
// process image: it starts clean) gets the child's events in the same
// recording, under the child's own pid, and nothing under a wrong one.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emitterPath } from '../fixtures/trace-helpers';

const cli = path.join(__dirname, '..', 'cli', 'trace-consume.js');

test('a forked child process records under its own pid', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-fork-'));
  try {
    const out = path.join(work, 'trace');
    // The parent emits 500 'parent' events, then forks a child that emits 700 'child' events.
    const script = `
      const { fork } = require('node:child_process');
      const emitter = ${JSON.stringify(emitterPath)};
      const parent = fork(emitter, ['late', '500'], { stdio: 'inherit' });
      parent.on('exit', () => {
        const child = fork(emitter, ['late', '700'], { stdio: 'inherit' });
        child.on('exit', (code) => process.exit(code));
      });`;
    const r = spawnSync(process.execPath, [cli, 'record', '-q', '-o', out, '--', process.execPath, '-e', script],
      { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const view = spawnSync(process.execPath, [cli, 'view', out, '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const lines = view.stdout.trim().split('\n').map((l) => JSON.parse(l) as { pid: number; tid: number;
      fields: { tag: string } });
    const byPid = new Map<number, number>();
    for (const l of lines.filter((x) => x.fields.tag !== 'before')) byPid.set(l.pid, (byPid.get(l.pid) ?? 0) + 1);
    assert.deepEqual([...byPid.values()].sort((a, b) => a - b), [500, 700], 'two processes, each its own events');
    for (const l of lines) assert.equal(l.tid, l.pid, 'main threads: tid == pid');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
