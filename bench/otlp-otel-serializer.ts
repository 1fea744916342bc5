// The reference point for bench/otlp.ts: OpenTelemetry JS's own OTLP
// protobuf serializer (the one its OTLP/HTTP exporter uses) on spans like
// the benchmark's (3 attributes, one event with 2), made by the SDK and
// serialized in batches of 4096. Serialization only: no reading, no sending.
// Prints: bench opentelemetry otlp_serialize spans_per_s=…
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { median } from './median';

const n = Number(process.argv[2] ?? 200_000);
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('bench');
const paths = ['/items', '/items/42', '/cart', '/checkout', '/login'];
for (let i = 0; i < n; i++) {
  const s = tracer.startSpan('request', { attributes: { method: 'GET', path: paths[i % paths.length]!, status: 200 } });
  s.addEvent('bench:query', { table: 'items', rows: i & 1023 });
  s.end();
}
const spans = exporter.getFinishedSpans();
const rates: number[] = [];
for (let round = 0; round < 5; round++) {
  const t = process.hrtime.bigint();
  let bytes = 0;
  for (let i = 0; i < spans.length; i += 4096) {
    bytes += ProtobufTraceSerializer.serializeRequest(spans.slice(i, i + 4096))!.length;
  }
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  rates.push(spans.length / s);
  if (round === 0) console.log(`# ${spans.length} spans, ${(bytes / 1e6).toFixed(1)} MB serialized`);
}
console.log(`bench opentelemetry otlp_serialize spans_per_s=${median(rates).toFixed(0)}`);
