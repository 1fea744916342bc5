// `trace-consume export -f otlp`: a recorded trace sent to a real OTLP/HTTP
// receiver (fixtures/otlp-receiver.ts decodes with protobufjs and
// proto/otlp.proto, never with ringtrace's encoder). The app (fixtures/
// otlp-app.ts) also sends its OpenTelemetry spans through OpenTelemetry's
// own OTLP exporter to the same receiver, so the spans ringtrace sends are
// compared with what OpenTelemetry itself sent for the same run.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliPath, scratchDir } from '../fixtures/cli-helpers';
import { runCommand } from '../fixtures/trace-helpers';
import { startReceiver, type Receiver, type ReceiverRequest } from '../fixtures/otlp-receiver';
import { decodeStrict } from '../fixtures/proto-strict';
import { gaugePointsIn, logsIn, spansIn, type SpanView } from '../fixtures/otlp-view';
import { EVERY_TYPE, GIVEN_START, LONG_LABEL } from '../fixtures/otlp-app';
import { resolveOtlpConfig } from '../src/otlp/config';
import { runOtlpExport } from '../src/otlp/export';
import * as protobuf from 'protobufjs';
import { OtlpBuilder } from '../src/otlp/builder';
import { openTrace } from '../src/trace/reader';
import { openCursors } from '../src/trace/cursor';
import { mergeRuns } from '../src/trace/merge';

const app = path.join(__dirname, '..', 'fixtures', 'otlp-app.js');
// The commands read OpenTelemetry's variables: none of the environment's may steer these runs.
for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_')) delete process.env[name];
const work = scratchDir('otlp-export');
const trace = path.join(work, 'trace');
let receiver: Receiver;
let fromOtel: ReceiverRequest[] = []; // what OpenTelemetry's exporter sent while recording
let fromUs: ReceiverRequest[] = []; // what `export -f otlp` sent
let recorded: [bigint, bigint] = [0n, 0n]; // Unix ns around the recording
const unixNsNow = () => BigInt(Date.now()) * 1_000_000n;

const tc = (...args: string[]) => runCommand(process.execPath, [cliPath, ...args]);

/** Export the trace to the receiver; returns the requests it sent. */
async function exportTrace(...more: string[]): Promise<{ requests: ReceiverRequest[]; stderr: string; code: number | null }> {
  const before = receiver.requests.length;
  const r = await tc('export', trace, '-f', 'otlp', '--endpoint', receiver.url, ...more);
  return { requests: receiver.requests.slice(before), stderr: r.stderr, code: r.code };
}

test.before(async () => {
  receiver = await startReceiver();
  recorded[0] = unixNsNow() - 1_000_000n; // (Date.now() is whole milliseconds)
  const r = await tc('record', '-q', '-o', trace, '--', process.execPath, app, receiver.url);
  assert.equal(r.code, 0, r.stderr);
  recorded[1] = unixNsNow() + 1_000_000n;
  fromOtel = receiver.requests.slice();
  const e = await exportTrace('-q');
  assert.equal(e.code, 0, e.stderr);
  fromUs = e.requests;
});
test.after(() => receiver.stop());

const otelIds = () => new Set(spansIn(fromOtel).map((s) => s.spanId));
/** ringtrace's spans that OpenTelemetry made too, without what only ringtrace adds (thread.id, the process's resource). */
function comparable(spans: SpanView[]): SpanView[] {
  return spans.map((s) => ({ ...s, resource: {} })).sort((a, b) => a.spanId.localeCompare(b.spanId));
}

test('OpenTelemetry spans decode as OpenTelemetry\'s own exporter sent them: ids, times, attributes, events, links, status', () => {
  const theirs = spansIn(fromOtel);
  assert.equal(theirs.length, 2);
  const ids = otelIds();
  const ours = spansIn(fromUs, ['thread.id']).filter((s) => ids.has(s.spanId));
  assert.deepEqual(comparable(ours), comparable(theirs));
  const root = ours.find((s) => s.name === 'GET /items')!;
  assert.deepEqual(root.attributes['is'], [{ int: '1' }, { int: '-2' }, { int: '3' }]);
  assert.deepEqual(root.attributes['d'], { double: 2.5 });
  assert.equal(root.attributes['s'], EVERY_TYPE.s);
  // The resource: the app's OpenTelemetry resource, and what ringtrace knows of the process.
  for (const [k, v] of Object.entries(spansIn(fromOtel)[0]!.resource)) assert.deepEqual(root.resource[k], v, k);
  assert.equal(typeof root.resource['host.name'], 'string');
  assert.equal(root.resource['process.command'], 'otlp-app.js');
  assert.ok(root.resource['ringtrace.session']);
});

test('ringtrace spans: one trace, parents, typed attributes, events inside spans as span events', () => {
  const ids = otelIds();
  const spans = spansIn(fromUs).filter((s) => !ids.has(s.spanId) && s.scope !== 'bridge');
  const by = (name: string) => spans.find((s) => s.name === name)!;
  assert.deepEqual(spans.map((s) => s.name).sort(), ['charge', 'lookup', 'order']);
  const order = by('order');
  const lookup = by('lookup');
  const charge = by('charge');
  assert.equal(order.parentSpanId, '');
  assert.equal(lookup.parentSpanId, order.spanId);
  assert.equal(charge.parentSpanId, order.spanId);
  for (const s of spans) {
    assert.equal(s.traceId, order.traceId);
    assert.equal(s.kind, 1); // INTERNAL
    assert.equal(s.flags, 0x101);
    assert.equal(s.scope, 'shop');
    assert.ok(BigInt(s.start) <= BigInt(s.end));
  }
  assert.equal(new Set(spans.map((s) => s.spanId)).size, 3);
  assert.notEqual(order.traceId, spansIn(fromOtel)[0]!.traceId);
  assert.ok(BigInt(order.start) <= BigInt(lookup.start) && BigInt(lookup.end) <= BigInt(order.end));
  const tid = order.attributes['thread.id'];
  assert.deepEqual(order.attributes, { items: { int: '3' }, total: { double: 9.5 }, 'thread.id': tid });
  // a typed f64 field stays a double even when its value is integral
  assert.deepEqual(lookup.attributes, { key: 'sku-1', hits: { int: '4' }, ratio: { double: 2 }, 'thread.id': tid });
  assert.deepEqual(order.events.map((e) => [e.name, e.attributes]), [['shop:step', { n: { int: '1' }, label: 'begin' }]]);
  assert.deepEqual(lookup.events.map((e) => [e.name, e.attributes]), [['shop:step', { n: { int: '3' }, label: LONG_LABEL }]]);
  assert.deepEqual(charge.events.map((e) => [e.name, e.attributes]),
    [['shop:step', { n: { int: '2' }, label: 'charged' }]]);
  assert.ok(BigInt(charge.start) <= BigInt(charge.events[0]!.time) && BigInt(charge.events[0]!.time) <= BigInt(charge.end));
  assert.equal(order.resource['service.name'], 'otlp-fixture'); // the app's OpenTelemetry resource said so
});

test('the provider\'s spans: attributes and events typed or JSON, keys with dots, events on their own span', () => {
  const spans = spansIn(fromUs, ['thread.id']).filter((s) => s.scope === 'bridge' && !s.name.startsWith('given'));
  assert.deepEqual(spans.map((s) => [s.name, s.attributes]).sort(), [['first', { 'http.route': '/a', n: { int: '1' } }],
    ['second', { list: ['x'] }]]);
  const events = (name: string) => spans.find((s) => s.name === name)!.events.map((e) => [e.name, e.attributes]);
  assert.deepEqual(spans.map((s) => s.name).sort(), ['first', 'second']);
  assert.deepEqual(events('first'), [['typed', { 'http.route': '/a', n: { int: '3' }, d: { double: 2.5 }, ok: true }],
    ['bare', {}]]);
  assert.deepEqual(events('second'), [['json', { list: [{ int: '1' }, { int: '2' }], s: 'x' }]]);
  for (const s of spans) {
    for (const e of s.events) assert.ok(BigInt(s.start) <= BigInt(e.time) && BigInt(e.time) <= BigInt(s.end));
  }
});

test('the provider\'s times: left to the records when not given, given ones kept, no end before its start', () => {
  const spans = spansIn(fromUs).filter((s) => s.scope === 'bridge');
  const during = (t: string) => BigInt(t) > recorded[0] && BigInt(t) < recorded[1];
  for (const s of spans.filter((s) => !s.name.startsWith('given'))) { // every time from its record
    assert.ok(during(s.start) && during(s.end) && BigInt(s.start) < BigInt(s.end), `${s.name}: ${s.start}..${s.end}`);
    for (const e of s.events) assert.ok(during(e.time), `${s.name}: ${e.name} at ${e.time}`);
  }
  const given = spans.find((s) => s.name === 'given start')!;
  assert.equal(given.start, `${GIVEN_START[0]}00000000${GIVEN_START[1]}`);
  assert.ok(during(given.end) && during(given.events[0]!.time), 'its end and event: the clock\'s now');
  const early = spans.find((s) => s.name === 'given early end')!;
  assert.ok(during(early.start), early.start);
  assert.equal(early.end, early.start, 'an end given before the start (left to its record) is moved to it');
});

test('events outside spans are log records; counters are gauge points in time order', () => {
  const logs = logsIn(fromUs);
  assert.equal(logs.length, 1);
  assert.equal(logs[0]!.eventName, 'shop:started');
  assert.equal(logs[0]!.body, 'shop:started');
  assert.equal(logs[0]!.scope, 'shop');
  assert.deepEqual({ ...logs[0]!.attributes, 'thread.id': 0 }, { version: '1.0', ratio: { double: 2 }, 'thread.id': 0 });
  const points = gaugePointsIn(fromUs);
  assert.deepEqual(points.map((p) => [p.metric, p.value]), [['shop.queue_depth', 1.5], ['shop.queue_depth', 2],
    ['shop.queue_depth', 3]]);
  for (let i = 1; i < points.length; i++) assert.ok(BigInt(points[i - 1]!.time) <= BigInt(points[i]!.time));
  assert.equal(points[0]!.resource['process.command'], 'otlp-app.js');
});

test('the same trace exported again gets the same ids; --service-name and headers from the environment apply', async () => {
  const before = receiver.requests.length;
  const r = await runCommand(process.execPath, [cliPath, 'export', trace, '-f', 'otlp', '-q', '--service-name', 'shop-api'],
    { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_HEADERS: 'x-team=payments,authorization=Bearer%20t0k' });
  assert.equal(r.code, 0, r.stderr);
  const again = receiver.requests.slice(before);
  assert.ok(again.length >= 3);
  for (const q of again) {
    assert.equal(q.headers['x-team'], 'payments');
    assert.equal(q.headers['authorization'], 'Bearer t0k');
    assert.equal(q.headers['content-encoding'], 'gzip');
  }
  const ids = (reqs: ReceiverRequest[]) => spansIn(reqs).map((s) => `${s.traceId}/${s.spanId}/${s.parentSpanId}`).sort();
  assert.deepEqual(ids(again), ids(fromUs));
  for (const s of spansIn(again)) assert.equal(s.resource['service.name'], 'shop-api');
});

test('the resource from OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES', async () => {
  const before = receiver.requests.length;
  const r = await runCommand(process.execPath, [cliPath, 'export', trace, '-f', 'otlp', '-q', '--endpoint', receiver.url],
    { OTEL_SERVICE_NAME: 'checkout', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=staging,team=pay%20ments' });
  assert.equal(r.code, 0, r.stderr);
  const spans = spansIn(receiver.requests.slice(before));
  assert.ok(spans.length > 0);
  for (const s of spans) {
    assert.equal(s.resource['service.name'], 'checkout');
    assert.equal(s.resource['deployment.environment'], 'staging');
    assert.equal(s.resource['team'], 'pay ments');
  }
});

test('only a traces endpoint: spans sent, the logs and gauges said not sent, not a failure', async () => {
  const before = receiver.requests.length;
  const r = await runCommand(process.execPath, [cliPath, 'export', trace, '-f', 'otlp'],
    { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces` });
  assert.equal(r.code, 0, r.stderr);
  const sent = receiver.requests.slice(before);
  assert.deepEqual([...new Set(sent.map((q) => q.signal))], ['traces']);
  assert.equal(spansIn(sent).length, spansIn(fromUs).length);
  const unsent = logsIn(fromUs).length + gaugePointsIn(fromUs).length;
  assert.ok(unsent > 0);
  assert.match(r.stderr, new RegExp(`to traces ${receiver.url}/v1/traces: ${spansIn(fromUs).length} items in`));
  assert.match(r.stderr, new RegExp(`${unsent} items not sent: no endpoint for logs or metrics .*` +
    'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT'));
  assert.doesNotMatch(r.stderr, /rejected/);
});

test('export -f otlp: clear errors for a missing endpoint, a bad header or variable, and for -o (exit code 2)', async () => {
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' };
  const none = await runCommand(process.execPath, [cliPath, 'export', trace, '-f', 'otlp'], env);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /--endpoint/);
  const header = await tc('export', trace, '-f', 'otlp', '--endpoint', receiver.url, '--header', 'no-equals');
  assert.equal(header.code, 2);
  assert.match(header.stderr, /--header: 'no-equals' is not name=value/);
  const attrs = await runCommand(process.execPath, [cliPath, 'export', trace, '-f', 'otlp', '--endpoint', receiver.url],
    { OTEL_RESOURCE_ATTRIBUTES: 'team' });
  assert.equal(attrs.code, 2);
  assert.match(attrs.stderr, /OTEL_RESOURCE_ATTRIBUTES: 'team' is not key=value/);
  const withO = await tc('export', trace, '-f', 'otlp', '--endpoint', receiver.url, '-o', 'x');
  assert.equal(withO.code, 2);
  assert.match(withO.stderr, /-o is not used with --format otlp/);
  const noO = await tc('export', trace, '-f', 'jsonl');
  assert.equal(noO.code, 2);
  assert.match(noO.stderr, /needs -o/);
});

test('a backend that stays down: the export ends, every item counted as dropped', async () => {
  const down = await startReceiver();
  await down.stop();
  const r = runOtlpExport(trace, { config: resolveOtlpConfig({ endpoint: down.url }, {}), closeDeadlineMs: 2000,
    sender: { initialBackoffMs: 10, maxBackoffMs: 50, maxRetryElapsedMs: 300 } });
  const items = r.summary.spans + r.summary.logs + r.summary.points;
  assert.equal(items, 13); // 9 spans, 1 log record, 3 gauge points
  assert.equal(r.sent.sentItems, 0);
  assert.equal(r.sent.droppedItems, items);
  assert.ok(r.sent.retries > 0);
  assert.match(r.sent.lastError ?? '', /ECONNREFUSED|connect/);
});

/** fixtures/auto-app.js in `mode`, recorded with auto mode's http and fetch parts, exported: its spans as received. */
async function autoSpans(mode: string): Promise<SpanView[]> {
  const dir = path.join(work, `auto-${mode}`);
  const app = path.join(__dirname, '..', 'fixtures', 'auto-app.js');
  const r = await tc('record', '-q', '-o', dir, '--auto=http,fetch', '--', process.execPath, app, mode);
  assert.equal(r.code, 0, r.stderr);
  const before = receiver.requests.length;
  const e = await tc('export', dir, '-f', 'otlp', '-q', '--endpoint', receiver.url);
  assert.equal(e.code, 0, e.stderr);
  return spansIn(receiver.requests.slice(before));
}

test('auto mode: a traceparent joins the caller\'s trace; server and client kinds, statuses, the app\'s span nested', async () => {
  const spans = await autoSpans('nested');
  const servers = spans.filter((s) => s.name === 'server');
  const joined = servers.find((s) => s.traceId === '4bf92f3577b34da6a3ce929d0e0e4736')!;
  assert.ok(joined, 'the server span called with the traceparent');
  assert.equal(joined.parentSpanId, '00f067aa0ba902b7');
  assert.equal(joined.flags, 0x301); // its parent is remote
  assert.equal(joined.kind, 2); // SERVER
  assert.equal(joined.attributes['status'] && (joined.attributes['status'] as { int: string }).int, '200');
  assert.equal(joined.attributes['trace_id'], undefined, 'the ids are the span\'s, not attributes');
  const handle = spans.find((s) => s.name === 'handle' && s.traceId === joined.traceId)!;
  assert.equal(handle.parentSpanId, joined.spanId);
  const missing = servers.find((s) => (s.attributes['status'] as { int: string } | undefined)?.int === '404')!;
  assert.equal(missing.status.code, 0, 'a 404 is not a server error');
  const clients = spans.filter((s) => s.name === 'client' || s.name === 'request');
  assert.ok(clients.length >= 3);
  for (const c of clients) assert.equal(c.kind, 3); // CLIENT, http and fetch alike
  const failed = clients.find((c) => (c.attributes['status'] as { int: string } | undefined)?.int === '404')!;
  assert.equal(failed.status.code, 2, 'a client\'s 404 is an error');
});

test("auto mode: a handler's calls are children of the request span; a failed call is an error with its message", async () => {
  const spans = await autoSpans('calls');
  const byPath = (name: string, p: string) => {
    const found = spans.filter((s) => s.name === name && s.attributes['path'] === p);
    assert.equal(found.length, 1, `${name} ${p}`);
    return found[0]!;
  };
  const request = byPath('server', '/items/5');
  for (const call of [byPath('client', '/backend/5'), byPath('request', '/backend-fetch/5')]) {
    assert.equal(call.parentSpanId, request.spanId);
    assert.equal(call.traceId, request.traceId);
    assert.equal(call.status.code, 0);
  }
  for (const [name, p] of [['client', '/refused'], ['request', '/refused-fetch']] as const) {
    const failed = byPath(name, p);
    assert.equal(failed.status.code, 2, `${p}: an error`);
    assert.match(failed.status.message, /^Error: connect ECONNREFUSED 127\.0\.0\.1:2$/);
    assert.deepEqual(failed.resource['process.pid'], request.resource['process.pid']);
  }
  assert.match((request.resource['process.pid'] as { int: string }).int, /^[1-9]\d*$/, 'process.pid, an int attribute');
});

test('spans ended out of order keep exactly their own events, across the buffer\'s compactions', async () => {
  const dir = path.join(work, 'interleave');
  const n = 20000;
  const r = await tc('record', '-q', '-o', dir, '--subbuffers', '32', '--', process.execPath,
    path.join(__dirname, '..', 'fixtures', 'otlp-interleave-app.js'), String(n));
  assert.equal(r.code, 0, r.stderr);
  const before = receiver.requests.length;
  const e = await tc('export', dir, '-f', 'otlp', '--endpoint', receiver.url);
  assert.equal(e.code, 0, e.stderr);
  assert.match(e.stderr, new RegExp(`${n + n / 10 + 1} spans`));
  const spans = spansIn(receiver.requests.slice(before));
  const owner = (ev: { attributes: Record<string, unknown> }) => Number((ev.attributes['owner'] as { int: string }).int);
  let jobs = 0;
  let inners = 0;
  for (const s of spans) {
    if (s.name === 'job') {
      const i = Number((s.attributes['i'] as { int: string }).int);
      assert.deepEqual(s.events.map(owner), [i, i], `job ${i}`);
      jobs++;
    } else if (s.name === 'inner') {
      const of = Number((s.attributes['of'] as { int: string }).int);
      assert.deepEqual(s.events.map(owner), [-2 - of]);
      inners++;
    } else {
      assert.equal(s.name, 'session');
      assert.deepEqual(s.events.map(owner), [-1]);
    }
  }
  assert.equal(jobs, n);
  assert.equal(inners, n / 10);
});

test('processes and threads with nothing open are forgotten as new ones come, and the spans stay the same', async () => {
  const dir = path.join(work, 'spawn');
  const r = await tc('record', '-q', '-o', dir, '--auto=http,child,worker', '--', process.execPath,
    path.join(__dirname, '..', 'fixtures', 'auto-app.js'), 'spawn');
  assert.equal(r.code, 0, r.stderr);
  const root = new protobuf.Root().loadSync(path.join(__dirname, '..', '..', 'proto', 'otlp.proto'), { keepCase: true });
  const Request = root.lookupType('ringtrace.otlp.ExportTraceServiceRequest');
  const build = (maxIdleKept: number | undefined) => {
    const requests: ReceiverRequest[] = [];
    const trace = openTrace(dir);
    const { cursors, startNs } = openCursors(trace);
    const b = new OtlpBuilder({ startNs, seed: 1, resourceOf: () => [], ...(maxIdleKept ? { maxIdleKept } : {}),
      out: (signal, body) => {
        if (signal === 'traces') {
          requests.push({ signal, decoded: decodeStrict(Request, body, { longs: String, arrays: true }) } as
            unknown as ReceiverRequest);
        }
      } });
    mergeRuns(cursors, (e) => assert.fail(e), (c, from, to) => b.addRun(c, from, to));
    b.finish();
    return { spans: spansIn(requests).map((s) => JSON.stringify(s)).sort(), summary: b.summary };
  };
  const kept = build(undefined);
  const forgetful = build(1); // forgets at every new process or thread
  assert.ok(kept.spans.length >= 6, `spans from the app, its worker and its child: ${kept.spans.length}`);
  assert.deepEqual(forgetful.spans, kept.spans);
  assert.equal(forgetful.summary.endsWithoutBegin, kept.summary.endsWithoutBegin);
  assert.equal(forgetful.summary.unfinished, kept.summary.unfinished);
});

test('classes that only look like the bridge\'s (otel:span, otel:span_event of other fields) are read as ordinary ones', async () => {
  const dir = path.join(work, 'impostors');
  const script = path.join(work, 'impostors.js');
  fs.writeFileSync(script, `const { provider } = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'index.js'))});
    const otel = provider('otel');
    const span = otel.spanType('span', ['x:u32']);
    const event = otel.event('span_event', ['otel_span:u64', 'event_name:u32', 'time_unix_ns:u64']);
    const s = span.start(7);
    event.emit(s.id, 5, 6);
    s.end();`);
  const r = await tc('record', '-q', '-o', dir, '--', process.execPath, script);
  assert.equal(r.code, 0, r.stderr);
  const before = receiver.requests.length;
  const e = await tc('export', dir, '-f', 'otlp', '-q', '--endpoint', receiver.url);
  assert.equal(e.code, 0, e.stderr);
  const spans = spansIn(receiver.requests.slice(before), ['thread.id']);
  assert.deepEqual(spans.map((s) => [s.name, s.attributes, s.events.map((v) => [v.name, v.attributes['event_name']])]),
    [['span', { x: { int: '7' } }, [['otel:span_event', { int: '5' }]]]]);
});
