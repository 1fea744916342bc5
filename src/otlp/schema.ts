// OTLP as the encoder writes it: proto/otlp.proto (upstream field numbers,
// only the messages ringtrace sends) loaded with protobufjs, and every tag the
// hand-written encoder stores read from that schema, never typed in. The
// schema itself is proven against OpenTelemetry's own exporter by the tests.
import * as path from 'node:path';
import type * as protobuf from 'protobufjs';
import { WIRE_FIXED64, WIRE_LEN, WIRE_VARINT } from '../export/protowire';
import { ShippedProto, WIRE_FIXED32 } from '../export/proto-tags';

export const OTLP_PROTO = path.join(__dirname, '..', '..', '..', 'proto', 'otlp.proto');
const proto = new ShippedProto(OTLP_PROTO, 'ringtrace.otlp');

export function otlpSchema(): protobuf.Root {
  return proto.schema();
}

const tags = <K extends string>(type: string, fields: Record<K, number>) => proto.tags(type, fields);

const L = WIRE_LEN;
const V = WIRE_VARINT;
const F64 = WIRE_FIXED64;
const F32 = WIRE_FIXED32;

/** Every tag the encoder writes. */
export function otlpTags() {
  return {
    traceRequest: tags('ExportTraceServiceRequest', { resource_spans: L }),
    logsRequest: tags('ExportLogsServiceRequest', { resource_logs: L }),
    metricsRequest: tags('ExportMetricsServiceRequest', { resource_metrics: L }),
    resourceSpans: tags('ResourceSpans', { resource: L, scope_spans: L }),
    scopeSpans: tags('ScopeSpans', { scope: L, spans: L }),
    resourceLogs: tags('ResourceLogs', { resource: L, scope_logs: L }),
    scopeLogs: tags('ScopeLogs', { scope: L, log_records: L }),
    resourceMetrics: tags('ResourceMetrics', { resource: L, scope_metrics: L }),
    scopeMetrics: tags('ScopeMetrics', { scope: L, metrics: L }),
    resource: tags('Resource', { attributes: L }),
    scope: tags('InstrumentationScope', { name: L, version: L }),
    kv: tags('KeyValue', { key: L, value: L }),
    any: tags('AnyValue', { string_value: L, bool_value: V, int_value: V, double_value: F64, array_value: L,
      kvlist_value: L, bytes_value: L }),
    array: tags('ArrayValue', { values: L }),
    kvlist: tags('KeyValueList', { values: L }),
    span: tags('Span', { trace_id: L, span_id: L, parent_span_id: L, name: L, kind: V, start_time_unix_nano: F64,
      end_time_unix_nano: F64, attributes: L, events: L, links: L, status: L, dropped_attributes_count: V, dropped_events_count: V,
      flags: F32 }),
    event: tags('Span.Event', { time_unix_nano: F64, name: L, attributes: L, dropped_attributes_count: V }),
    link: tags('Span.Link', { trace_id: L, span_id: L, trace_state: L, attributes: L, flags: F32 }),
    status: tags('Status', { message: L, code: V }),
    log: tags('LogRecord', { time_unix_nano: F64, observed_time_unix_nano: F64, severity_number: V, body: L,
      attributes: L, trace_id: L, span_id: L, event_name: L }),
    metric: tags('Metric', { name: L, gauge: L }),
    gauge: tags('Gauge', { data_points: L }),
    point: tags('NumberDataPoint', { attributes: L, time_unix_nano: F64, as_double: F64 }),
  };
}
export type OtlpTags = ReturnType<typeof otlpTags>;

// Enum values (opentelemetry-proto): OpenTelemetry's API numbers kinds from 0 (INTERNAL), OTLP from 1.
export const KIND_INTERNAL = 1;
export const KIND_SERVER = 2;
export const KIND_CLIENT = 3;
export const STATUS_UNSET = 0;
// Span and link flags: the W3C trace flags (sampled: every recorded span is) in bits 0-7; bit 8 says
// bit 9 is known, bit 9 that the parent (link) is in another process.
export const FLAGS_SAMPLED = 0x01;
export const FLAGS_LOCAL = 0x101;
export const FLAGS_REMOTE = 0x301;
export const STATUS_ERROR = 2;
