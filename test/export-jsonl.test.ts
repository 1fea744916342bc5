// The JSON lines export formats records straight from their bytes
// (src/export/jsonl.ts, JsonlWriter) and writes through a second thread
// (background-writer.ts). Its output must be byte for byte what the
// reference formatter behind `view --json` prints, for awkward values too,
// and output errors must surface as clear errors.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emitterPath } from '../fixtures/trace-helpers';

const cli = path.join(__dirname, '..', 'cli', 'trace-consume.js');
const tc = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-jsonl-'));
const awkward = path.join(work, 'awkward');
const mixed = path.join(work, 'mixed');
const MIXED_EVENTS = 60_000; // ~10 MB of JSON lines: more than the writer thread's 16 x 256 KiB buffers

test.before(() => {
  let r = tc('record', '-q', '-o', awkward, '--', process.execPath, emitterPath, 'awkward');
  assert.equal(r.status, 0, r.stderr);
  r = tc('record', '-q', '-o', mixed, '--subbuffers', '32', '--', process.execPath, emitterPath, 'mixed',
    String(MIXED_EVENTS), '1000000');
  assert.equal(r.status, 0, r.stderr);
});
test.after(() => fs.rmSync(work, { recursive: true, force: true }));

function exportJsonl(dir: string): string {
  const out = path.join(work, `${path.basename(dir)}.jsonl`);
  const r = tc('export', dir, '-f', 'jsonl', '-o', out);
  assert.equal(r.status, 0, r.stderr);
  return fs.readFileSync(out, 'utf8');
}

test('export jsonl equals view --json byte for byte on awkward values', () => {
  const fast = exportJsonl(awkward);
  const reference = tc('view', awkward, '--json');
  assert.equal(reference.status, 0, reference.stderr);
  assert.ok(fast === reference.stdout, 'identical output');
  const lines = fast.trim().split('\n').map((l) => JSON.parse(l) as { fields: Record<string, unknown> });
  assert.equal(lines.length, 40);
  const byString = (s: string) => lines.find((l) => l.fields['s'] === s)!.fields;
  assert.equal(byString('say "hi"')['s'], 'say "hi"');
  assert.equal(byString('tab\tnew\nline\u0001\u001f')['s'], 'tab\tnew\nline\u0001\u001f');
  assert.equal(byString('héllo ✓')['s'], 'héllo ✓');
  assert.equal(byString('😀 astral')['s'], '😀 astral');
  assert.equal(lines.filter((l) => (l.fields['s'] as string).length === 5000).length, 4);
  const all = (k: string) => lines.map((l) => l.fields[k]);
  assert.ok(all('d').includes('NaN') && all('d').includes('-Infinity'), 'non-finite doubles are strings');
  assert.ok(all('i').includes(2 ** 53 - 1) && all('i').includes('9007199254740992'), 'i64 exact: number or string');
  assert.ok(all('i').includes('-9223372036854775808') && all('u').includes('9223372036854775808'));
  assert.ok(all('n').includes(-1000003) && all('b').includes('01fe'));
});

test('export jsonl equals view --json on spans, events and counters, across many output buffers', () => {
  const fast = exportJsonl(mixed);
  const reference = tc('view', mixed, '--json');
  assert.equal(reference.status, 0, reference.stderr);
  assert.ok(fast.length > 5 * (1 << 20), `output of ${fast.length} bytes spans many writer buffers`);
  assert.equal(fast.split('\n').length - 1, MIXED_EVENTS);
  assert.ok(fast === reference.stdout, 'identical output');
});

test('export output errors: a full device is a clear error, a closed pipe a quiet end', () => {
  if (fs.existsSync('/dev/full')) {
    const r = tc('export', mixed, '-f', 'jsonl', '-o', '/dev/full');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /cannot write \/dev\/full: .*ENOSPC/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
  }
  for (const format of ['jsonl', 'chrome', 'perfetto']) {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${cli}" export "${mixed}" -f ${format} -o - | head -c 100 ` +
      '>/dev/null; echo "status ${PIPESTATUS[0]}"'], { encoding: 'utf8' });
    assert.match(r.stdout, /status 0/, `${format}: ${r.stderr}`);
    assert.equal(r.stderr, '', format);
  }
});
