// Who may touch a session and a trace: session objects and trace files are
// private (0600 files, 0700 directories), another user can neither read nor
// write them, a session object planted by another user is refused (the app
// runs on untraced), and session names cannot name paths.
// The second-user checks need root and the account `ringtrace-test`, which
// .ci/run creates (`useradd --no-create-home ringtrace-test`); they are
// skipped elsewhere.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { emitterPath } from '../fixtures/trace-helpers';

const cli = path.join(__dirname, '..', 'cli', 'trace-consume.js');
const tc = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const OTHER = 'ringtrace-test';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-perm-'));
test.after(() => fs.rmSync(work, { recursive: true, force: true }));

function otherUserSkip(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to act as a second user (CI runs as root)';
  if (spawnSync('id', ['-u', OTHER]).status !== 0) return `needs the account ${OTHER} (.ci/run creates it with useradd)`;
  return undefined;
}

/** Run a node script as the other user; it prints JSON. */
function asOther(script: string): unknown {
  const r = spawnSync('runuser', ['-u', OTHER, '--', process.execPath, '-e', script], { encoding: 'utf8', cwd: '/' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const sessionFiles = (name: string) => fs.readdirSync('/dev/shm')
  .filter((f) => f.startsWith(`ringtrace-${process.geteuid!()}-${name}`)).map((f) => path.join('/dev/shm', f));

test('session objects and trace files are private, and another user can neither read nor write them', async (t) => {
  const name = `perm-${process.pid}`;
  const out = path.join(work, 'trace');
  // A recording in progress, with an app attached (so the registry and process log exist).
  const rec = spawn(process.execPath, [cli, 'record', '-q', '-o', out, '--session', name, '--duration', '3'],
    { stdio: 'ignore' });
  const exited = new Promise((r) => rec.on('exit', r));
  try {
    const app = spawnSync(process.execPath, [emitterPath, 'late', '100'],
      { encoding: 'utf8', env: { ...process.env, RINGTRACE_SESSION: name } });
    assert.match(app.stdout, /first/, app.stderr);
    const files = sessionFiles(name);
    assert.ok(files.length >= 3, `session object, registry, process log, lock: ${files.join(' ')}`);
    for (const f of files) {
      const st = fs.statSync(f);
      assert.equal(st.mode & 0o777, 0o600, `${f} is 0600`);
      assert.equal(st.uid, process.geteuid!(), `${f} is ours`);
    }
    assert.equal(fs.statSync(out).mode & 0o777, 0o700, 'trace directory is 0700');

    const skip = otherUserSkip();
    if (skip) return t.skip(skip);
    const attempts = asOther(`
      const fs = require('fs');
      const tryOpen = (f, flags) => { try { fs.closeSync(fs.openSync(f, flags)); return 'opened'; } catch (e) { return e.code; } };
      const files = ${JSON.stringify(files)};
      console.log(JSON.stringify({
        read: files.map((f) => tryOpen(f, 'r')),
        write: files.map((f) => tryOpen(f, 'r+')),
        traceDir: (() => { try { fs.readdirSync(${JSON.stringify(out)}); return 'listed'; } catch (e) { return e.code; } })(),
      }));`) as { read: string[]; write: string[]; traceDir: string };
    assert.deepEqual(attempts.read, files.map(() => 'EACCES'), 'no read');
    assert.deepEqual(attempts.write, files.map(() => 'EACCES'), 'no write, so no injection');
    assert.equal(attempts.traceDir, 'EACCES');
  } finally {
    await exited;
  }
  const stat = tc('stats', out, '--json');
  assert.equal(stat.status, 0, stat.stderr);
  for (const f of fs.readdirSync(out)) assert.equal(fs.statSync(path.join(out, f)).mode & 0o777, 0o600, `${f} is 0600`);
});

test('a session object planted by another user is refused; the app runs on untraced', (t) => {
  const skip = otherUserSkip();
  if (skip) return t.skip(skip);
  const name = `planted-${process.pid}`;
  const planted = `/dev/shm/ringtrace-${process.geteuid!()}-${name}`;
  asOther(`const fs = require('fs'); fs.writeFileSync(${JSON.stringify(planted)}, Buffer.alloc(65536, 1), { mode: 0o666 });
    fs.chmodSync(${JSON.stringify(planted)}, 0o666); console.log('{}');`);
  try {
    const app = spawnSync(process.execPath, [emitterPath, 'count', '10', 'x'],
      { encoding: 'utf8', env: { ...process.env, RINGTRACE_SESSION: name } });
    assert.equal(app.status, 0, app.stderr);
    assert.match(app.stdout, /done false/, 'ran, untraced');
    assert.match(app.stderr, /cannot trace into session .*owned by uid \d+, not by you/);
    const r = tc('record', '-o', path.join(work, 'planted'), '--session', name, '--duration', '1');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /refusing .*: it is owned by uid \d+, not by you/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    fs.rmSync(planted, { force: true });
  }
});

test('session names cannot name paths', () => {
  for (const bad of ['../x', 'a/b', '.hidden', '-flag']) {
    const r = tc('record', '-o', path.join(work, 'esc'), '--session', bad, '--duration', '1');
    assert.equal(r.status, 1, bad);
    assert.match(r.stderr, /session name .*(must not start|may only contain)/, bad);
    const app = spawnSync(process.execPath, [emitterPath, 'count', '1', 'x'],
      { encoding: 'utf8', env: { ...process.env, RINGTRACE_SESSION: bad } });
    assert.equal(app.status, 0, app.stderr);
    assert.match(app.stderr, /is not a session name.*tracing is off/, bad);
  }
  assert.ok(!fs.existsSync(path.join(work, 'esc')) || fs.readdirSync(path.join(work, 'esc')).length === 0);
});
