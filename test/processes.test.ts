// The API across threads and processes: worker_threads, two processes at once,
// apps started before the session, sessions that go away, and apps that cannot
// trace (no addon, a foreign object in place of the session) keep running.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { collect, runEmitter, startEmitter, uniqueName } from '../fixtures/trace-helpers';
import { Session } from '../src/index';

function newSession(tag: string): Session {
  return Session.create(uniqueName(tag), { subBufferSize: 1 << 18, subBuffers: 8 });
}
function dispose(s: Session): void {
  s.remove();
  s.close();
}
const ticks = (s: Session) => collect(s).filter((e) => e.cls.provider === 'fixture');

test('worker threads each write with their own thread id', async () => {
  const s = newSession('workers');
  try {
    const r = await runEmitter(s.info.name, ['workers', '3', '2000']);
    assert.equal(r.code, 0, r.stderr);
    const ev = ticks(s);
    assert.equal(ev.length, 6000);
    const tids = new Set(ev.map((e) => e.tid));
    assert.equal(tids.size, 3, `three writer threads, saw tids ${[...tids].join(',')}`);
    assert.equal(new Set(ev.map((e) => e.pid)).size, 1);
    for (const tag of ['w0', 'w1', 'w2']) {
      const mine = ev.filter((e) => e.fields['tag'] === tag);
      // A thread may migrate, so its events can sit in several rings: each
      // ring holds them in order, and together they hold each exactly once.
      for (const ring of new Set(mine.map((e) => e.ring))) {
        const seqs = mine.filter((e) => e.ring === ring).map((e) => e.fields['seq'] as number);
        assert.ok(seqs.every((v, i) => i === 0 || v > seqs[i - 1]!), `${tag}: in order in ring ${ring}`);
      }
      const all = mine.map((e) => e.fields['seq'] as number).sort((a, b) => a - b);
      assert.deepEqual(all, Array.from({ length: 2000 }, (_, i) => i), `${tag}: every event once`);
    }
    assert.equal(s.lostEvents(), 0);
  } finally {
    dispose(s);
  }
});

test('two processes at once share the session and the class ids', async () => {
  const s = newSession('twoproc');
  try {
    const [a, b] = await Promise.all([runEmitter(s.info.name, ['count', '5000', 'A']),
      runEmitter(s.info.name, ['count', '5000', 'B'])]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const ev = ticks(s);
    const byTag = (t: string) => ev.filter((e) => e.fields['tag'] === t);
    assert.equal(byTag('A').length, 5000);
    assert.equal(byTag('B').length, 5000);
    assert.notEqual(byTag('A')[0]!.pid, byTag('B')[0]!.pid);
    assert.equal(new Set(ev.map((e) => e.id)).size, 1, 'one class id for the same class in both');
    assert.equal([...s.classes().values()].filter((c) => c.name === 'tick').length, 1);
  } finally {
    dispose(s);
  }
});

test('an app started before the session attaches when it appears, at once (main thread and workers)', async (t) => {
  for (const args of [['late', '100'], ['workers', '2', 'late']]) {
    const name = uniqueName('late');
    // Its timer would look only once a minute: attaching now means the /dev/shm watch saw the session.
    const app = startEmitter(name, args, { RINGTRACE_POLL_MS: '60000' });
    await new Promise((r) => setTimeout(r, 300)); // the app runs, untraced
    const created = Date.now();
    const s = Session.create(name, { subBufferSize: 1 << 16, subBuffers: 4 });
    try {
      let attachedAfter = -1;
      app.child.stdout!.on('data', () => { if (attachedAfter < 0) attachedAfter = Date.now() - created; });
      const r = await app.done;
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const ev = ticks(s);
      const threads = args[0] === 'workers' ? 2 : 1;
      assert.equal(ev.length, 100 * threads, r.stdout);
      assert.deepEqual(new Set(ev.map((e) => e.fields['tag'])), new Set(['after']), 'nothing from before the session');
      for (const tid of new Set(ev.map((e) => e.tid))) {
        const seqs = ev.filter((e) => e.tid === tid).map((e) => e.fields['seq'] as number);
        assert.deepEqual(seqs, Array.from({ length: 100 }, (_, i) => seqs[0]! + i), 'in order from the first enabled');
      }
      t.diagnostic(`${args[0]}: attached ${attachedAfter} ms after the session appeared`);
    } finally {
      dispose(s);
    }
  }
});

test('a session attaching to an app that passes wrong values does not crash it; strict mode throws with no session', async () => {
  const name = uniqueName('wrongtype');
  const app = startEmitter(name, ['wrongtype', '1500']);
  // The app runs, untraced (its bug is invisible), before the session appears: waited for, not
  // slept on (a slow start under load would otherwise attach it from its first event).
  await new Promise<void>((resolve) => {
    app.child.stdout!.on('data', (d: Buffer) => { if (/running/.test(d.toString())) resolve(); });
    app.child.on('close', () => resolve());
  });
  const s = Session.create(name, { subBufferSize: 1 << 16, subBuffers: 4 });
  try {
    const r = await app.done;
    assert.equal(r.code, 0, `the app must survive the attach: ${r.stderr}`);
    const survived = Number(/survived (\d+)/.exec(r.stdout)?.[1]);
    const ev = collect(s);
    const ticks = ev.filter((e) => e.cls.name === 'tick');
    const invalid = ev.filter((e) => e.cls.name === 'invalid_value');
    assert.ok(ticks.length > 0 && ticks.length < survived, `attached part way: ${ticks.length} of ${survived}`);
    assert.equal(invalid.length, ticks.length, 'every wrong emit while recording is counted');
    assert.deepEqual(invalid.map((e) => e.fields['event'])[0], 'fixture:request');
    assert.match(invalid[0]!.fields['problem'] as string, /field 'status' \(u16\).*got string "200"/);
    assert.equal(warnings(r.stderr).length, 1, r.stderr);
  } finally {
    dispose(s);
  }
  const strict = await runEmitter(uniqueName('nosession'), ['wrongtype', '50'], { RINGTRACE_STRICT: '1' });
  assert.notEqual(strict.code, 0);
  assert.match(strict.stderr, /TypeError: ringtrace: fixture:request: field 'status' \(u16\) expects an integer/);
});

test('events follow the session: off when it goes, on when it comes back', async () => {
  const name = uniqueName('follow');
  let s = Session.create(name, { subBufferSize: 1 << 16, subBuffers: 4 });
  const app = startEmitter(name, ['follow']);
  const lines: string[] = [];
  app.child.stdout!.on('data', (d: Buffer) => lines.push(...d.toString().trim().split('\n')));
  const waitFor = async (n: number) => {
    const end = Date.now() + 3000;
    while (lines.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  };
  try {
    await waitFor(1);
    s.remove(); // the consumer ends the session
    s.close();
    await waitFor(2);
    s = Session.create(name, { subBufferSize: 1 << 16, subBuffers: 4 }); // a new session, same name
    await waitFor(3);
    assert.deepEqual(lines.slice(0, 3), ['enabled', 'disabled', 'enabled']);
    const r = await app.done;
    assert.equal(r.code, 0, r.stderr);
  } finally {
    dispose(s);
  }
});

function warnings(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.includes('RingtraceWarning'));
}

test('no addon: the app runs untraced with one warning, not one per event', async () => {
  for (const withSession of [false, true]) {
    const s = withSession ? newSession('noaddon') : undefined;
    try {
      const r = await runEmitter(s?.info.name ?? uniqueName('noaddon'), ['warn'],
        { RINGTRACE_ADDON: '/nonexistent/ringtrace.node' });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /alive/);
      const w = warnings(r.stderr);
      assert.equal(w.length, 1, r.stderr);
      assert.match(w[0]!, /cannot load the native addon .*nonexistent.*tracing is off/);
    } finally {
      if (s) dispose(s);
    }
  }
});

test('a foreign object in place of the session: one clear warning, the app runs', async () => {
  const name = uniqueName('foreign');
  const file = `/dev/shm/ringtrace-${process.geteuid!()}-${name}`;
  fs.writeFileSync(file, Buffer.alloc(8192, 0x5a), { mode: 0o600 });
  try {
    const r = await runEmitter(name, ['warn']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /alive/);
    const w = warnings(r.stderr);
    assert.equal(w.length, 1, r.stderr);
    assert.match(w[0]!, new RegExp(`cannot trace into session '${name}': .*not a ringtrace session`));
  } finally {
    fs.rmSync(file, { force: true });
  }
});

test('no session: events are disabled and nothing is printed', async () => {
  const r = await runEmitter(uniqueName('none'), ['count', '1000', 'x']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'done false');
  assert.equal(r.stderr, '');
});

test('an app without rseq (glibc tunable off) traces through the atomic fallback', async () => {
  const s = newSession('norseq');
  try {
    const r = await runEmitter(s.info.name, ['count', '3000', 'F'], { GLIBC_TUNABLES: 'glibc.pthread.rseq=0' });
    assert.equal(r.code, 0, r.stderr);
    const ev = ticks(s);
    assert.deepEqual(ev.map((e) => e.fields['seq']), Array.from({ length: 3000 }, (_, i) => i));
    assert.ok(ev.every((e) => e.ring >= s.info.nCpus), 'written to the atomic rings');
  } finally {
    dispose(s);
  }
});
