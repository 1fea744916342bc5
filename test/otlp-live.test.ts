// `record --otlp`: spans sent while recording, to a real OTLP/HTTP receiver
// (fixtures/otlp-receiver.ts): delivered before the app has finished, every
// span either delivered or counted as dropped when the backend fails, and the
// recording itself never held back by the backend.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliPath, scratchDir } from '../fixtures/cli-helpers';
import { startReceiver, type Receiver, type ReceiverAction } from '../fixtures/otlp-receiver';
import { spansIn } from '../fixtures/otlp-view';
import { SIDECAR } from '../src/trace/writer';
import { runCommand } from '../fixtures/trace-helpers';

const app = path.join(__dirname, '..', 'fixtures', 'otlp-live-app.js');
// The commands read OpenTelemetry's variables: none of the environment's may steer these runs.
for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_')) delete process.env[name];
const work = scratchDir('otlp-live');
const N = 300; // spans per half; the app makes 2 N + 1

interface Recording { code: number | null; stderr: string; dir: string; otlp: Record<string, number> }

/**
 * Record the app with --otlp to `receiver`; `release` decides when the app
 * may make its second half (it waits for a line on its standard input).
 */
async function recordLive(receiver: Receiver, tag: string, release: () => Promise<void>): Promise<Recording> {
  const dir = path.join(work, tag);
  const child = spawn(process.execPath, [cliPath, 'record', '-q', '-o', dir, '--otlp', receiver.url,
    '--flush-interval', '0.1', '--otlp-exit-wait', '1', '--', process.execPath, app, String(N)],
  { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('half\n')) resolve();
  }));
  let failure: unknown;
  try {
    await release();
  } catch (e) {
    failure = e; // the app still gets its line and the recording ends: nothing is left running
  }
  child.stdin.end('go\n');
  const code = await exited;
  if (failure) throw failure;
  const sidecar = JSON.parse(fs.readFileSync(path.join(dir, SIDECAR), 'utf8')) as
    { otlp: Record<string, number>; totals: { events: number; lost: number } };
  assert.equal(sidecar.totals.lost, 0, JSON.stringify(sidecar.totals));
  assert.equal(sidecar.totals.events, 2 + 2 * N * 3, `the recording itself is whole: ${JSON.stringify(sidecar.totals)}; ${stderr}`); // session + work spans, ticks
  return { code, stderr, dir, otlp: sidecar.otlp };
}

test('spans go out while recording: the first half arrives before the app makes the second', async () => {
  const receiver = await startReceiver();
  try {
    const r = await recordLive(receiver, 'healthy', () => receiver.until(() => receiver.accepted.spans >= N, 20_000));
    assert.equal(r.code, 0, r.stderr);
    const spans = spansIn(receiver.requests.filter((q) => q.accepted));
    assert.equal(spans.length, 2 * N + 1);
    assert.equal(r.otlp['endsWithoutBegin'], 0);
    assert.equal(r.otlp['unfinished'], 0);
    assert.equal(r.otlp['sentItems'], 2 * N + 1);
    assert.equal(r.otlp['droppedItems'], 0);
    // 'session' began in the first cut and ended in the last: matched across cuts, the parent of every 'work'
    const session = spans.find((s) => s.name === 'session')!;
    const work = spans.filter((s) => s.name === 'work');
    assert.equal(work.length, 2 * N);
    for (const s of work) {
      assert.equal(s.parentSpanId, session.spanId);
      assert.equal(s.traceId, session.traceId);
      assert.equal(s.events.length, 1);
    }
    assert.ok(receiver.requests.filter((q) => q.signal === 'traces').length >= 2);
  } finally {
    await receiver.stop();
  }
});

test('a backend answering 503 and 429 for a while: retried, every span delivered', async () => {
  let refusals = 0;
  const receiver = await startReceiver({
    respond: (): ReceiverAction => (refusals++ < 3 ? { status: refusals === 2 ? 429 : 503, retryAfter: '0' } : { status: 200 }),
  });
  try {
    const r = await recordLive(receiver, 'refusing', () => receiver.until(() => receiver.accepted.spans >= N, 20_000));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(spansIn(receiver.requests.filter((q) => q.accepted)).length, 2 * N + 1);
    assert.ok(r.otlp['retries']! >= 3);
    assert.equal(r.otlp['sentItems'], 2 * N + 1);
    assert.equal(r.otlp['droppedItems'], 0);
  } finally {
    await receiver.stop();
  }
});

test('a backend that is down throughout: the recording is whole, every span counted as dropped', async () => {
  const receiver = await startReceiver();
  await receiver.stop();
  const r = await recordLive(receiver, 'down', async () => undefined);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.otlp['sentItems'], 0);
  assert.equal(r.otlp['spans'], 2 * N + 1);
  assert.equal(r.otlp['droppedItems'], 2 * N + 1);
  const stats = await new Promise<string>((resolve) => {
    let out = '';
    const p = spawn(process.execPath, [cliPath, 'stats', r.dir]);
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('close', () => resolve(out));
  });
  assert.match(stats, new RegExp(`otlp: +sent 0 of ${2 * N + 1} items .* ${2 * N + 1} dropped`));
});

test('a backend that fails mid-stream: what it took is counted sent, the rest dropped, nothing twice', async () => {
  // From the moment it has the first half, it cuts every connection without an answer (answers already
  // given stand: stopping the server could cut one in flight, which the recorder would rightly count dropped).
  let failing = false;
  const receiver = await startReceiver({ respond: (): ReceiverAction => (failing ? { destroy: true } : { status: 200 }) });
  const r = await recordLive(receiver, 'gone', async () => {
    await receiver.until(() => receiver.accepted.spans >= N, 20_000);
    failing = true;
  });
  await receiver.stop();
  assert.equal(r.code, 0, r.stderr);
  const got = spansIn(receiver.requests.filter((q) => q.accepted));
  assert.equal(new Set(got.map((s) => s.spanId)).size, got.length);
  assert.equal(r.otlp['sentItems'], got.length);
  assert.equal(r.otlp['sentItems']! + r.otlp['droppedItems']!, 2 * N + 1);
  assert.ok(r.otlp['droppedItems']! > 0);
});

test('without -o: the recording goes only to the backend; its files give their space back as they are sent, then go', async () => {
  const receiver = await startReceiver();
  const tmp = fs.mkdtempSync(path.join('/dev/shm', 'rt-otlp-only-')); // tmpfs: space shows in st_blocks at once
  try {
    const child = spawn(process.execPath, [cliPath, 'record', '--otlp', receiver.url, '--flush-interval', '0.1',
      '--otlp-exit-wait', '1', '--', process.execPath, app, String(N)],
    { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    let checked: { size: number; allocated: number } | undefined;
    try {
      await receiver.until(() => receiver.accepted.spans >= N, 20_000);
      const [scratch] = fs.readdirSync(tmp);
      const dir = path.join(tmp, scratch!, 'trace');
      // The CPU stream the app's records went to: the largest (another CPU's may hold a packet header or nothing).
      const streams = fs.readdirSync(dir).filter((f) => f.startsWith('stream_cpu')).map((f) => fs.statSync(path.join(dir, f)));
      const st = streams.reduce((a, b) => (b.size > a.size ? b : a));
      checked = { size: st.size, allocated: st.blocks * 512 };
    } finally {
      child.stdin.end('go\n');
    }
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /for OTLP \(no trace kept\)/);
    assert.ok(checked!.size > 16384 && checked!.allocated < checked!.size / 2,
      `what was sent no longer takes space: ${JSON.stringify(checked)}`);
    assert.deepEqual(fs.readdirSync(tmp), [], 'nothing left behind');
    assert.equal(spansIn(receiver.requests.filter((q) => q.accepted)).length, 2 * N + 1);
  } finally {
    await receiver.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('record --otlp: the resource from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; option mistakes exit 2', async () => {
  const receiver = await startReceiver();
  try {
    const emitter = path.join(__dirname, '..', 'fixtures', 'emitter.js');
    const run = (args: string[], env: Record<string, string> = {}) =>
      runCommand(process.execPath, [cliPath, 'record', '-q', ...args], env);
    const app = ['--flush-interval', '0.1', '--otlp-exit-wait', '2', '--', process.execPath, emitter, 'mixed', '40'];
    const r = await run(['--otlp', receiver.url, ...app],
      { OTEL_SERVICE_NAME: 'live-svc', OTEL_RESOURCE_ATTRIBUTES: 'team=pay,region=eu' });
    assert.equal(r.code, 0, r.stderr);
    const spans = spansIn(receiver.requests.filter((q) => q.accepted));
    assert.equal(spans.length, 10);
    for (const s of spans) assert.deepEqual([s.resource['service.name'], s.resource['team'], s.resource['region']],
      ['live-svc', 'pay', 'eu']);
    // Only a traces endpoint: the gauges are said not sent, in the summary and in stats; not a failure.
    const dir = path.join(work, 'traces-only');
    const before = receiver.requests.length;
    const only = await run(['--otlp', '-o', dir, ...app], { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces` });
    assert.equal(only.code, 0, only.stderr);
    assert.equal(spansIn(receiver.requests.slice(before)).length, 10);
    assert.deepEqual([...new Set(receiver.requests.slice(before).map((q) => q.signal))], ['traces']);
    assert.match(only.stderr, /otlp: 10 items not sent: no endpoint for logs or metrics/);
    const stats = spawnSync(process.execPath, [cliPath, 'stats', dir], { encoding: 'utf8' });
    assert.match(stats.stdout, /otlp: +sent 10 of 20 items .*; 10 not sent \(no endpoint for their signal\)/);
    const header = await run(['--otlp', receiver.url, '--otlp-header', 'no-equals', '--', process.execPath, '-e', '0']);
    assert.equal(header.code, 2, header.stderr);
    assert.match(header.stderr, /--otlp-header: 'no-equals' is not name=value/);
    const attrs = await run(['--otlp', receiver.url, '--', process.execPath, '-e', '0'], { OTEL_RESOURCE_ATTRIBUTES: 'k=%zz' });
    assert.equal(attrs.code, 2, attrs.stderr);
    assert.match(attrs.stderr, /OTEL_RESOURCE_ATTRIBUTES: the value of 'k' is not valid URL encoding/);
  } finally {
    await receiver.stop();
  }
});
