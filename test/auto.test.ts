// Auto mode (src/auto/): unmodified apps run under `trace-consume record
// --auto` (or with -r / --import ringtrace/auto), their traces read back with
// `trace-consume view --json`. The app is fixtures/auto-app.ts.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as dc from 'node:diagnostics_channel';
import type { ServerResponse } from 'node:http';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runCommand } from '../fixtures/trace-helpers';
import { parseParts } from '../src/auto/options';
import { channelExists, subscribe } from '../src/auto/channels';
import { parseTraceparent, rawHeader, requestPath, responseSize, statusField } from '../src/auto/http-server';
import { AUTO_MODULE, autoEnvironment } from '../cli/auto-env';
import { app, cli, ENV, type Line, of, recordAuto, root, spans, tmpTrace, view } from '../fixtures/auto-trace';

/** What every HTTP fixture run must show (plain, nested, express). */
function checkHttp(lines: Line[]): ReturnType<typeof spans> {
  const server = spans(lines, 'node.http', 'server');
  const byPath = new Map(server.map((s) => [s.begin.fields['path'], s]));
  assert.deepEqual([...byPath.keys()].sort(), ['/items/1', '/items/2', '/missing'], 'query strings are cut');
  assert.deepEqual(server.map((s) => s.begin.fields['method']), ['GET', 'GET', 'GET']);
  for (const s of server) {
    assert.equal(s.begin.fields['parent_id'], 0, 'a server request is a root');
    assert.ok(s.endAt > s.beginAt, 'every server span ended');
  }
  assert.equal(byPath.get('/items/1')!.end!.fields['status'], 200);
  assert.equal(byPath.get('/missing')!.end!.fields['status'], 404);
  assert.equal(byPath.get('/items/2')!.end!.fields['status'], 200);
  assert.equal(byPath.get('/items/1')!.end!.fields['size'], JSON.stringify({ id: 1, name: 'item 1' }).length);
  // traceparent: a valid one recorded, a malformed one (fetch's) left empty.
  assert.equal(byPath.get('/items/1')!.begin.fields['trace_id'], '4bf92f3577b34da6a3ce929d0e0e4736');
  assert.equal(byPath.get('/items/1')!.begin.fields['parent_span_id'], '00f067aa0ba902b7');
  assert.equal(byPath.get('/items/2')!.begin.fields['trace_id'], '');
  assert.equal(byPath.get('/items/2')!.begin.fields['parent_span_id'], '');

  // The client side of the same calls: http.request/http.get, then fetch; each encloses its server span.
  const client = spans(lines, 'node.http', 'client');
  assert.deepEqual(client.map((c) => [c.begin.fields['method'], c.begin.fields['host'], c.begin.fields['path'],
    c.end?.fields['status']]), [['GET', '127.0.0.1', '/items/1', 200], ['GET', '127.0.0.1', '/missing', 404]]);
  const fetched = spans(lines, 'node.fetch', 'request');
  assert.equal(fetched.length, 1);
  assert.equal(fetched[0]!.begin.fields['path'], '/items/2');
  assert.match(String(fetched[0]!.begin.fields['host']), /^127\.0\.0\.1:\d+$/);
  assert.equal(fetched[0]!.end!.fields['status'], 200);
  for (const [c, p] of [[client[0]!, '/items/1'], [client[1]!, '/missing'], [fetched[0]!, '/items/2']] as const) {
    const s = byPath.get(p)!;
    assert.ok(c.beginAt < s.beginAt && s.endAt < c.endAt, `the client span of ${p} encloses its server span`);
  }

  // Runtime: GC pauses, loop delay, utilization and memory counters (50 ms interval).
  assert.ok(of(lines, 'node.runtime', 'gc').length > 0, 'GC events');
  assert.ok(of(lines, 'node.runtime', 'gc').every((g) => ['minor', 'major', 'incremental', 'weakcb']
    .includes(String(g.fields['kind'])) && Number(g.fields['duration_ms']) >= 0));
  for (const c of ['loop_delay_p50_ms', 'loop_delay_p99_ms', 'loop_delay_max_ms', 'loop_utilization',
    'heap_used_bytes', 'rss_bytes']) {
    assert.ok(of(lines, 'node.runtime', c, 'counter').length > 0, `counter ${c}`);
  }
  const u = of(lines, 'node.runtime', 'loop_utilization')[0]!.fields['value'] as number;
  assert.ok(u >= 0 && u <= 1, `utilization ${u}`);
  return server;
}

test('an unmodified node:http app: server, http client and fetch spans, traceparent, runtime counters', async () => {
  const { lines, stdout } = await recordAuto('plain');
  assert.match(stdout, /^done 200,404,200/);
  checkHttp(lines);
  assert.ok(of(lines, 'node.net', 'server_socket').length >= 2, 'net server sockets');
  assert.ok(of(lines, 'node.net', 'client_socket').length >= 2, 'net client sockets');
});

test("the handler's own spans (require('ringtrace')) nest under the request span, across an await", async () => {
  const { lines } = await recordAuto('nested');
  const server = checkHttp(lines);
  const handles = of(lines, 'app', 'handle', 'span_begin');
  const inners = of(lines, 'app', 'inner', 'span_begin');
  assert.equal(handles.length, 3);
  assert.equal(inners.length, 3);
  assert.deepEqual(handles.map((h) => h.fields['parent_id']).sort(),
    server.map((s) => s.begin.fields['span_id']).sort(), 'each handle span is a child of its request span');
  assert.deepEqual(inners.map((i) => i.fields['parent_id']).sort(), handles.map((h) => h.fields['span_id']).sort(),
    'the inner spans, started after an await, are children of the handle spans');
});

/** The server spans and the app's handle/inner spans of a raw-client run (no client span reads the context). */
async function rawRun(mode: string, env: Record<string, string> = {}) {
  const out = tmpTrace(mode);
  const r = await runCommand(process.execPath, [cli, 'record', '-q', '-o', out, '--auto=http', '--',
    process.execPath, app, mode], { ...ENV, ...env });
  assert.equal(r.code, 0, r.stderr);
  const lines = await view(out);
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  return { stdout: r.stdout, server: of(lines, 'node.http', 'server', 'span_begin'),
    handles: of(lines, 'app', 'handle', 'span_begin'), inners: of(lines, 'app', 'inner', 'span_begin') };
}

test('an app whose code never reads the current span runs without async context (its cost stays off)', async () => {
  const { stdout, server } = await rawRun('raw');
  assert.match(stdout, /^done 200,404,200 \d+ context off$/m);
  assert.equal(server.length, 3);
  const forced = await rawRun('raw', { RINGTRACE_AUTO_CONTEXT: '1' });
  assert.match(forced.stdout, /context on$/m, 'RINGTRACE_AUTO_CONTEXT=1 enters it from the first request');
});

test("the context comes on at the app's first span, and even that first span nests under its request", async () => {
  const { stdout, server, handles, inners } = await rawRun('nested-raw');
  assert.match(stdout, /context on$/m);
  assert.equal(server.length, 3);
  assert.deepEqual(handles.map((h) => h.fields['parent_id']), server.map((s) => s.fields['span_id']),
    'each handle span, the first included, is a child of its request span');
  assert.deepEqual(inners.map((i) => i.fields['parent_id']), handles.map((h) => h.fields['span_id']));
});

test('RINGTRACE_AUTO_CONTEXT=0: request spans still recorded, the handler\'s spans no longer nest under them', async () => {
  const out = tmpTrace('noctx');
  const r = await runCommand(process.execPath, [cli, 'record', '-q', '-o', out, '--auto=http', '--',
    process.execPath, app, 'nested'], { ...ENV, RINGTRACE_AUTO_CONTEXT: '0' });
  assert.equal(r.code, 0, r.stderr);
  const lines = await view(out);
  assert.equal(of(lines, 'node.http', 'server', 'span_begin').length, 3);
  const handles = of(lines, 'app', 'handle', 'span_begin');
  assert.deepEqual(handles.map((h) => h.fields['parent_id']), [0, 0, 0]);
});

test('an Express app is traced the same way', async () => {
  const { lines, stdout } = await recordAuto('express');
  assert.match(stdout, /^done 200,404,200/);
  checkHttp(lines);
});

test('a worker thread and a child process trace themselves; their start is recorded', async () => {
  const { lines } = await recordAuto('spawn', []);
  const main = lines.find((l) => l.provider === 'node.http' && l.event === 'server')!.pid;
  assert.equal(of(lines, 'node.process', 'worker').length, 1);
  const child = of(lines, 'node.process', 'child');
  assert.equal(child.length, 1);
  assert.equal(child[0]!.fields['file'], process.execPath);
  const childPid = child[0]!.fields['child_pid'] as number;
  assert.ok(childPid > 0);
  const clients = spans(lines, 'node.http', 'client');
  const fromWorker = clients.find((c) => c.begin.fields['path'] === '/items/7')!;
  assert.equal(fromWorker.begin.pid, main);
  assert.notEqual(fromWorker.begin.tid, main, 'the worker thread recorded its own request');
  assert.equal(fromWorker.end!.fields['status'], 200);
  const fromChild = clients.find((c) => c.begin.fields['path'] === '/items/8')!;
  assert.equal(fromChild.begin.pid, childPid, 'the child process recorded its own request');
  const served = spans(lines, 'node.http', 'server').map((s) => s.begin.fields['path']);
  assert.ok(served.includes('/items/7') && served.includes('/items/8'));
});

test('RINGTRACE_AUTO picks parts; RINGTRACE_AUTO_QUERY keeps query strings', async () => {
  const out = tmpTrace('parts');
  const r = await runCommand(process.execPath, [cli, 'record', '-q', '-o', out, '--auto=http', '--',
    process.execPath, app, 'plain'], { ...ENV, RINGTRACE_AUTO_QUERY: '1' });
  assert.equal(r.code, 0, r.stderr);
  const lines = await view(out);
  assert.deepEqual([...new Set(lines.map((l) => l.provider))].sort(), ['node.http']);
  assert.ok(of(lines, 'node.http', 'server', 'span_begin').some((s) => s.fields['path'] === '/items/1?secret=1'));
  const bad = await runCommand(process.execPath, [cli, 'record', '-q', '-o', tmpTrace('bad'), '--auto', 'node', 'x.js']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown part\(s\) 'node'/);
});

test('RINGTRACE_AUTO_HEADERS records the named request headers, and only them', async () => {
  const out = tmpTrace('headers');
  const r = await runCommand(process.execPath, [cli, 'record', '-q', '-o', out, '--auto=http', '--',
    process.execPath, app, 'plain'], { ...ENV, RINGTRACE_AUTO_HEADERS: 'Traceparent,host,x-absent' });
  assert.equal(r.code, 0, r.stderr);
  const first = of(await view(out), 'node.http', 'server', 'span_begin')[0]!;
  assert.match(String(first.fields['headers']),
    /^traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\nhost: 127\.0\.0\.1:\d+$/);
});

test("flight --auto: a trigger on the request span's status writes a snapshot holding the span", async () => {
  const out = path.join(path.dirname(tmpTrace('flight')), 'snaps');
  const r = await runCommand(process.execPath, [cli, 'flight', '-q', '-o', out, '--buffer-size', '256K',
    '--subbuffers', '8', '--auto=http', '--trigger', 'node.http:server: status == 404', '--',
    process.execPath, app, 'plain'], ENV);
  assert.equal(r.code, 0, r.stderr);
  const snaps = fs.readdirSync(out).filter((n) => n.startsWith('snapshot-'));
  assert.equal(snaps.length, 1, snaps.join(' '));
  const lines = await view(path.join(out, snaps[0]!));
  const missing = spans(lines, 'node.http', 'server').find((s) => s.begin.fields['path'] === '/missing');
  assert.ok(missing, 'the 404 request span is in the snapshot');
  assert.equal(missing.end?.fields['status'], 404, 'with the end that fired the trigger');
});

test('node --import ringtrace/auto and -r ringtrace/auto (the package export) trace an unmodified app, CommonJS or ES module', async () => {
  const esmApp = path.join(__dirname, '..', 'fixtures', 'auto-esm-app.mjs');
  for (const [flag, appArgs, paths] of [['--import', [app, 'plain'], 3], ['-r', [app, 'plain'], 3],
    ['--import', [esmApp], ['/a', '/b']]] as const) {
    const out = tmpTrace('import');
    const done = await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, 'record', '-q', '-o', out, '--', process.execPath, flag,
        'ringtrace/auto', ...appArgs], { cwd: root, env: { ...process.env, ...ENV, RINGTRACE_AUTO: 'http,fetch' } });
      let stderr = '';
      let stdout = '';
      child.stderr.on('data', (d: Buffer) => { stderr += String(d); });
      child.stdout.on('data', (d: Buffer) => { stdout += String(d); });
      child.on('close', (code) => resolve({ code, stderr, stdout }));
    });
    assert.equal(done.code, 0, done.stderr);
    const lines = await view(out);
    const server = of(lines, 'node.http', 'server', 'span_begin');
    if (typeof paths === 'number') {
      assert.equal(server.length, paths, `${flag} ${appArgs[0]}`);
    } else { // the ES module app, its calls from top-level await
      assert.match(done.stdout, /^done esm \/a,esm \/b\?q=1$/m);
      assert.deepEqual(server.map((s) => s.fields['path']), paths);
      assert.deepEqual(of(lines, 'node.fetch', 'request', 'span_begin').map((s) => s.fields['path']), paths);
    }
  }
});

test('traceparent parsing follows W3C Trace Context', () => {
  const ok = parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  assert.deepEqual(ok, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7' });
  const none = { traceId: '', parentId: '' };
  for (const bad of [undefined, '', '00-xyz-01', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
    '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x',
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']]) {
    assert.deepEqual(parseTraceparent(bad), none, String(bad));
  }
  // A later version may add fields after the flags.
  assert.equal(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra').traceId,
    '4bf92f3577b34da6a3ce929d0e0e4736');
  const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  assert.equal(rawHeader(['Host', 'x', 'TraceParent', tp], 'traceparent'), tp);
  assert.equal(rawHeader(['traceparent', tp, 'traceparent', tp], 'traceparent'), `${tp}, ${tp}`);
  assert.deepEqual(parseTraceparent(rawHeader(['traceparent', tp, 'traceparent', tp], 'traceparent')), none,
    'a repeated traceparent is malformed');
  assert.equal(rawHeader(['Host', 'x'], 'traceparent'), undefined);
  assert.equal(requestPath('/a/b?c=1', false), '/a/b');
  assert.equal(requestPath('/a/b?c=1', true), '/a/b?c=1');
});

test("end fields only take values their types hold (a value they cannot would drop the span's end)", () => {
  assert.deepEqual([200, 404, 0, 65535, 65536, -1, 1.5, '200', undefined, null].map(statusField),
    [200, 404, 0, 65535, 0, 0, 0, 0, 0, 0]);
  const response = (computed: unknown, header: unknown) =>
    ({ _contentLength: computed, getHeader: () => header }) as unknown as ServerResponse;
  assert.deepEqual([[10, undefined], [0, '5'], [1.5, '7'], [undefined, '12'], [undefined, 'x'], [undefined, '1e300'],
    [-1, undefined], [2 ** 60, undefined]].map(([c, h]) => responseSize(response(c, h))), [10, 0, 7, 12, -1, -1, -1, -1]);
});

test('options, channel versions, NODE_OPTIONS, and a failing subscriber never reaches the app', () => {
  assert.deepEqual([...parseParts('http, GC').parts], ['http', 'gc']);
  assert.deepEqual(parseParts('http,bogus').unknown, ['bogus']);
  assert.equal(parseParts('').parts.size, 8);
  assert.equal(channelExists('http.server.request.start', [20, 0]), true);
  assert.equal(channelExists('http.client.request.error', [18, 17]), false);
  assert.equal(channelExists('no.such.channel', [99, 0]), false);
  assert.deepEqual(autoEnvironment(true, {}), { NODE_OPTIONS: `-r ${AUTO_MODULE}`, RINGTRACE_AUTO: 'all' });
  const env = autoEnvironment('http,gc', { NODE_OPTIONS: '--max-old-space-size=100' });
  assert.equal(env['NODE_OPTIONS'], `--max-old-space-size=100 -r ${AUTO_MODULE}`);
  assert.equal(env['RINGTRACE_AUTO'], 'http,gc');
  const errors: unknown[] = [];
  assert.ok(subscribe('http.server.request.start', () => { throw new Error('boom'); }, (e) => errors.push(e)));
  let uncaught = 0;
  const onUncaught = () => { uncaught++; };
  process.on('uncaughtException', onUncaught);
  dc.channel('http.server.request.start').publish({});
  process.off('uncaughtException', onUncaught);
  assert.equal(errors.length, 1);
  assert.equal(uncaught, 0);
});
