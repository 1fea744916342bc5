// `trace-consume top` in a pseudo-terminal (tmux): beside a recorder it shows
// an app's known rate within 10 % and the percentiles of spans of known
// durations, redraws in the alternate screen and restores it on q; with no
// recorder it is the session's consumer; and neither top nor view --follow
// changes what the recorder writes.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliPath, exited, killGroup, scratchDir, traceConsume } from '../fixtures/cli-helpers';
import { hasTmux, Terminal } from '../fixtures/tmux';
import { emitterPath, uniqueName } from '../fixtures/trace-helpers';
import { SIDECAR } from '../src/trace/writer';

const app = path.join(__dirname, '..', 'fixtures', 'live-app.js');
const work = scratchDir('top');
const node = JSON.stringify(process.execPath);
const cli = JSON.stringify(cliPath);

/** "12.5", "3.4k", "1.20M" as top prints rates. */
function rate(text: string): number {
  const m = /^([\d.]+)([kM]?)$/.exec(text);
  if (!m) throw new Error(`not a rate: ${text}`);
  return Number(m[1]) * (m[2] === 'k' ? 1e3 : m[2] === 'M' ? 1e6 : 1);
}

/** "2.02ms", "850.0us", "1.10s", "900ns" as top prints durations, in ms. */
function ms(text: string): number {
  const m = /^([\d.]+)(ns|us|ms|s)$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  return Number(m[1]) * { ns: 1e-6, us: 1e-3, ms: 1, s: 1e3 }[m[2] as 'ns' | 'us' | 'ms' | 's'];
}

interface Shown { window: number; tick: number; job?: { perS: number; p50: number; p90: number; p99: number; max: number } }

/** What a top screen shows of the live app, if it shows a window and the tick class yet. */
function shown(screen: string): Shown | undefined {
  const w = /window (\d+\.\d) s/.exec(screen);
  const t = /^\s+(\S+)\s+live:tick\s*$/m.exec(screen);
  if (!w || !t) return undefined;
  const j = /^live:job\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$/m.exec(screen);
  return { window: Number(w[1]), tick: rate(t[1]!),
    ...(j ? { job: { perS: rate(j[1]!), p50: ms(j[2]!), p90: ms(j[3]!), p99: ms(j[4]!), max: ms(j[5]!) } } : {}) };
}



/** `p`, or a failure after `ms` (the test's finally then stops what is still running). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => {
    setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms).unref();
  })]);
}

async function waitFor(what: string, cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('top beside a recorder: the app\'s rate within 10 %, its spans\' percentiles, the screen restored on q',
  { skip: !hasTmux && 'tmux is not installed', timeout: 60_000 }, async () => {
    const name = uniqueName('top');
    const dir = path.join(work, 'beside');
    // 500 ticks/s; 20 spans/s of 2 ms (9 in 10) and 20 ms (1 in 10)
    const rec = spawn(process.execPath, [cliPath, 'record', '-q', '-s', name, '-o', dir, '--', process.execPath, app,
      'steady', '500', '20'], { stdio: 'ignore', detached: true });
    let term: Terminal | undefined;
    try {
      await waitFor('the recording to start', () => fs.existsSync(path.join(dir, 'metadata')), 10_000);
      term = new Terminal('beside', `${node} ${cli} top -s ${name}`);
      const s = await term.until('3 s of window with spans', (screen) => {
        const v = shown(screen);
        return v && v.window >= 3 && v.job ? v : undefined;
      }, 20_000);
      assert.ok(term.alternate(), 'top draws on the alternate screen');
      assert.match(term.screen(), new RegExp(`session '${name}' \\(read beside its recorder, pid ${rec.pid}\\)`));
      assert.ok(Math.abs(s.tick - 500) <= 50, `tick rate ${s.tick}/s is within 10 % of 500/s`);
      const job = s.job!;
      assert.ok(Math.abs(job.perS - 20) <= 2, `spans ${job.perS}/s are within 10 % of 20/s`);
      assert.ok(job.p50 >= 2 && job.p50 < 3, `p50 ${job.p50} ms: the 2 ms spans`);
      assert.ok(job.p99 >= 20 && job.p99 < 30, `p99 ${job.p99} ms: the 20 ms spans`);
      assert.ok(job.max >= job.p99 && job.p90 >= job.p50, 'percentiles in order');
      term.keys('q');
      const after = await term.until('top to exit', (screen) => /exited with (\d+)/.exec(screen)?.[1], 10_000);
      assert.equal(after, '0');
      assert.equal(term.alternate(), false, 'the normal screen is back');
      assert.match(term.screen(), /live:tick/, 'the last view stays on the terminal');
    } finally {
      term?.close();
      killGroup(rec);
    }
  });

test('top with no recorder is the session\'s consumer: it creates it, the app attaches, nothing is lost',
  { skip: !hasTmux && 'tmux is not installed', timeout: 60_000 }, async () => {
    const name = uniqueName('alone');
    const term = new Terminal('alone', `${node} ${cli} top -s ${name} -w 2`);
    let emitter: ChildProcess | undefined;
    try {
      await term.until('top to create the session', (s) => (/top is its consumer/.test(s) ? true : undefined), 10_000);
      emitter = spawn(process.execPath, [app, 'steady', '300', '20'], { stdio: 'ignore',
        env: { ...process.env, RINGTRACE_SESSION: name } });
      // The window fills with the app's events: its rate is reached (from below: the window began before the app).
      const s = await term.until('the app\'s rate', (screen) => {
        const v = shown(screen);
        return v && Math.abs(v.tick - 300) <= 30 ? v : undefined;
      }, 20_000);
      assert.equal(s.window, 2);
      assert.match(term.screen(), /lost 0 /);
      term.keys('C-c');
      assert.equal(await term.until('top to exit', (screen) => /exited with (\d+)/.exec(screen)?.[1], 10_000), '0');
      // It removed the session it made, as record does: the app detaches.
      const list = traceConsume('list', '--json');
      assert.ok(!(JSON.parse(list.stdout) as { name: string }[]).some((l) => l.name === name), 'session removed');
    } finally {
      emitter?.kill('SIGKILL');
      term.close();
    }
  });

test('top and view --follow do not change what is recorded: emitted == recorded + lost; they end with it',
  { timeout: 60_000 }, async () => {
    const name = uniqueName('undisturbed');
    const dir = path.join(work, 'undisturbed');
    const rec = spawn(process.execPath, [cliPath, 'record', '-q', '-s', name, '-o', dir, '--', process.execPath,
      emitterPath, 'blast', '2', '50000'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let recOut = '';
    rec.stdout!.on('data', (d: Buffer) => { recOut += d.toString(); });
    const readers: ChildProcess[] = [];
    try {
      await waitFor('the recording to start', () => fs.existsSync(path.join(dir, 'metadata')), 10_000);
      const outputs = [['view', dir, '-f', '--json'], ['top', '-s', name], ['top', dir]].map((args) => {
        const c = spawn(process.execPath, [cliPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        readers.push(c);
        const o = { out: '', err: '', code: exited(c) };
        c.stdout!.on('data', (d: Buffer) => { o.out += d.toString(); });
        c.stderr!.on('data', (d: Buffer) => { o.err += d.toString(); });
        return o;
      });
      assert.equal(await within(exited(rec), 30_000, 'the recording to end'), 0);
      const [view, topSession, topDir] = outputs as [typeof outputs[0], typeof outputs[0], typeof outputs[0]];
      for (const o of outputs) assert.equal(await within(o.code, 10_000, 'a reader to end with the recording'), 0, o.err);
      const emitted = Number(/emitted (\d+)/.exec(recOut)![1]);
      const totals = (JSON.parse(fs.readFileSync(path.join(dir, SIDECAR), 'utf8')) as
        { totals: { events: number; lost: number } }).totals;
      assert.equal(totals.events + totals.lost, emitted, `emitted ${emitted} == recorded ${totals.events} + lost ${totals.lost}`);
      const followed = view.out.trimEnd().split('\n');
      assert.equal(followed.length, totals.events, 'view --follow printed every recorded event');
      assert.equal(traceConsume('stats', dir).status, 0);
      // Not on a terminal: plain blocks; each top said why it ended.
      assert.match(topSession.out, /^ringtrace top - session '/);
      assert.doesNotMatch(topSession.out, /\x1b\[/);
      assert.match(topSession.err, new RegExp(`the recording of session '${name}' ended`));
      assert.match(topDir.err, /the recording into .* ended/);
    } finally {
      for (const c of readers) c.kill('SIGKILL');
      killGroup(rec);
    }
  });

test('top: clear errors for what it cannot watch', () => {
  const notTrace = path.join(work, 'not-a-trace');
  fs.mkdirSync(notTrace);
  let r = traceConsume('top', notTrace);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /not a trace directory \(no metadata file\)/);
  r = traceConsume('top', path.join(work, 'missing'));
  assert.match(r.stderr, /no such directory/);
  r = traceConsume('top', '-s', 'x', notTrace);
  assert.match(r.stderr, /a session \(-s\) or a trace directory \(DIR\), not both/);
  const done = path.join(work, 'done');
  assert.equal(traceConsume('record', '-q', '-o', done, '--', process.execPath, emitterPath, 'count', '10', 'x').status, 0);
  r = traceConsume('top', done);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /the recording has ended \(trace-consume stats .* summarizes it\)/);
  r = traceConsume('top', '--help');
  assert.match(r.stdout, /Examples:/);
});
