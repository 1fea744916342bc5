// Runs the native C tests (unit, bad input, stress) from node's test runner, in
// every variant the core must survive: rseq, glibc's rseq disabled (atomic
// fallback), and the CLOCK_MONOTONIC clock. Each run tells the test binary the
// path it must be on (RINGTRACE_TEST_EXPECT_RSEQ, native/test/mode.h); a run
// on the other path fails instead of silently testing it.
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import * as path from 'node:path';

const nativeDir = path.join(__dirname, '..', '..', 'native');
const bin = (name: string) => path.join(nativeDir, 'build', name);
const RSEQ = { RINGTRACE_TEST_EXPECT_RSEQ: '1' };
const NO_RSEQ = { GLIBC_TUNABLES: 'glibc.pthread.rseq=0', RINGTRACE_TEST_EXPECT_RSEQ: '0' };

before(() => {
  execFileSync('make', ['-s', '-C', nativeDir, 'all'], { stdio: 'inherit' });
});

function runNative(name: string, args: string[] = [], env: Record<string, string> = {}): string {
  const r = spawnSync(bin(name), args, {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 300_000,
  });
  const out = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.error, undefined, `${name} could not run: ${r.error?.message}`);
  assert.equal(r.status, 0, `${name} ${args.join(' ')} failed (status ${r.status}, signal ${r.signal}):\n${out}`);
  assert.doesNotMatch(r.stdout, /^not ok/m, out);
  return out;
}

test('ring unit tests (rseq)', () => { runNative('test_ring', [], RSEQ); });
test('ring unit tests (rseq disabled: atomic fallback)', () => {
  runNative('test_ring', [], NO_RSEQ);
});
test('fork: children record into the same rings under their own pid', () => {
  runNative('test_fork', [], RSEQ);
});
test('fork (atomic fallback)', () => { runNative('test_fork', [], NO_RSEQ); });
test('dead writers: a record killed between reserve and commit is salvaged, others intact', () => {
  runNative('test_salvage', [], RSEQ);
});
test('dead writers (atomic fallback)', () => { runNative('test_salvage', [], NO_RSEQ); });
test('writer table: who holds a reservation, liveness, slots per thread, fork, full table, nesting', () => {
  runNative('test_writers', [], RSEQ);
});
test('writer table (atomic fallback)', () => { runNative('test_writers', [], NO_RSEQ); });
test('a dead opener whose packet header was never written: its sub-buffer is abandoned, counted', () => {
  runNative('test_abandon', [], RSEQ);
});
test('abandoned sub-buffers (atomic fallback)', () => { runNative('test_abandon', [], NO_RSEQ); });
test('overwrite mode: rings wrap counting exactly what they overwrite; a lap in progress is never overwritten', () => {
  runNative('test_overwrite', [], RSEQ);
});
test('overwrite mode (atomic fallback)', () => { runNative('test_overwrite', [], NO_RSEQ); });
test('overwrite mode: dead writers found and salvaged by the recorder, live ones waited for', () => {
  runNative('test_overwrite_salvage', [], RSEQ);
});
test('overwrite mode dead writers (atomic fallback)', () => { runNative('test_overwrite_salvage', [], NO_RSEQ); });
test('snapshots under load: contiguous, whole, exact accounting; a writer killed mid-record', () => {
  const out = runNative('test_snapshot', [], RSEQ);
  process.stdout.write(out.split('\n').filter((l) => l.startsWith('#')).join('\n') + '\n');
});
test('snapshots under load (atomic fallback)', () => { runNative('test_snapshot', [], NO_RSEQ); });
test('peeking: records once each as committed, overwritten ones skipped and counted', () => {
  runNative('test_peek', [], RSEQ);
});
test('peeking (atomic fallback)', () => { runNative('test_peek', [], NO_RSEQ); });
test('damaged shared memory: opened, drained, salvaged without a crash (300 seeded rounds)', () => {
  runNative('test_fuzz_shm');
});
test('bad input is refused with clear errors', () => { runNative('test_bad_input', [], RSEQ); });
test('bad input is refused with clear errors (atomic fallback)', () => {
  runNative('test_bad_input', [], NO_RSEQ);
});
test('consumer lock: many consumers racing for one session, never two at once', () => {
  runNative('test_consumer_lock');
});
test('C API (ringtrace.h): values, string cuts, threads, fork', () => { runNative('test_capi', [], RSEQ); });
test('C API (atomic fallback)', () => { runNative('test_capi', [], NO_RSEQ); });
test('C API sessions: late start, removal, replacement, off, bad names', () => {
  runNative('test_capi_session', [], RSEQ);
});
test('C API follows the session selection: changes, bad files, levels, threads, other processes', () => {
  runNative('test_capi_select', [], RSEQ);
});
test('C API follows the session selection (atomic fallback)', () => {
  runNative('test_capi_select', [], NO_RSEQ);
});
test('selection file: every rule, bad lines named, file checks, seeded fuzz', () => {
  runNative('test_selection');
});
test('event-class registry: dedup across processes, corrupt files refused', () => {
  runNative('test_registry');
});

test('stress: >= 20M events, migrations, signals, exact accounting (rseq)', () => {
  const out = runNative('test_stress', [], RSEQ);
  process.stdout.write(out.split('\n').filter((l) => l.startsWith('#')).join('\n') + '\n');
  assert.match(out, /rseq=yes/);
  const remote = /remote=(\d+)/.exec(out);
  assert.ok(remote && Number(remote[1]) > 0, 'remote commits must occur');
});
test('stress with the atomic fallback (GLIBC_TUNABLES=glibc.pthread.rseq=0)', () => {
  const out = runNative('test_stress', [], { ...NO_RSEQ, RINGTRACE_STRESS_EVENTS: '8000000' });
  assert.match(out, /rseq=no \(atomic fallback\)/);
});
test('stress with the CLOCK_MONOTONIC clock', () => {
  const out = runNative('test_stress', [], { ...RSEQ, RINGTRACE_CLOCK: 'monotonic', RINGTRACE_STRESS_EVENTS: '8000000' });
  assert.match(out, /clock=monotonic/);
});
