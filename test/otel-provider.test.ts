// ringtrace's own OpenTelemetry TracerProvider (ringtrace/otel): the same
// OpenTelemetry code run once through the SDK (InMemorySpanExporter) and once
// through RingtraceTracerProvider records the same spans: names, kinds,
// statuses, attributes, events, links and parentage (ids and times differ
// between runs by nature, so they are compared by place: fixtures/otel-compare.ts).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { context, type HrTime, ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Tracer } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { collect, OwnSession, runCommand, unixNsOf } from '../fixtures/trace-helpers';
import { fromOtel, fromRecords } from '../fixtures/otel-spans';
import { comparable } from '../fixtures/otel-compare';
import { freePort } from '../bench/server/harness';
import { currentTracer } from '../src/index';
import { AsyncContextManager, RingtraceTracerProvider } from '../src/otel/index';
import { spanRecords } from '../src/otel/records';

const own = new OwnSession('otel-provider');
let session = own.session;

const boom = new Error('boom'); // one stack for both runs
/** A time an hour ago, and one years away: the tracer keeps the first as a number, the second as given. */
const NEAR: HrTime = [Math.floor(Date.now() / 1000) - 3600, 7];
const FAR: HrTime = [1700000000, 5];

/** Every kind of call an instrumentation makes, on explicit contexts. */
function scenario(tracer: Tracer): void {
  const root = tracer.startSpan('root request', { kind: SpanKind.SERVER, attributes: {
    's': 'text ✓ "quoted"', 'n': 42, 'f': 1.5, 'neg': -7, 'b': true, 'b2': false,
    'as': ['a', 'b'], 'an': [1, 2.5, -3], 'ab': [true, false], 'empty': [], 'holes': ['x', null, 'y'],
    'bad': { nested: 1 } as never, 'mixed': [1, 'a'] as never, 'nothing': undefined,
  } });
  const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
  const child = tracer.startSpan('db.query', { kind: SpanKind.CLIENT }, rootCtx);
  child.setAttribute('db.statement', 'SELECT 1');
  child.setAttribute('', 'no key');
  child.setAttribute('n', 1).setAttribute('n', 2);
  child.setAttributes({ a: 1, b: [1, 2], c: { no: 1 } as never });
  child.addEvent('rows', { count: 3, cached: false });
  child.addEvent('no attributes');
  child.addEvent('timed', [1700000000, 5]);
  const grandchild = tracer.startSpan('parse', {}, trace.setSpan(rootCtx, child));
  grandchild.setStatus({ code: SpanStatusCode.OK });
  grandchild.setStatus({ code: SpanStatusCode.ERROR, message: 'after OK: ignored' });
  grandchild.end();
  child.end();
  child.setAttribute('late', 1); // after the end: ignored
  const failing = tracer.startSpan('fails', { kind: SpanKind.PRODUCER }, rootCtx);
  failing.recordException(boom);
  failing.recordException('a string');
  failing.recordException({ code: 'ECONNRESET', message: 'reset' });
  failing.setStatus({ code: SpanStatusCode.ERROR, message: 'it broke' });
  failing.end();
  tracer.startSpan('consumer', { kind: SpanKind.CONSUMER, links: [{ context: child.spanContext(), attributes: { w: 1 } }] },
    rootCtx).end();
  const many = tracer.startSpan('many attributes', {}, rootCtx); // the limits: 128 per span and per event
  for (let i = 0; i < 130; i++) many.setAttribute(`k${i}`, i);
  many.setAttribute('k5', 'updated at the limit');
  many.setAttribute('__proto__', 'never a member');
  const lots: Record<string, number> = {};
  for (let i = 0; i < 131; i++) lots[`e${i}`] = i;
  many.addEvent('many', lots);
  // Past 128 events the oldest go; typed records and JSON ones (an array value) keep the order they came in.
  for (let i = 0; i < 131; i++) many.addEvent(`tick ${i}`, i % 10 === 0 ? { list: [i, i + 1] } : { i, 'tick.odd': i % 2 === 1 });
  many.end();
  const proto = tracer.startSpan('proto', { attributes: { a: 1, ['__proto__']: 'x' } as never }, rootCtx);
  proto.setAttribute('__proto__', ['not', 'a', 'prototype']);
  proto.end();
  const fixed = tracer.startSpan('explicit times', { startTime: [1700000000, 1] }, rootCtx);
  fixed.end([1700000001, 999999999]);
  const near = tracer.startSpan('explicit times near now', { startTime: NEAR }, rootCtx);
  near.addEvent('near', { i: 1 }, [NEAR[0], 8]);
  near.addEvent('far', FAR);
  near.end([NEAR[0] + 1, 999999999]);
  root.updateName('root request renamed');
  root.end();
}

test('the same spans as the SDK: names, kinds, statuses, attributes, events, links, parentage', () => {
  const exporter = new InMemorySpanExporter();
  scenario(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('scope-a'));
  const sdk = fromOtel(exporter.getFinishedSpans());
  collect(session);
  const provider = new RingtraceTracerProvider();
  scenario(provider.getTracer('scope-a'));
  const ours = fromRecords(collect(session), unixNsOf(session));
  assert.equal(ours.length, 9);
  assert.equal(sdk.length, 9);
  assert.deepEqual(comparable(ours), comparable(sdk));
  assert.equal(provider.failures, 0);
  const fixed = ours.find((s) => s.name === 'explicit times')!;
  assert.deepEqual([fixed.startNs, fixed.endNs], ['1700000000000000001', '1700000001999999999']);
  const near = ours.find((s) => s.name === 'explicit times near now')!;
  assert.deepEqual([near.startNs, near.endNs], [`${NEAR[0]}000000007`, `${NEAR[0] + 1}999999999`]);
  assert.deepEqual((near.events as { time: unknown }[]).map((e) => e.time), [[NEAR[0], 8], FAR]);
  const now = BigInt(Date.now()) * 1_000_000n;
  const rootSpan = ours.find((s) => s.name === 'root request renamed')!;
  assert.ok(BigInt(rootSpan.endNs) <= now + 5_000_000n && BigInt(rootSpan.startNs) > now - 60_000_000_000n,
    'times are Unix nanoseconds of now');
});

test("times not given are the records' own; the Unix epoch given is kept 1 ns after it (0 stands for those)", () => {
  collect(session);
  const tracer = new RingtraceTracerProvider().getTracer('times');
  const before = BigInt(Date.now() - 1) * 1_000_000n;
  const implicit = tracer.startSpan('implicit');
  implicit.addEvent('inside');
  implicit.end();
  tracer.startSpan('epoch', { startTime: new Date(0) }).end([0, 0]);
  const after = BigInt(Date.now() + 1) * 1_000_000n;
  const events = collect(session);
  const end = events.find((e) => e.cls.name === 'span' && e.cls.kind === 'span_end' && e.fields['span_name'] === 'implicit')!;
  assert.deepEqual([end.fields['start_unix_ns'], end.fields['end_unix_ns']], [0n, 0n], 'recorded as 0');
  const spans = fromRecords(events, unixNsOf(session));
  const [epoch, implicitView] = ['epoch', 'implicit'].map((n) => spans.find((s) => s.name === n)!);
  assert.deepEqual([epoch!.startNs, epoch!.endNs], ['1', '1']);
  const times = [implicitView!.startNs, ...(implicitView!.events as { time: [number, number] }[]).map((e) =>
    String(BigInt(e.time[0]) * 1_000_000_000n + BigInt(e.time[1]))), implicitView!.endNs].map(BigInt);
  assert.ok(times[0]! > before && times[2]! < after && times[0]! < times[1]! && times[1]! < times[2]!, times.join(' '));
});

test('instrumentation-http: the same server and client spans as through the SDK', async () => {
  const app = path.join(__dirname, '..', 'fixtures', 'otel-http-app.js');
  const port = String(await freePort()); // the same in both runs: it is in the spans' attributes
  const viaSdk = await runCommand(process.execPath, [app, 'sdk', port], { RINGTRACE_SESSION: `${own.name}-none` });
  assert.equal(viaSdk.code, 0, viaSdk.stderr);
  collect(session);
  const viaProvider = await runCommand(process.execPath, [app, 'provider', port], { RINGTRACE_SESSION: own.name });
  assert.equal(viaProvider.code, 0, viaProvider.stderr);
  const ours = fromRecords(collect(session), unixNsOf(session));
  const sdk = JSON.parse(viaSdk.stdout) as typeof ours;
  assert.ok(sdk.length >= 5, `spans: ${sdk.map((s) => s.name).join(', ')}`);
  const ephemeral = ['net.peer.port', 'net.sock.peer.port', 'client.port', 'network.peer.port'];
  assert.deepEqual(comparable(ours, ephemeral), comparable(sdk, ephemeral));
});

test('parent-based sampling, suppressed tracing and no session: non-recording spans, nothing recorded', () => {
  const tracer = new RingtraceTracerProvider().getTracer('t');
  collect(session);
  const unsampled = trace.setSpanContext(ROOT_CONTEXT, { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16),
    traceFlags: TraceFlags.NONE });
  const child = tracer.startSpan('unsampled child', {}, unsampled);
  assert.equal(child.isRecording(), false);
  assert.equal(child.spanContext().traceId, 'a'.repeat(32));
  assert.equal(child.spanContext().traceFlags, TraceFlags.NONE);
  const grandchild = tracer.startSpan('unsampled grandchild', {}, trace.setSpan(ROOT_CONTEXT, child));
  assert.equal(grandchild.isRecording(), false);
  assert.equal(grandchild.spanContext().traceId, 'a'.repeat(32));
  assert.equal(grandchild.spanContext().traceFlags, TraceFlags.NONE);
  grandchild.end();
  child.end();
  const suppressed = ROOT_CONTEXT.setValue(Symbol.for('OpenTelemetry SDK Context Key SUPPRESS_TRACING'), true);
  const quiet = tracer.startSpan('suppressed', {}, suppressed);
  assert.equal(quiet.isRecording(), false);
  quiet.end();
  // (digits that differ in every place: a word read out of order or a digit lost shows)
  const remoteTrace = '0123456789abcdeffedcba9876543210';
  const remoteSpan = '89abcdef01234567';
  const sampled = tracer.startSpan('sampled remote child', {}, trace.setSpanContext(ROOT_CONTEXT,
    { traceId: remoteTrace, spanId: remoteSpan, traceFlags: TraceFlags.SAMPLED, isRemote: true }));
  assert.equal(sampled.spanContext().traceId, remoteTrace);
  sampled.end();
  const spans = fromRecords(collect(session), unixNsOf(session));
  assert.deepEqual(spans.map((s) => [s.name, s.traceId, s.parentSpanId]), [['sampled remote child', remoteTrace,
    remoteSpan]]);
});

test("a session's filter on the provider's begins compares ids as recorded, not as the provider keeps them", () => {
  const tracer = new RingtraceTracerProvider().getTracer('filtered');
  const wanted = { traceId: '0123456789abcdeffedcba9876543210', spanId: '89abcdef01234567' };
  const other = { traceId: 'fedcba98765432100123456789abcdef', spanId: wanted.spanId };
  const under = (ids: typeof wanted) => trace.setSpanContext(ROOT_CONTEXT, { ...ids, traceFlags: TraceFlags.SAMPLED,
    isRemote: true });
  collect(session);
  const begin = spanRecords().beginFromWords;
  begin.setFilter(`trace_id == "${wanted.traceId}" && parent_id == ${BigInt(`0x${wanted.spanId}`)}`);
  try {
    const kept = tracer.startSpan('kept', {}, under(wanted));
    const otherTrace = tracer.startSpan('other trace', {}, under(other));
    const root = tracer.startSpan('root');
    assert.deepEqual([kept, otherTrace, root].map((s) => s.isRecording()), [true, false, false]);
    for (const s of [kept, otherTrace, root]) s.end();
  } finally {
    begin.setFilter(null);
  }
  assert.deepEqual(fromRecords(collect(session), unixNsOf(session)).map((s) => [s.name, s.traceId, s.parentSpanId]),
    [['kept', wanted.traceId, wanted.spanId]]);
});

test('a span that began before the session attached is not recorded; one after it is', () => {
  const tracer = new RingtraceTracerProvider().getTracer('straddle');
  own.drop();
  currentTracer().poll();
  assert.equal(currentTracer().attached, false);
  assert.equal(currentTracer().sessionIno, -1, 'no session: no inode, so no span of the old session ends in a new one');
  const early = tracer.startSpan('early');
  assert.equal(early.isRecording(), false, 'no session: nothing to record into');
  assert.match(early.spanContext().spanId, /^[0-9a-f]{16}$/, 'ids are made anyway: propagation still works');
  session = own.recreate();
  currentTracer().poll();
  const late = tracer.startSpan('late');
  const lateChild = tracer.startSpan('late child of early', {}, trace.setSpan(ROOT_CONTEXT, early));
  early.end();
  lateChild.end();
  late.end();
  const events = collect(session);
  assert.deepEqual(fromRecords(events, unixNsOf(session)).map((s) => [s.name, s.traceId, s.parentSpanId])
    .sort((a, b) => a[0]!.localeCompare(b[0]!)), [ // (the two ends may be read in either order)
    ['late', late.spanContext().traceId, ''],
    ['late child of early', early.spanContext().traceId, early.spanContext().spanId]]);
  assert.equal(events.filter((e) => e.cls.provider === 'otel' && e.cls.name === 'resource').length, 1);
});

test('startActiveSpan: the three forms, children nest through the context manager, across an await', async () => {
  context.setGlobalContextManager(new AsyncContextManager());
  try {
    const tracer = new RingtraceTracerProvider().getTracer('active');
    collect(session);
    await tracer.startActiveSpan('outer', async (outer) => {
      await new Promise((r) => setTimeout(r, 1));
      tracer.startActiveSpan('with options', { kind: SpanKind.CLIENT }, (s) => s.end());
      tracer.startActiveSpan('with context', {}, ROOT_CONTEXT, (s) => s.end());
      outer.end();
    });
    const spans = fromRecords(collect(session), unixNsOf(session));
    const outer = spans.find((s) => s.name === 'outer')!;
    assert.equal(spans.find((s) => s.name === 'with options')!.parentSpanId, outer.spanId);
    assert.equal(spans.find((s) => s.name === 'with context')!.parentSpanId, '', 'an explicit root context');
  } finally {
    context.disable();
  }
});

test('a span that cannot be recorded is counted and warned about once, never thrown', () => {
  const provider = new RingtraceTracerProvider();
  const tracer = provider.getTracer('bad');
  const attributes = Object.defineProperty({}, 'boom', { enumerable: true, get() { throw new Error('getter'); } });
  assert.doesNotThrow(() => tracer.startSpan('bad', { attributes }).end());
  assert.doesNotThrow(() => tracer.startSpan('bad again', { attributes }).end());
  assert.equal(provider.failures, 2);
  assert.deepEqual(fromRecords(collect(session), unixNsOf(session)).map((s) => s.name), []);
});

// (before the next test, which fills this thread's shape caches: full caches record JSON, which hides a wrong shape)
test('events and ends whose shapes change from one to the next (prefix, more, another type, another key): as the SDK', () => {
  const shapes: Record<string, unknown>[] = [{ a: 1, b: 'x' }, { a: 2, b: 'y' }, { a: 3 }, { a: 4, b: 'z', c: true },
    { a: 5, b: 6 }, { a: 7, c: 'w' }, {}, { b: 'v', a: 8 }, { a: 9, b: 'u' }];
  // (a null value: left out of a span's attributes by both; the SDK keeps it in an event's, ringtrace does not)
  const ends = [...shapes, { a: 10, b: null, c: false }];
  const run = (tracer: Tracer) => {
    const span = tracer.startSpan('changing events', {}, ROOT_CONTEXT);
    shapes.forEach((attributes, i) => {
      span.addEvent('e', attributes as never);
      // ends of other shapes in between: the walks share their lists
      tracer.startSpan('between', { attributes: i % 2 === 1 ? { odd: i } : { even: 'x' } }, ROOT_CONTEXT).end();
    });
    span.end();
    for (const attributes of ends) {
      const s = tracer.startSpan('changing ends', { attributes: attributes as never }, ROOT_CONTEXT);
      if (attributes['a'] === 4) s.setAttribute('late', 'set');
      s.end();
    }
  };
  const exporter = new InMemorySpanExporter();
  run(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('changing'));
  collect(session);
  run(new RingtraceTracerProvider().getTracer('changing'));
  const ours = fromRecords(collect(session), unixNsOf(session));
  assert.equal(ours.length, 1 + shapes.length + ends.length);
  assert.deepEqual(comparable(ours), comparable(fromOtel(exporter.getFinishedSpans())));
});

test('past 256 shapes per thread, events and ends are recorded as JSON: the same spans as the SDK', () => {
  const run = (tracer: Tracer) => {
    const span = tracer.startSpan('many shapes');
    for (let i = 0; i < 300; i++) span.addEvent('e', { [`k${i}`]: i }); // a shape each; the last 128 are kept
    span.end();
    for (let i = 0; i < 300; i++) tracer.startSpan('end shape', { attributes: { [`a${i}`]: i } }, ROOT_CONTEXT).end();
  };
  const exporter = new InMemorySpanExporter();
  run(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('shapes'));
  collect(session);
  run(new RingtraceTracerProvider().getTracer('shapes'));
  const events = collect(session);
  const classes = (name: string) => new Set(events.filter((e) => e.cls.provider === 'otel' && e.cls.name === name)
    .map((e) => e.id)).size;
  assert.ok(classes('span_event') > 100 && classes('span_event_json') === 1, 'typed events up to the limit, then JSON');
  assert.ok(events.some((e) => e.cls.kind === 'span_end' && e.cls.fields.some((f) => f.name === 'args')) &&
    events.some((e) => e.cls.kind === 'span_end' && e.cls.fields.some((f) => f.name === 'a0')), 'ends of both forms');
  assert.deepEqual(comparable(fromRecords(events, unixNsOf(session))), comparable(fromOtel(exporter.getFinishedSpans())));
});
