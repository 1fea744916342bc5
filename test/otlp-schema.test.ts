// proto/otlp.proto (the OTLP messages ringtrace sends, written from
// opentelemetry-proto's field numbers) proven against OpenTelemetry's own
// OTLP/HTTP protobuf exporter: spans it sends to a receiver here decode with
// our schema to what the SDK recorded — ids, parentage, kind, times, status,
// attributes of every type, events, links, resource and scope.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { context, SpanKind, SpanStatusCode, trace, ValueType, type Attributes } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor, InMemorySpanExporter,
  type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { decodeStrict } from '../fixtures/proto-strict';

const schema = new protobuf.Root().loadSync(path.join(__dirname, '..', '..', 'proto', 'otlp.proto'), { keepCase: true });
const Request = schema.lookupType('ringtrace.otlp.ExportTraceServiceRequest');

interface AnyValue { string_value?: string; bool_value?: boolean; int_value?: unknown; double_value?: number;
  array_value?: { values?: AnyValue[] }; bytes_value?: Uint8Array }
interface KeyValue { key: string; value: AnyValue }
interface DecodedSpan {
  trace_id: Uint8Array; span_id: Uint8Array; parent_span_id?: Uint8Array; name: string; kind?: number;
  start_time_unix_nano: unknown; end_time_unix_nano: unknown; attributes?: KeyValue[];
  events?: { time_unix_nano: unknown; name: string; attributes?: KeyValue[] }[];
  links?: { trace_id: Uint8Array; span_id: Uint8Array; attributes?: KeyValue[] }[];
  status?: { code?: number; message?: string };
}

/** An AnyValue as the plain JS value it carries. */
function plain(v: AnyValue): unknown {
  if (v.string_value !== undefined) return v.string_value;
  if (v.bool_value !== undefined) return v.bool_value;
  if (v.int_value !== undefined) return Number(String(v.int_value));
  if (v.double_value !== undefined) return v.double_value;
  if (v.array_value !== undefined) return (v.array_value.values ?? []).map(plain);
  throw new Error(`unexpected AnyValue ${JSON.stringify(v)}`);
}
const attrs = (kvs: KeyValue[] | undefined) => Object.fromEntries((kvs ?? []).map((kv) => [kv.key, plain(kv.value)]));
const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('hex');
const ns = (t: [number, number]) => BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
const fixed64 = (v: unknown) => BigInt(String(v)); // protobufjs gives a Long (or a number)

const EVERY_TYPE: Attributes = {
  s: 'text é', i: 42, neg: -7, big: 2 ** 40, d: 2.5, b: true, f: false,
  ss: ['a', 'b'], is: [1, -2, 3], ds: [0.5, 1.5], bs: [true, false],
};

test('OpenTelemetry\'s OTLP/HTTP protobuf exporter\'s requests decode with proto/otlp.proto', async () => {
  const bodies: Buffer[] = [];
  const receiver = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      assert.equal(req.url, '/v1/traces');
      assert.equal(req.headers['content-type'], 'application/x-protobuf');
      bodies.push(Buffer.concat(parts));
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const port = (receiver.address() as { port: number }).port;
  try {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'schema-test', 'host.name': 'h1' }),
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `http://127.0.0.1:${port}/v1/traces` })),
        new SimpleSpanProcessor(memory)],
    });
    const tracer = provider.getTracer('schema-scope', '1.2.3');
    const root = tracer.startSpan('root', { kind: SpanKind.SERVER, attributes: EVERY_TYPE });
    root.addEvent('an event', { n: 1, what: 'x', ok: true });
    const ctx = trace.setSpan(context.active(), root);
    const child = tracer.startSpan('child', { kind: SpanKind.CLIENT, links: [{ context: root.spanContext(),
      attributes: { why: 'link' } }] }, ctx);
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'it failed' });
    child.end();
    root.setStatus({ code: SpanStatusCode.OK });
    root.end();
    await provider.forceFlush();
    await provider.shutdown();

    const decoded = bodies.flatMap((b) => {
      const req = decodeStrict<{ // (OpenTelemetry's own bytes pass the tests' strict walk too)
        resource_spans: { resource: { attributes: KeyValue[] };
          scope_spans: { scope: { name: string; version: string }; spans: DecodedSpan[] }[] }[] }>(
        Request, b, { defaults: false });
      return req.resource_spans.flatMap((rs) => rs.scope_spans.flatMap((ss) =>
        ss.spans.map((s) => ({ s, scope: ss.scope, resource: attrs(rs.resource.attributes) }))));
    });
    const recorded = memory.getFinishedSpans();
    assert.equal(decoded.length, 2);
    for (const r of recorded as ReadableSpan[]) {
      const got = decoded.find((d) => d.s.name === r.name)!;
      assert.ok(got, r.name);
      const s = got.s;
      assert.equal(hex(s.trace_id), r.spanContext().traceId);
      assert.equal(hex(s.span_id), r.spanContext().spanId);
      assert.equal(hex(s.parent_span_id), r.parentSpanContext?.spanId ?? '');
      assert.equal(s.kind, r.kind + 1, 'SpanKind is shifted by one in OTLP (0: unspecified)');
      assert.equal(fixed64(s.start_time_unix_nano), ns(r.startTime));
      assert.equal(fixed64(s.end_time_unix_nano), ns(r.endTime));
      assert.deepEqual(attrs(s.attributes), r.attributes);
      assert.deepEqual((s.events ?? []).map((e) => [e.name, fixed64(e.time_unix_nano), attrs(e.attributes)]),
        r.events.map((e) => [e.name, ns(e.time), e.attributes ?? {}]));
      assert.deepEqual((s.links ?? []).map((l) => [hex(l.trace_id), hex(l.span_id), attrs(l.attributes)]),
        r.links.map((l) => [l.context.traceId, l.context.spanId, l.attributes ?? {}]));
      assert.equal(s.status?.code ?? 0, r.status.code);
      assert.equal(s.status?.message ?? '', r.status.message ?? '');
      assert.deepEqual([got.scope.name, got.scope.version], ['schema-scope', '1.2.3']);
      assert.equal(got.resource['service.name'], 'schema-test');
      assert.equal(got.resource['host.name'], 'h1');
    }
    assert.deepEqual(attrs(decoded.find((d) => d.s.name === 'root')!.s.attributes), EVERY_TYPE);
  } finally {
    receiver.close();
  }
});

const LogsRequest = schema.lookupType('ringtrace.otlp.ExportLogsServiceRequest');
const MetricsRequest = schema.lookupType('ringtrace.otlp.ExportMetricsServiceRequest');

test('OpenTelemetry\'s protobuf serializers\' logs and metrics requests decode with proto/otlp.proto', async () => {
  const { LoggerProvider, SimpleLogRecordProcessor, InMemoryLogRecordExporter } = await import('@opentelemetry/sdk-logs');
  const { MeterProvider, MetricReader } = await import('@opentelemetry/sdk-metrics');
  const { ProtobufLogsSerializer, ProtobufMetricsSerializer } = await import('@opentelemetry/otlp-transformer');
  const resource = resourceFromAttributes({ 'service.name': 'schema-test' });

  // Logs: a record with a severity, a body, attributes and the span it happened in.
  const logs = new InMemoryLogRecordExporter();
  const loggers = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: logs })] });
  const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
  loggers.getLogger('log-scope').emit({ severityNumber: 13, severityText: 'WARN', body: 'disk almost full',
    attributes: { free_mb: 12, path: '/var' }, timestamp: [1_700_000_000, 123], eventName: 'disk.low',
    context: trace.setSpanContext(context.active(), spanContext) });
  const [record] = logs.getFinishedLogRecords();
  const logsReq = decodeStrict<{ resource_logs: { resource: { attributes: KeyValue[] }; scope_logs: { scope: { name: string };
      log_records: { time_unix_nano: unknown; severity_number: number; severity_text: string; body: AnyValue;
        attributes: KeyValue[]; trace_id: Uint8Array; span_id: Uint8Array; event_name: string; flags: number }[] }[] }[] }>(
    LogsRequest, ProtobufLogsSerializer.serializeRequest([record!])!, { defaults: false });
  const rl = logsReq.resource_logs[0]!;
  assert.equal(attrs(rl.resource.attributes)['service.name'], 'schema-test');
  assert.equal(rl.scope_logs[0]!.scope.name, 'log-scope');
  const lr = rl.scope_logs[0]!.log_records[0]!;
  assert.deepEqual([fixed64(lr.time_unix_nano), lr.severity_number, lr.severity_text, plain(lr.body), attrs(lr.attributes),
    hex(lr.trace_id), hex(lr.span_id), lr.event_name, lr.flags],
  [1_700_000_000_000_000_123n, 13, 'WARN', 'disk almost full', { free_mb: 12, path: '/var' }, spanContext.traceId,
    spanContext.spanId, 'disk.low', 1]);

  // Metrics: a gauge (doubles) and a monotonic sum (integers), collected once.
  class Reader extends MetricReader {
    protected async onForceFlush(): Promise<void> {}
    protected async onShutdown(): Promise<void> {}
  }
  const reader = new Reader();
  const meters = new MeterProvider({ resource, readers: [reader] });
  const meter = meters.getMeter('metric-scope');
  meter.createObservableGauge('loop.delay', { unit: 'ms' }).addCallback((r) => r.observe(4.5, { pid: 7 }));
  meter.createCounter('requests', { valueType: ValueType.INT }).add(3, { route: '/a' });
  const { resourceMetrics } = await reader.collect();
  const metricsReq = decodeStrict<{ resource_metrics: { scope_metrics: { scope: { name: string }; metrics: {
      name: string; unit?: string; gauge?: { data_points: { as_double?: number; attributes: KeyValue[]; time_unix_nano: unknown }[] };
      sum?: { data_points: { as_int?: unknown; attributes: KeyValue[] }[]; aggregation_temporality: number;
        is_monotonic: boolean } }[] }[] }[] }>(MetricsRequest, ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!,
    { defaults: false });
  const sm = metricsReq.resource_metrics[0]!.scope_metrics[0]!;
  assert.equal(sm.scope.name, 'metric-scope');
  const gauge = sm.metrics.find((m) => m.name === 'loop.delay')!;
  assert.equal(gauge.unit, 'ms');
  assert.deepEqual([gauge.gauge!.data_points[0]!.as_double, attrs(gauge.gauge!.data_points[0]!.attributes)], [4.5, { pid: 7 }]);
  assert.ok(fixed64(gauge.gauge!.data_points[0]!.time_unix_nano) > 0n);
  const sum = sm.metrics.find((m) => m.name === 'requests')!.sum!;
  assert.deepEqual([Number(String(sum.data_points[0]!.as_int)), attrs(sum.data_points[0]!.attributes),
    sum.aggregation_temporality, sum.is_monotonic], [3, { route: '/a' }, 2, true]);
  await loggers.shutdown();
  await meters.shutdown();
});
