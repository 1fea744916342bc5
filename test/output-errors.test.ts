// Output errors while recording: a full disk stops the recording with a clear
// error, the trace keeps every packet written before (whole packets only),
// the traced command runs to its end, and every event is accounted for:
// written + could not be written + lost to full rings == emitted.
// Needs a small filesystem to fill: a 2 MiB tmpfs, mounted when running as
// root (CI runs as root); skipped otherwise.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emitterPath } from '../fixtures/trace-helpers';

const cli = path.join(__dirname, '..', 'cli', 'trace-consume.js');
const tc = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-full-'));

function mountSmall(options: string): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to mount a small tmpfs (CI runs as root)';
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', mnt], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `cannot mount a tmpfs here: ${r.stderr.trim()}`;
}
const umount = () => spawnSync('umount', [mnt]);

test.after(() => fs.rmSync(mnt, { recursive: true, force: true }));

test('a full disk stops recording with a clear error and a readable, exactly accounted trace', (t) => {
  const skip = mountSmall('size=2m,mode=0700');
  if (skip) return t.skip(skip);
  try {
    const out = path.join(mnt, 'trace');
    const emitted = 200_000;
    const r = tc('record', '-o', out, '--', process.execPath, emitterPath, 'mixed', String(emitted), '1000000');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, new RegExp(`emitted ${emitted}`), 'the traced command ran to its end');
    assert.match(r.stderr, new RegExp(`stopped recording: cannot write ${out}/stream_cpu\\d: No space left on device`));
    const m = /holds the (\d+) events written before the error, readable \(no partial packet\); (\d+) events still in the rings could not be written, (\d+) were lost to full rings/.exec(r.stderr);
    assert.ok(m, r.stderr);
    const [written, unwritten, lost] = [Number(m[1]), Number(m[2]), Number(m[3])];
    assert.ok(written > 0);
    assert.equal(written + unwritten + lost, emitted, 'every event accounted for');

    const stats = tc('stats', out, '--json');
    assert.equal(stats.status, 0, stats.stderr);
    const s = JSON.parse(stats.stdout) as { events: number; errors: string[]; incomplete: string | null };
    assert.equal(s.events, written, 'the trace holds exactly the events reported written');
    assert.deepEqual(s.errors, [], 'no partial packet at the end of a stream');
    // The side file is small; if it fitted, stats says why the trace is short.
    if (fs.existsSync(path.join(out, '.ringtrace.json'))) assert.match(s.incomplete ?? '', /stopped early: cannot write/);
    else assert.match(s.incomplete ?? '', /did not finish/);
    const view = tc('export', out, '-f', 'jsonl', '-o', '-');
    assert.equal(view.stdout.split('\n').length - 1, written);
  } finally {
    umount();
  }
});

/** Classes used by the trace's records but not described by its metadata, and the reader's errors. */
function readability(out: string): { events: number; errors: string[] } {
  const st = tc('stats', out, '--json');
  assert.equal(st.status, 0, st.stderr);
  return JSON.parse(st.stdout) as { events: number; errors: string[] };
}

test('whatever the disk has room for, the trace is readable and every event is accounted for', (t) => {
  const skip = mountSmall('size=2m,mode=0700');
  if (skip) return t.skip(skip);
  // Room left for the recording: none at all, a page or two (metadata but no packet), exactly
  // a packet and its metadata, and more; 512 KiB sub-buffers, packets of up to 512 KiB.
  const rooms = [0, 4096, 12288, 516 * 1024, 528 * 1024, 1040 * 1024];
  try {
    for (const room of rooms) {
      const filler = path.join(mnt, 'filler');
      const out = path.join(mnt, 'trace');
      fs.rmSync(out, { recursive: true, force: true });
      fs.rmSync(filler, { force: true });
      const free = () => { const s = fs.statfsSync(mnt); return s.bavail * s.bsize; };
      fs.writeFileSync(filler, Buffer.alloc(Math.max(0, free() - room)));
      const emitted = 100_000;
      const r = tc('record', '-o', out, '--', process.execPath, emitterPath, 'mixed', String(emitted), '1000000');
      const what = `room ${room}: ${r.stderr}`;
      if (!/emitted/.test(r.stdout)) { // no room even for the metadata: refused before the command ran
        assert.equal(r.status, 1, what);
        assert.match(r.stderr, /stopped recording: cannot write .*metadata: No space left on device/, what);
        continue;
      }
      const m = /holds the (\d+) events written before the error.*?; (\d+) events still in the rings could not be written, (\d+) were lost/.exec(r.stderr);
      const trace = readability(out);
      assert.deepEqual(trace.errors, [], `${what}: readable`);
      if (m) {
        assert.equal(r.status, 1, what);
        assert.equal(Number(m[1]) + Number(m[2]) + Number(m[3]), emitted, `${what}: every event accounted for`);
        assert.equal(trace.events, Number(m[1]), what);
      } else {
        assert.equal(r.status, 0, what);
        assert.equal(trace.events, emitted, what);
      }
      if (trace.events > 0) assert.notEqual(fs.readFileSync(path.join(out, '.classes'), 'utf8'), '', what);
    }
  } finally {
    umount();
  }
});

test('an output directory that cannot be created is an error before anything runs', (t) => {
  const skip = mountSmall('size=1m,ro');
  if (skip) return t.skip(skip);
  try {
    const r = tc('record', '-o', path.join(mnt, 'trace'), '--', process.execPath, '-e', 'console.log("ran")');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /cannot create output directory .*trace: read-only file system/);
    assert.doesNotMatch(r.stdout, /ran/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    umount();
  }
});
