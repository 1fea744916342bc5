// Auto mode's GC pauses (src/auto/gc.ts): from V8's own callbacks through the
// addon's ring (native/addon/gc_binding.c) on this Node, the observer as the
// fallback. Collections are forced with gc(), recorded into this file's own
// session and read back.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { once } from 'node:events';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import { collect, type CollectedEvent, OwnSession } from '../fixtures/trace-helpers';
import { startGcTracing } from '../src/auto/gc';
import { loadNative } from '../src/native';

const { session } = new OwnSession('auto-gc');
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const failed = (e: unknown) => assert.fail(`recording GC pauses failed: ${String(e)}`);
/** The records since the last call (collect() drains), by name. */
function recorded(): { gc: CollectedEvent[]; unrecorded: number[] } {
  const all = collect(session).filter((e) => e.cls.provider === 'node.runtime');
  return { gc: all.filter((e) => e.cls.name === 'gc'),
    unrecorded: all.filter((e) => e.cls.name === 'gc_unrecorded').map((e) => e.fields['pauses'] as number) };
}
const monotonicMs = () => {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
};
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

test('on this Node the pauses come from V8\'s callbacks: a record per pause noted, with its kind, duration and start', () => {
  recorded(); // (whatever came before)
  const t = startGcTracing(failed);
  try {
    assert.equal(t.source, 'v8');
    const before = monotonicMs();
    for (let i = 0; i < 4; i++) gc();
    t.drain();
    const after = monotonicMs();
    const { gc: got, unrecorded } = recorded();
    assert.equal(got.length, t.noted(), 'every pause noted is recorded');
    assert.ok(got.filter((r) => r.fields['kind'] === 'major').length >= 4, 'gc() is a major collection');
    for (const r of got) {
      const { kind, duration_ms: duration, ago_ms: ago } = r.fields as { kind: string; duration_ms: number; ago_ms: number };
      assert.ok(['minor', 'major', 'incremental', 'weakcb'].includes(kind), kind);
      assert.ok(duration > 0 && ago >= duration, `a pause of ${duration} ms began ${ago} ms before its record`);
      assert.ok(ago <= after - before, 'it began while the test ran');
    }
    assert.deepEqual(unrecorded, []);
  } finally {
    t.stop();
  }
});

test('pauses beyond the ring\'s room between two reads are counted, not lost silently', () => {
  recorded();
  const t = startGcTracing(failed, 'v8', 2);
  try {
    for (let i = 0; i < 6; i++) gc();
    t.drain();
    const { gc: { length: got }, unrecorded } = recorded();
    assert.ok(t.noted() >= 6);
    assert.equal(got, 2, 'the ring holds two');
    assert.equal(unrecorded.length, 1);
    assert.equal(got + unrecorded[0]!, t.noted(), 'recorded + counted == noted');
    // After a read there is room again; the count is not repeated.
    const noted = t.noted();
    gc();
    t.drain();
    const next = recorded();
    assert.equal(next.gc.length, t.noted() - noted);
    assert.deepEqual(next.unrecorded, []);
  } finally {
    t.stop();
  }
});

test('stop records what was noted, unhooks, and hooks again on the next start', () => {
  recorded();
  const t = startGcTracing(failed);
  gc();
  t.stop();
  assert.ok(recorded().gc.length >= 1, 'the pause before stop() is recorded');
  gc();
  t.drain();
  assert.equal(recorded().gc.length, 0, 'nothing after stop()');
  const again = startGcTracing(failed);
  assert.equal(again.source, 'v8', 'the hooks were removed: a new start hooks again');
  again.stop();
});

test('the observer, where V8\'s callbacks are not found, records the same pauses a turn later', async () => {
  recorded();
  const t = startGcTracing(failed, 'observer');
  try {
    assert.equal(t.source, 'observer');
    gc();
    await nextTurn();
    await nextTurn();
    assert.ok(recorded().gc.some((r) => r.fields['kind'] === 'major'));
  } finally {
    t.stop();
  }
});

test('the addon refuses a ring that is not a Float64Array of at least one entry, and a second hook', () => {
  const native = loadNative();
  assert.throws(() => native.gcHooksStart(new Float64Array(6)), /Float64Array of at least 7/);
  assert.throws(() => native.gcHooksStart(new Uint8Array(64) as unknown as Float64Array), /Float64Array/);
  const ring = new Float64Array(7);
  assert.equal(native.gcHooksStart(ring), true);
  try {
    assert.equal(native.gcHooksStart(new Float64Array(7)), false, 'already hooked');
  } finally {
    native.gcHooksStop();
  }
  gc();
  assert.equal(ring[0], 0, 'nothing noted after gcHooksStop');
});

test('a worker\'s pauses are recorded as it exits, and its hooks go with it', async () => {
  recorded();
  const worker = new Worker(`
    const { startGcTracing } = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'auto', 'gc.js'))});
    const collectGarbage = require('node:vm').runInNewContext('gc');
    const t = startGcTracing((e) => { throw e; });
    if (t.source !== 'v8') throw new Error('source ' + t.source);
    for (let i = 0; i < 3; i++) collectGarbage();
    require('node:worker_threads').parentPort.postMessage(t.noted());
  `, { eval: true });
  const [noted] = await once(worker, 'message') as [number];
  await once(worker, 'exit');
  for (let i = 0; i < 3; i++) gc(); // the worker's isolate is gone: its callbacks must be too
  const fromWorker = recorded().gc.filter((r) => r.tid !== process.pid);
  assert.ok(noted >= 3);
  assert.ok(fromWorker.length >= noted, `the worker's ${noted} pauses, recorded by its exit handler (${fromWorker.length})`);
});
