// snapshot(reason): a request is a ringtrace:snapshot_request record from the
// calling thread, counted in the session header (Session.snapshotRequests())
// only once the record is committed; at most one per 100 ms per process, the
// calls in between folded into the next; recorded whatever the selection;
// never thrown from, except in strict mode for a reason that is not a string.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { collect, OwnSession, runCommand, testAddonPath, uniqueName, type CollectedEvent } from '../fixtures/trace-helpers';
import { configure, currentTracer, Session, snapshot } from '../src/index';

const flightApp = path.join(__dirname, '..', 'fixtures', 'flight-app.js');
const { session } = new OwnSession('snapshot');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const INTERVAL_MS = 110; // the limit is 100 ms (CLOCK_MONOTONIC_COARSE: a few ms coarse)
const own = (events: CollectedEvent[], event: string) =>
  events.filter((e) => e.cls.provider === 'ringtrace' && e.cls.name === event);
const requests = (events: CollectedEvent[]) => own(events, 'snapshot_request').map((e) => e.fields);

test('a request: its record from this thread, then the count; calls within 100 ms are folded into the next', async () => {
  assert.equal(snapshot('disk full'), true, 'the first call makes a request (and attaches this thread)');
  assert.equal(session.snapshotRequests(), 1);
  let events = collect(session);
  assert.deepEqual(requests(events), [{ reason: 'disk full', folded: 0n }]);
  assert.equal(own(events, 'snapshot_request')[0]!.tid, own(events, 'snapshot_request')[0]!.pid, 'the main thread');
  for (let i = 0; i < 7; i++) assert.equal(snapshot('again'), false, 'within 100 ms: folded');
  assert.equal(session.snapshotRequests(), 1, 'folded calls are not counted');
  assert.deepEqual(requests(collect(session)), [], 'nor recorded');
  await sleep(INTERVAL_MS);
  assert.equal(snapshot('later'), true);
  assert.equal(session.snapshotRequests(), 2, 'exactly one more');
  events = collect(session);
  assert.deepEqual(requests(events), [{ reason: 'later', folded: 7n }], 'the next request counts the folded calls');
  await sleep(INTERVAL_MS);
  assert.equal(snapshot('x'.repeat(5000)), true);
  const [long] = requests(collect(session));
  const reason = long!['reason'] as string;
  assert.ok(reason.endsWith('…') && Buffer.byteLength(reason) <= 1024, `cut to ${Buffer.byteLength(reason)} bytes`);
  assert.equal(session.snapshotRequests(), 3);
});

test('recorded whatever the session selects', async () => {
  await sleep(INTERVAL_MS);
  fs.writeFileSync(session.selectionPath(), 'ringtrace-selection 1\ndefault off\n', { mode: 0o600 });
  session.bumpSelection();
  currentTracer().poll(); // follow the new selection now
  const before = session.snapshotRequests();
  assert.equal(snapshot('nothing else is selected'), true);
  assert.equal(session.snapshotRequests(), before + 1);
  assert.deepEqual(requests(collect(session)), [{ reason: 'nothing else is selected', folded: 0n }]);
});

test('a reason that is not a string: never thrown (the request goes on, the problem counted); strict mode throws', async () => {
  await sleep(INTERVAL_MS);
  const warnings: string[] = [];
  const listener = (w: Error) => warnings.push(w.message);
  process.on('warning', listener);
  const before = session.snapshotRequests();
  try {
    assert.equal((snapshot as (r: unknown) => boolean)(42), true);
    await sleep(INTERVAL_MS);
    assert.equal((snapshot as () => boolean)(), true);
    await sleep(10); // warnings are emitted on the next tick
  } finally {
    process.off('warning', listener);
  }
  assert.equal(session.snapshotRequests(), before + 2);
  const events = collect(session);
  assert.deepEqual(requests(events), [{ reason: '', folded: 0n }, { reason: '', folded: 0n }]);
  const invalid = own(events, 'invalid_value').map((e) => e.fields);
  assert.equal(invalid.length, 2, 'each bad call counted');
  assert.equal(invalid[0]!['event'], 'ringtrace:snapshot_request');
  assert.match(invalid[0]!['problem'] as string, /snapshot\(reason\): reason must be a string, got number 42/);
  assert.equal(warnings.length, 1, `warned once: ${warnings.join('\n')}`);
  assert.match(warnings[0]!, /the request goes on with an empty reason/);
  configure({ strict: true });
  try {
    assert.throws(() => (snapshot as (r: unknown) => boolean)({}), /ringtrace: snapshot\(reason\): reason must be a string, got object/);
  } finally {
    configure({ strict: false });
  }
  assert.equal(session.snapshotRequests(), before + 2, 'the throwing call made no request');
});

test('worker threads request too; the limit is the whole process\'s', async () => {
  await sleep(INTERVAL_MS);
  const before = session.snapshotRequests();
  const index = path.join(__dirname, '..', 'src', 'index.js');
  // The worker wakes this thread through shared memory the moment it has asked, so the main
  // thread's call follows within microseconds (a message and the worker's exit, waited for
  // first, could take longer than the 100 ms limit on a loaded host).
  const done = new Int32Array(new SharedArrayBuffer(4));
  const w = new Worker(`const { snapshot } = require(${JSON.stringify(index)});
    const { workerData: done } = require('node:worker_threads');
    Atomics.store(done, 0, snapshot('from a worker') ? 1 : 2);
    Atomics.notify(done, 0);`, { eval: true, workerData: done });
  const failed = new Promise((_, reject) => w.once('error', reject));
  assert.notEqual(Atomics.wait(done, 0, 0, 10_000), 'timed-out', 'the worker asked');
  const mainRightAfter = snapshot('main, right after');
  await Promise.race([new Promise((r) => w.once('exit', r)), failed]);
  assert.equal(Atomics.load(done, 0), 1, 'the worker made a request');
  assert.equal(mainRightAfter, false, 'folded: the worker asked less than 100 ms ago');
  await sleep(INTERVAL_MS);
  assert.equal(snapshot('main, later'), true);
  assert.equal(session.snapshotRequests(), before + 2);
  const events = own(collect(session), 'snapshot_request');
  assert.deepEqual(events.map((e) => e.fields), [{ reason: 'from a worker', folded: 0n }, { reason: 'main, later', folded: 1n }]);
  assert.notEqual(events[0]!.tid, events[0]!.pid, 'from the worker\'s thread');
  assert.equal(events[1]!.tid, events[1]!.pid, 'from the main thread');
});

test('no session attached: false, nothing else (also with tracing off)', async () => {
  for (const session of [uniqueName('nosuch'), 'off']) {
    const r = await runCommand(process.execPath, [flightApp, 'snapshot', 'nobody listens'], { RINGTRACE_SESSION: session });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /requested false/);
    assert.equal(r.stderr, '', 'nothing printed');
  }
});

test('the count moves only once the request\'s record is committed (a recorder polling from another process)', async () => {
  // The test addon's hook stalls this app's first record 1.5 s between
  // reserve and commit: that record is the request's. A recorder woken by
  // the count must find it.
  const s = Session.create(uniqueName('order'), { subBufferSize: 1 << 16, subBuffers: 4 });
  try {
    const app = runCommand(process.execPath, [flightApp, 'snapshot', 'stalled'], { RINGTRACE_SESSION: s.info.name,
      RINGTRACE_ADDON: testAddonPath, RINGTRACE_TEST_SLEEP_IN_RECORD: '1', RINGTRACE_TEST_SLEEP_MS: '1500' });
    let seen = false;
    const deadline = Date.now() + 10_000;
    while (!seen && Date.now() < deadline) {
      await sleep(2);
      seen = s.snapshotRequests() === 1;
    }
    assert.ok(seen, 'counted');
    assert.deepEqual(requests(collect(s)), [{ reason: 'stalled', folded: 0n }], 'the record is there when the count is');
    const r = await app;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /requested true/);
  } finally {
    s.remove();
    s.close();
  }
});
