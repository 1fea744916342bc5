// A span between its begin and end records, as the OTLP builder keeps it,
// and its attributes: flat key/value lists, written as OTLP KeyValues.
import type { SpanId } from '../export/model';
import type { ProtoWriter } from '../export/protowire';
import { writeKeyValue } from './anyvalue';
import { FLAGS_LOCAL, type OtlpTags } from './schema';
import type { TraceId } from './ids';

/** What a child takes from its parent. */
export interface SpanIds {
  traceId: TraceId;
  idHi: number;
  idLo: number;
}

/** A span from its begin record to its end; made by newSpan (one shape for all: V8 keeps its accesses fast). */
export interface OpenSpan extends SpanIds {
  pid: number;
  tid: number;
  raw: SpanId; // its ringtrace span id (OpenTelemetry's own for its spans), and as two words
  rawHi: number;
  rawLo: number;
  stack: OpenSpan[]; // its thread's open spans
  otel: boolean; // recorded through ringtrace/otel: its span id is OpenTelemetry's
  parentHi: number; // its parent's (both 0: a root)
  parentLo: number;
  flags: number; // FLAGS_LOCAL, or FLAGS_REMOTE when its parent is another process's
  name: string;
  scope: string;
  kind: number;
  startNs: number; // since the trace's time 0
  startUnix: bigint | undefined; // OpenTelemetry's own times, when it recorded them
  endUnix: bigint | undefined;
  attrs: unknown[]; // key, value, key, value...
  events: { ns: number; name: string; attrs: unknown[] }[] | null;
  otelEvents: string; // JSON, as ringtrace/otel records them
  otelLinks: string;
  status: number;
  statusMessage: string;
}

const NO_STACK: OpenSpan[] = [];
export const NO_TRACE: TraceId = { w0: 0, w1: 0, w2: 0, w3: 0 };

export function newSpan(pid: number, tid: number, raw: SpanId, rawHi: number, rawLo: number, name: string,
  scope: string, kind: number, startNs: number): OpenSpan {
  return { pid, tid, raw, rawHi, rawLo, stack: NO_STACK, otel: false, traceId: NO_TRACE, idHi: 0, idLo: 0, parentHi: 0, parentLo: 0, flags: FLAGS_LOCAL, name,
    scope, kind, startNs, startUnix: undefined, endUnix: undefined, attrs: [], events: null, otelEvents: '',
    otelLinks: '', status: 0, statusMessage: '' };
}

/** A JSON object's members as attributes (kept whole as `args` when it is not an object). */
export function addJsonMembers(attrs: unknown[], json: string): void {
  if (!json) return;
  let obj: unknown;
  try {
    obj = JSON.parse(json);
  } catch {
    obj = undefined;
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    attrs.push('args', json);
    return;
  }
  const o = obj as Record<string, unknown>;
  for (const k in o) attrs.push(k, o[k]);
}

export function writeAttributes(w: ProtoWriter, T: OtlpTags, tag: number, attrs: unknown[]): void {
  for (let i = 0; i < attrs.length; i += 2) writeKeyValue(w, T, tag, attrs[i] as string, attrs[i + 1]);
}
