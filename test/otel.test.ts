// The OpenTelemetry bridge (ringtrace/otel): spans made with the SDK are
// recorded into a session and read back equal to what OpenTelemetry's own
// InMemorySpanExporter received in the same run; the same for
// @opentelemetry/instrumentation-http on a node:http server and client in a
// child process (instrumentations must be registered before http is loaded).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { collect, OwnSession, runCommand } from '../fixtures/trace-helpers';
import { fromOtel, fromRecords, type SpanView } from '../fixtures/otel-spans';
import { currentTracer } from '../src/index';
import { RingtraceSpanProcessor } from '../src/otel/index';
import { spanRecords } from '../src/otel/records';

const own = new OwnSession('otel');
let session = own.session;

test('SDK spans: the same spans, names, kinds, statuses, attributes, events and parentage as OpenTelemetry got', () => {
  const exporter = new InMemorySpanExporter();
  const processor = new RingtraceSpanProcessor();
  const tp = new BasicTracerProvider({ spanProcessors: [processor, new SimpleSpanProcessor(exporter)] });
  const tracer = tp.getTracer('otel-test', '1.0.0');
  collect(session);

  const root = tracer.startSpan('root request', { kind: SpanKind.SERVER, attributes: {
    's': 'text ✓ "quoted"', 'n': 42, 'f': 1.5, 'neg': -7, 'b': true, 'b2': false,
    'as': ['a', 'b'], 'an': [1, 2.5, -3], 'ab': [true, false], 'empty': [],
  } });
  const rootCtx = trace.setSpan(context.active(), root);
  const child = tracer.startSpan('db.query', { kind: SpanKind.CLIENT }, rootCtx);
  child.setAttribute('db.statement', 'SELECT 1');
  child.addEvent('rows', { count: 3, cached: false });
  child.addEvent('no attributes');
  const grandchild = tracer.startSpan('parse', {}, trace.setSpan(rootCtx, child));
  grandchild.setStatus({ code: SpanStatusCode.OK });
  grandchild.end();
  child.end();
  const failing = tracer.startSpan('fails', { kind: SpanKind.PRODUCER }, rootCtx);
  failing.recordException(new Error('boom'));
  failing.setStatus({ code: SpanStatusCode.ERROR, message: 'it broke' });
  failing.end();
  tracer.startSpan('consumer', { kind: SpanKind.CONSUMER, links: [{ context: child.spanContext() }] }, rootCtx).end();
  root.updateName('root request renamed');
  root.end();

  const otel = fromOtel(exporter.getFinishedSpans());
  const events = collect(session);
  const ours = fromRecords(events);
  assert.equal(otel.length, 5);
  assert.deepEqual(ours, otel);
  assert.equal(processor.failures, 0);
  const resource = events.filter((e) => e.cls.provider === 'otel' && e.cls.name === 'resource');
  assert.equal(resource.length, 1, 'the resource once per process');
  assert.deepEqual(JSON.parse(resource[0]!.fields['attributes'] as string),
    JSON.parse(JSON.stringify(exporter.getFinishedSpans()[0]!.resource.attributes)));
  // Ringtrace's own timestamps bracket the span's (begin at onStart, end at onEnd).
  const ids = new Map(otel.map((s) => [s.spanId, s]));
  assert.equal(ids.get(otel.find((s) => s.name === 'parse')!.parentSpanId)!.name, 'db.query');
});

test('a failing span is counted, never thrown into the app', () => {
  const processor = new RingtraceSpanProcessor();
  const tp = new BasicTracerProvider({ spanProcessors: [processor] });
  const span = tp.getTracer('t').startSpan('bad');
  Object.defineProperty(span, 'status', { get() { throw new Error('no status'); } });
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarning);
  assert.doesNotThrow(() => span.end());
  assert.equal(processor.failures, 1);
  collect(session);
  return new Promise<void>((resolve) => setImmediate(() => {
    process.off('warning', onWarning);
    assert.equal(warnings.filter((w) => w.includes('could not be recorded')).length, 1);
    resolve();
  }));
});

const httpApp = path.join(__dirname, '..', 'fixtures', 'otel-http-app.js');

test('instrumentation-http in a child process: the server and client spans OpenTelemetry got', async () => {
  collect(session);
  const r = await runCommand(process.execPath, [httpApp], { RINGTRACE_SESSION: own.name });
  assert.equal(r.code, 0, r.stderr);
  const otel = JSON.parse(r.stdout) as SpanView[];
  const ours = fromRecords(collect(session));
  assert.ok(otel.length >= 4, `spans: ${otel.map((s) => s.name).join(', ')}`);
  assert.ok(otel.some((s) => s.kind === SpanKind.SERVER) && otel.some((s) => s.kind === SpanKind.CLIENT));
  assert.deepEqual(ours, otel);
});

test('ids and times are written exactly from hex strings and [seconds, nanoseconds]', () => {
  collect(session);
  const { begin, end } = spanRecords();
  const cases: [string, [number, number]][] = [
    ['ffffffffffffffff', [4294967295, 999999999]], ['0000000000000001', [0, 0]],
    ['8000000000000000', [1733354516, 123456789]], ['00000000ffffffff', [65535, 1]], ['AbCdEf0123456789', [65536, 5]],
  ];
  for (const [id, t] of cases) {
    begin.emit(id, id, 'n', '0'.repeat(32), 0, 's');
    end.emit(id, 'n', 0, '', t, t, '{}', '', '');
  }
  begin.emit('short', '', 'n', '', 0, ''); // malformed ids are recorded as 0, never thrown
  // A trace id is copied as ASCII: a NUL or other character is a '?' (the fields after it stay whole), 1024 at most.
  begin.emit('0000000000000002', '', 'n', 'ab\0cé', 3, 'after');
  begin.emit('0000000000000003', '', 'n', 'f'.repeat(2000), 4, 'after long');
  const got = collect(session).filter((e) => e.cls.provider === 'otel');
  const odd = got.filter((e) => e.cls.kind === 'span_begin').slice(-2).map((e) => [e.fields['trace_id'], e.fields['kind'],
    e.fields['scope']]);
  assert.deepEqual(odd, [['ab?c?', 3, 'after'], ['f'.repeat(1024), 4, 'after long']]);
  const ends = got.filter((e) => e.cls.kind === 'span_end').map((e) => [e.fields['span_id'], e.fields['end_unix_ns']]);
  assert.deepEqual(ends.map(([id, ns]) => [BigInt(id as bigint), BigInt(ns as bigint)]),
    cases.map(([id, t]) => [BigInt('0x' + id), BigInt(t[0]) * 1000000000n + BigInt(t[1])]));
  const last = got[got.length - 3]!.fields;
  assert.deepEqual([BigInt(last['span_id'] as bigint), BigInt(last['parent_id'] as bigint)], [0n, 0n]);
});

test('package exports: ringtrace loads no OpenTelemetry; ringtrace/otel and deep paths resolve', () => {
  const root = path.join(__dirname, '..', '..');
  const script = `const before = Object.keys(require.cache).length;
    const main = require('ringtrace');
    const otelLoaded = Object.keys(require.cache).some((k) => k.includes('@opentelemetry'));
    const otel = require('ringtrace/otel');
    console.log(JSON.stringify({ main: typeof main.provider, otelLoaded, otel: typeof otel.registerRingtrace,
      deep: typeof require('ringtrace/dist/src/native').loadNative, deepJs: require.resolve('ringtrace/dist/src/native.js') }));`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { main: 'function', otelLoaded: false, otel: 'function', deep: 'function',
    deepJs: path.join(root, 'dist', 'src', 'native.js') });
});

test('the resource is recorded again into a new session, once', () => {
  const tp = new BasicTracerProvider({ spanProcessors: [new RingtraceSpanProcessor()] });
  const tracer = tp.getTracer('again');
  const resources = () => collect(session).filter((e) => e.cls.provider === 'otel' && e.cls.name === 'resource').length;
  tracer.startSpan('a').end();
  tracer.startSpan('b').end();
  assert.equal(resources(), 1);
  own.drop();
  session = own.recreate();
  currentTracer().poll();
  assert.equal(currentTracer().attached, true);
  tracer.startSpan('c').end();
  tracer.startSpan('d').end();
  assert.equal(resources(), 1);
});

test('a span that began before the session attached ends without an end record', () => {
  const tp = new BasicTracerProvider({ spanProcessors: [new RingtraceSpanProcessor()] });
  const tracer = tp.getTracer('straddle');
  own.drop();
  currentTracer().poll();
  assert.equal(currentTracer().attached, false);
  const early = tracer.startSpan('early');
  session = own.recreate();
  currentTracer().poll();
  assert.equal(currentTracer().attached, true);
  const late = tracer.startSpan('late');
  early.end();
  late.end();
  const spans = fromRecords(collect(session)); // throws on an end without its begin
  assert.deepEqual(spans.map((s) => s.name), ['late']);
});

test('attributes and events longer than the default string limit (1024 bytes) round-trip', () => {
  const exporter = new InMemorySpanExporter();
  const tp = new BasicTracerProvider({ spanProcessors: [new RingtraceSpanProcessor(), new SimpleSpanProcessor(exporter)] });
  collect(session);
  const span = tp.getTracer('long').startSpan('long', { attributes: { big: 'é'.repeat(2000), list: Array(300).fill(7) } });
  span.recordException(new Error('x'.repeat(3000)));
  span.end();
  assert.deepEqual(fromRecords(collect(session)), fromOtel(exporter.getFinishedSpans()));
});
