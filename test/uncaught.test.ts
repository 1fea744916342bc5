// Uncaught exceptions and unhandled rejections of a traced app: recorded as
// ringtrace:uncaught_exception with a snapshot request before the process (or
// worker) dies (also a rejection the app takes itself, or one that is not
// fatal in its mode), and nothing of what the app does changes: the same exit code
// and the same output on stderr as the same app run with tracing off.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { collect, runCommand, uniqueName, type RunResult } from '../fixtures/trace-helpers';
import { Session } from '../src/index';
import { rejectionsMode } from '../src/rejections';

const flightApp = path.join(__dirname, '..', 'fixtures', 'flight-app.js');

/** Run the app in `mode` traced into a new session, and untraced; hand both results and the session to check. */
async function traced(mode: string, check: (s: Session, r: RunResult, untraced: RunResult) => void,
  nodeArgs: string[] = []): Promise<void> {
  const s = Session.create(uniqueName('uncaught'), { subBufferSize: 1 << 16, subBuffers: 4 });
  try {
    const [r, untraced] = await Promise.all([
      runCommand(process.execPath, [...nodeArgs, flightApp, mode], { RINGTRACE_SESSION: s.info.name }),
      runCommand(process.execPath, [...nodeArgs, flightApp, mode], { RINGTRACE_SESSION: 'off' }),
    ]);
    assert.match(r.stdout, /ready attached/, r.stderr);
    assert.equal(r.code, untraced.code, 'the same exit code as without tracing');
    const samePid = (text: string) => text.replace(/\(node:\d+\)/g, '(node:PID)'); // warnings name the process
    assert.equal(samePid(r.stderr), samePid(untraced.stderr), 'the same output on stderr');
    assert.equal(r.stdout.replace('ready attached', 'ready detached'), untraced.stdout, 'the same output on stdout');
    check(s, r, untraced);
  } finally {
    s.remove();
    s.close();
  }
}

const own = (s: Session) => collect(s).filter((e) => e.cls.provider === 'ringtrace');
const summary = (s: Session) => own(s).map((e) => e.cls.name === 'uncaught_exception'
  ? { event: e.cls.name, message: e.fields['message'], name: e.fields['name'], origin: e.fields['origin'],
    stack: (e.fields['stack'] as string).split('\n')[0], tid: e.tid === e.pid ? 'main' : 'worker' }
  : { event: e.cls.name, reason: e.fields['reason'], folded: e.fields['folded'], tid: e.tid === e.pid ? 'main' : 'worker' });

test('an uncaught exception is recorded, with a snapshot request, before the app dies as it would untraced', async () => {
  await traced('throw', (s, r) => {
    assert.equal(r.code, 1);
    assert.match(r.stderr, /TypeError: boom/);
    assert.deepEqual(summary(s), [
      { event: 'uncaught_exception', message: 'boom', name: 'TypeError', origin: 'uncaughtException',
        stack: 'TypeError: boom', tid: 'main' },
      { event: 'snapshot_request', reason: 'uncaught exception: boom', folded: 0n, tid: 'main' },
    ]);
    assert.equal(s.snapshotRequests(), 1);
  });
});

test('an unhandled rejection: the same, with its origin', async () => {
  await traced('reject', (s, r) => {
    assert.equal(r.code, 1);
    assert.deepEqual(summary(s), [
      { event: 'uncaught_exception', message: 'nope', name: 'RangeError', origin: 'unhandledRejection',
        stack: 'RangeError: nope', tid: 'main' },
      { event: 'snapshot_request', reason: 'uncaught exception: nope', folded: 0n, tid: 'main' },
    ]);
    assert.equal(s.snapshotRequests(), 1);
  });
});

test("the app's own 'uncaughtException' handler still decides: it runs, the app lives on", async () => {
  await traced('handled', (s, r, untraced) => {
    assert.equal(r.code, 3, 'the exit code the handler set');
    assert.match(r.stdout, /handled caught by the app/);
    assert.match(untraced.stdout, /handled caught by the app/);
    // The handled exception's request, and the app's exit with a non-zero code (another incident).
    assert.deepEqual(summary(s).map((e) => [e.event, e['reason']]), [['uncaught_exception', undefined],
      ['snapshot_request', 'uncaught exception: caught by the app'], ['snapshot_request', 'exiting with code 3']]);
    assert.equal(s.snapshotRequests(), 2);
  });
});

test('a request just before the crash does not swallow the crash\'s: the dying thread\'s request is never folded', async () => {
  await traced('snapshot-throw', (s, r) => {
    assert.equal(r.code, 1);
    assert.deepEqual(summary(s).filter((e) => e.event === 'snapshot_request'), [
      { event: 'snapshot_request', reason: 'just before', folded: 0n, tid: 'main' },
      { event: 'snapshot_request', reason: 'uncaught exception: right after a request', folded: 0n, tid: 'main' },
    ]);
    assert.equal(s.snapshotRequests(), 2);
  });
});

test("a worker's uncaught exception: recorded from the worker, the process goes on as untraced", async () => {
  await traced('worker-throw', (s, r) => {
    assert.equal(r.code, 0);
    assert.match(r.stdout, /worker died/);
    assert.deepEqual(summary(s).map((e) => [e.event, e.tid]), [['uncaught_exception', 'worker'],
      ['snapshot_request', 'worker']]);
    assert.equal(s.snapshotRequests(), 1);
  });
});

const rejection = (message: string) => ({ event: 'uncaught_exception', message, name: 'RangeError',
  origin: 'unhandledRejection', stack: `RangeError: ${message}`, tid: 'main' });

test("a rejection the app's own 'unhandledRejection' listener takes: recorded, the app lives on as untraced", async () => {
  await traced('reject-handled', (s, r) => {
    assert.equal(r.code, 0);
    assert.match(r.stdout, /app saw nope/);
    assert.deepEqual(summary(s), [rejection('nope'),
      { event: 'snapshot_request', reason: 'unhandled rejection: nope', folded: 0n, tid: 'main' }]);
  });
});

test('a listener added with once(): the first rejection taken and recorded, the second crashes as untraced, recorded once', async () => {
  await traced('reject-once', (s, r) => {
    assert.equal(r.code, 1);
    assert.match(r.stdout, /app saw first/);
    assert.match(r.stderr, /RangeError: second/);
    assert.deepEqual(summary(s).filter((e) => e.event === 'uncaught_exception'), [rejection('first'), rejection('second')]);
  });
});

test('--unhandled-rejections=warn: a rejection warned about, not fatal, is recorded; the same warning', async () => {
  await traced('reject', (s, r) => {
    assert.equal(r.code, 0);
    assert.match(r.stderr, /UnhandledPromiseRejectionWarning: RangeError: nope/);
    assert.deepEqual(summary(s).filter((e) => e.event === 'uncaught_exception'), [rejection('nope')]);
  }, ['--unhandled-rejections=warn']);
});

test('--unhandled-rejections=strict: raised as an uncaught exception first, recorded once', async () => {
  await traced('reject-both', (s, r) => {
    assert.equal(r.code, 0);
    assert.match(r.stdout, /handled nope/);
    assert.deepEqual(summary(s).filter((e) => e.event === 'uncaught_exception'), [rejection('nope')]);
  }, ['--unhandled-rejections=strict']);
});

test('a listener the app added before the tracer started is followed too; removeAllListeners lets the next one crash', async () => {
  await traced('reject-early', (s, r) => {
    assert.equal(r.code, 0);
    assert.match(r.stdout, /app saw nope/);
    assert.deepEqual(summary(s).filter((e) => e.event === 'uncaught_exception'), [rejection('nope')]);
  });
  await traced('reject-removeall', (s, r) => {
    assert.equal(r.code, 1);
    assert.deepEqual(summary(s).filter((e) => e.event === 'uncaught_exception'), [rejection('nope')]);
  });
});

test('--unhandled-rejections=warn-with-error-code without a listener of the app\'s: nothing changes (warning, exit code 1), nothing recorded', async () => {
  await traced('reject', (s, r) => {
    assert.equal(r.code, 1);
    assert.match(r.stderr, /UnhandledPromiseRejectionWarning: RangeError: nope/);
    assert.deepEqual(summary(s).filter((e) => e.event === 'uncaught_exception'), []);
  }, ['--unhandled-rejections=warn-with-error-code']);
});

test('the rejections mode: NODE_OPTIONS as the process started with, then the command line; the last one given wins', () => {
  assert.equal(rejectionsMode([], ''), 'throw');
  assert.equal(rejectionsMode([], '--max-old-space-size=100 --unhandled-rejections=warn'), 'warn');
  assert.equal(rejectionsMode(['--unhandled-rejections', 'strict'], '--unhandled-rejections=warn'), 'strict');
  assert.equal(rejectionsMode(['--unhandled-rejections=none', '--unhandled-rejections=throw'], ''), 'throw');
  assert.equal(rejectionsMode(['--unhandled-rejections=bogus'], ''), 'throw', 'not a mode: the default');
  process.env['NODE_OPTIONS'] = '--unhandled-rejections=warn'; // set after start: Node did not apply it
  try {
    assert.equal(rejectionsMode([]), 'throw');
  } finally {
    delete process.env['NODE_OPTIONS'];
  }
});
