// trace-consume record / view / stats / list end to end: traces written from
// real traced programs, read back by our reader and by babeltrace2 (when
// installed: `apt-get install babeltrace2`; .ci/run installs it).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emitterPath, runCommand, startEmitter, uniqueName } from '../fixtures/trace-helpers';
import { loadNative } from '../src/native';
import { Session } from '../src/session';

const cli = path.join(__dirname, '..', 'cli', 'trace-consume.js');
const hasBabeltrace = spawnSync('babeltrace2', ['--version']).status === 0;
const BT_SKIP = hasBabeltrace ? false : 'babeltrace2 not installed (apt-get install babeltrace2)';

function tmpDir(tag: string): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), `rt-${tag}-`)), 'trace');
}

const run = runCommand;
const tc = (...args: string[]) => run(process.execPath, [cli, ...args]);
const record = (out: string, ...rest: string[]) => tc('record', '-q', '-o', out, ...rest);

test('record runs a command traced; view, stats and babeltrace2 agree with what it emitted', async () => {
  const out = tmpDir('cmd');
  const r = await record(out, '--', process.execPath, emitterPath, 'workers', '2', '3000');
  assert.equal(r.code, 0, r.stderr);
  const stats = JSON.parse((await tc('stats', out, '--json')).stdout) as { events: number; lost: number;
    perClass: Record<string, number> };
  assert.equal(stats.events, 6000);
  assert.equal(stats.lost, 0);
  assert.deepEqual(stats.perClass, { 'fixture:tick': 6000 });
  const view = await tc('view', out, '--json');
  assert.equal(view.code, 0, view.stderr);
  const lines = view.stdout.trim().split('\n').map((l) => JSON.parse(l) as { fields: { seq: number; tag: string };
    timestamp_ns: string; tid: number });
  assert.equal(lines.length, 6000);
  for (const tag of ['w0', 'w1']) {
    const seqs = lines.filter((l) => l.fields.tag === tag).map((l) => l.fields.seq);
    assert.deepEqual(seqs, Array.from({ length: 3000 }, (_, i) => i), `${tag} in order, once each`);
  }
  const ts = lines.map((l) => BigInt(l.timestamp_ns));
  assert.ok(ts.every((t, i) => i === 0 || t >= ts[i - 1]!), 'view merges streams in time order');
  const wall = Number(ts[0]! / 1_000_000n);
  assert.ok(Math.abs(wall - Date.now()) < 120_000, `timestamps are wall-clock (${new Date(wall).toISOString()})`);
});

test('babeltrace2 reads the trace with no warning; counts and values match', { skip: BT_SKIP }, async () => {
  const out = tmpDir('bt');
  const r = await record(out, '--', process.execPath, emitterPath, 'types');
  assert.equal(r.code, 0, r.stderr);
  const bt = spawnSync('babeltrace2', [out], { encoding: 'utf8' });
  assert.equal(bt.status, 0, bt.stderr);
  assert.equal(bt.stderr, '', 'no warning from babeltrace2');
  const lines = bt.stdout.trim().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0]!, /fixture:types: .*\{ pid = \d+, tid = \d+ \}, \{ a = -128, b = -32768, c = -2147483648, d = -9223372036854775808, e = 255, f = 65535, g = 4294967295, h = 18446744073709551615, i = 1\.5, j = -0(\.0+)?, k = \( "true" : container = 1 \), l = "héllo ✓", _m_length = 3, m = \[ \[0\] = 0x1, \[1\] = 0x2, \[2\] = 0xFF \] \}/);
  assert.match(lines[1]!, /a = 0, .* l = "", _m_length = 0, m = \[ \] \}/);
  assert.match(lines[2]!, /k = \( "false" : container = 0 \)/);
  // Our reader sees the same values.
  const view = (await tc('view', out, '--json')).stdout.trim().split('\n').map((l) => JSON.parse(l) as
    { fields: Record<string, unknown> });
  assert.deepEqual(view[0]!.fields, { a: -128, b: -32768, c: -2147483648, d: '-9223372036854775808', e: 255,
    f: 65535, g: 4294967295, h: '18446744073709551615', i: 1.5, j: 0, k: true, l: 'héllo ✓', m: '0102ff' });
});

test('an app that starts before the recording and one that starts after are both captured', async () => {
  const name = uniqueName('both');
  const out = tmpDir('both');
  const early = spawn(process.execPath, [emitterPath, 'late', '500'], { env: { ...process.env, RINGTRACE_SESSION: name } });
  const earlyDone = new Promise<number | null>((resolve) => early.on('close', resolve));
  // "first N": it saw the session and emitted all 500 (synchronously, before printing more)
  const earlyEmitted = new Promise<void>((resolve) => early.stdout.on('data', (d: Buffer) => {
    if (/first \d+/.test(String(d))) resolve();
  }));
  await new Promise((r) => setTimeout(r, 300));
  const rec = record(out, '-s', name, '--duration', '3');
  await earlyEmitted; // no sleep: the late app starts only once the early one has emitted everything
  const late = await run(process.execPath, [emitterPath, 'count', '700', 'late'], { RINGTRACE_SESSION: name });
  assert.equal(late.code, 0, late.stderr);
  assert.equal(await earlyDone, 0);
  const r = await rec;
  assert.equal(r.code, 0, r.stderr);
  const stats = JSON.parse((await tc('stats', out, '--json')).stdout) as { events: number };
  assert.equal(stats.events, 1200);
  const view = (await tc('view', out)).stdout;
  assert.equal((view.match(/tag="after"/g) ?? []).length, 500);
  assert.equal((view.match(/tag="late"/g) ?? []).length, 700);

  // view's filters, checked on this trace where the two apps' events are apart in time.
  const json = async (...args: string[]) => (await tc('view', out, '--json', ...args)).stdout.trim().split('\n')
    .filter(Boolean).map((l) => JSON.parse(l) as { timestamp_ns: string; fields: { tag: string } });
  const all = await json();
  const t0 = BigInt(all[0]!.timestamp_ns);
  const secs = (e: { timestamp_ns: string }) => Number(BigInt(e.timestamp_ns) - t0) / 1e9;
  const lastAfter = Math.max(...all.filter((e) => e.fields.tag === 'after').map(secs));
  const firstLate = Math.min(...all.filter((e) => e.fields.tag === 'late').map(secs));
  assert.ok(firstLate > lastAfter, 'the late app emitted after the early one');
  const mid = ((lastAfter + firstLate) / 2).toFixed(6);
  const until = await json('--until', mid);
  assert.deepEqual([until.length, until.every((e) => e.fields.tag === 'after')], [500, true]);
  const since = await json('--since', mid);
  assert.deepEqual([since.length, since.every((e) => e.fields.tag === 'late')], [700, true]);
  assert.equal((await json('--event', 'fixture:tick')).length, 1200);
  assert.equal((await json('--event', 'tick,fixture:tick')).length, 1200);
  const unknown = await tc('view', out, '--event', 'tick,other'); // a name the trace lacks: a usage error
  assert.deepEqual([unknown.code, unknown.stdout], [2, '']);
  assert.match(unknown.stderr, /no event 'other' in this trace/);
});

test('a second consumer of the same session gets a clear error', async () => {
  const name = uniqueName('excl');
  const first = record(tmpDir('excl1'), '-s', name, '--duration', '2');
  await new Promise((r) => setTimeout(r, 500));
  const refused = tmpDir('excl2');
  const second = await record(refused, '-s', name, '--duration', '1');
  assert.notEqual(second.code, 0);
  assert.match(second.stderr, new RegExp(`session '${name}' is already being recorded by process \\d+`));
  assert.equal(fs.existsSync(refused), false, 'a refused recording leaves no output directory behind');
  assert.equal((await first).code, 0);
});

test('a session left by a dead consumer is taken over with its events, or cleaned', async () => {
  for (const clean of [false, true]) {
    const name = uniqueName('stale');
    // A "consumer" that creates the session and dies without removing it.
    const dead = await run(process.execPath, ['-e', `
      const { Session } = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'index.js'))});
      Session.create(${JSON.stringify(name)}, { subBufferSize: 65536, subBuffers: 4 });`]);
    assert.equal(dead.code, 0, dead.stderr);
    const app = await run(process.execPath, [emitterPath, 'count', '250', 'orphan'], { RINGTRACE_SESSION: name });
    assert.match(app.stdout, /done true/, 'the app traced into the orphaned session');
    const out = tmpDir('stale');
    const r = await tc('record', '-o', out, '-s', name, '--duration', '1', ...(clean ? ['--clean'] : []));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, clean ? /removing session .* left by a consumer that exited/ : /taking over session .* left by a consumer that exited/);
    const stats = JSON.parse((await tc('stats', out, '--json')).stdout) as { events: number };
    assert.equal(stats.events, clean ? 0 : 250);
  }
});

test('tiny buffers: losses are counted exactly and reported in the trace', async () => {
  const out = tmpDir('lossy');
  const r = await record(out, '--subbuffer-size', '4K', '--subbuffers', '2', '--',
    process.execPath, emitterPath, 'count', '200000', 'x');
  assert.equal(r.code, 0, r.stderr);
  const stats = JSON.parse((await tc('stats', out, '--json')).stdout) as { events: number; lost: number };
  assert.ok(stats.lost > 0, 'tiny rings must overflow');
  assert.equal(stats.events + stats.lost, 200000, `delivered ${stats.events} + lost ${stats.lost}`);
  if (hasBabeltrace) {
    const bt = spawnSync('babeltrace2', [out], { encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(bt.status, 0);
    assert.match(bt.stderr, /discarded/i, 'babeltrace2 reports the discarded events too');
  }
});

test('record returns the exit code of its command', async () => {
  const r = await record(tmpDir('exit'), '--', process.execPath, '-e', 'process.exit(3)');
  assert.equal(r.code, 3);
});

test('bad input: clear errors naming the file and offset; valid packets before damage are shown', async () => {
  const notTrace = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-empty-'));
  let r = await tc('view', notTrace);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /not a trace directory \(no metadata file\)/);
  r = await tc('stats', '/nonexistent/trace');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no such directory/);

  const out = tmpDir('damage');
  assert.equal((await record(out, '--subbuffer-size', '4K', '--subbuffers', '64', '--',
    process.execPath, emitterPath, 'count', '3000', 'd')).code, 0);
  const stream = fs.readdirSync(out).find((f) => f.startsWith('stream_'))!;
  const file = path.join(out, stream);
  const data = fs.readFileSync(file);
  const firstPacket = Number(data.readBigUInt64LE(56) / 8n);
  const eventsIn = (buf: Buffer) => {
    let n = 0;
    for (let off = 0; off < buf.length; off += Number(buf.readBigUInt64LE(off + 56) / 8n)) {
      const content = Number(buf.readBigUInt64LE(off + 48) / 8n);
      for (let p = 88; p < content; p += (buf.readUInt32LE(off + p + 4) + 7) & ~7) n++;
    }
    return n;
  };
  // Corrupt the second packet's magic: the first packet's events still come out.
  const bad = Buffer.from(data);
  bad.writeUInt32LE(0xdeadbeef, firstPacket);
  fs.writeFileSync(file, bad);
  r = await tc('view', out);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${stream}: at byte ${firstPacket}: bad packet magic 0xdeadbeef`));
  const shown = r.stdout.trim().split('\n').filter((l) => l.includes(stream.replace('stream_', ''))).length;
  assert.ok(shown >= eventsIn(data.subarray(0, firstPacket)), 'events of the valid first packet are shown');
  // Truncate mid-packet: the error is where the file ends (the recovery itself: truncated-stream.test.ts).
  fs.writeFileSync(file, data.subarray(0, firstPacket + 100));
  r = await tc('stats', out);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${stream}: at byte ${firstPacket + 100}: truncated: the file ends 100 bytes ` +
    `into the packet at byte ${firstPacket}`));
  // Garbage event size inside the first packet.
  const g = Buffer.from(data);
  g.writeUInt32LE(0xffffff, 88 + 4);
  fs.writeFileSync(file, g);
  r = await tc('view', out);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${stream}: at byte 88: bad event size 16777215`));
});

test('list shows the session, its consumer, attached processes and classes', async () => {
  const name = uniqueName('list');
  // Readiness is waited for, not slept on: the session exists, then the app says it attached.
  const rec = spawn(process.execPath, [cli, 'record', '-q', '-o', tmpDir('list'), '-s', name]);
  const recorded = new Promise<number | null>((r) => rec.on('close', r));
  for (let i = 0; i < 400; i++) {
    try {
      Session.open(name).close();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  const app = startEmitter(name, ['follow']);
  await new Promise<void>((resolve) => {
    let out = '';
    app.child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^enabled$/m.test(out)) resolve();
    });
    app.child.on('close', () => resolve());
  });
  const session = Session.open(name); // a selection file beside it is not another session
  fs.writeFileSync(loadNative().selectionPath(session.handle)!, 'ringtrace-selection 1\n', { mode: 0o600 });
  session.close();
  const l = await tc('list', '--json');
  assert.equal(l.code, 0, l.stderr);
  const mine = (JSON.parse(l.stdout) as { name: string; consumer: number; processes: { name: string; alive: boolean }[];
    classes: string[] }[]).find((s) => s.name === name);
  assert.ok(mine, `session ${name} listed`);
  const listed = (JSON.parse(l.stdout) as { name: string }[]).map((s) => s.name);
  assert.deepEqual(listed.filter((n) => n.startsWith(`${name}-`)), [], 'its side files are not sessions');
  assert.ok(mine.consumer > 0, 'the recorder is its consumer');
  assert.ok(mine.processes.some((p) => p.name === 'emitter.js' && p.alive), JSON.stringify(mine.processes));
  assert.ok(mine.classes.some((c) => /fixture:tick \(event\)/.test(c)));
  rec.kill('SIGINT');
  assert.equal(await recorded, 0);
  await app.done;
  assert.equal(fs.existsSync(`/dev/shm/ringtrace-${process.geteuid!()}-${name}`), false, 'record removed its session');
});

test('every command has --help', async () => {
  for (const c of ['record', 'view', 'stats', 'list', 'doctor']) {
    const r = await tc(c, '--help');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Examples:/, `${c} --help has examples`);
  }
});
