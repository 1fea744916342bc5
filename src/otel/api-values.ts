// The OpenTelemetry API's objects and constants, read once when the bridge
// loads. The package's exports are getters (TypeScript's re-exports): read
// per span, each is a call into a function V8 long leaves unoptimized, and
// a span read five of them (context, trace, TraceFlags, SpanKind,
// SpanStatusCode). Values only: the API's global registrations (context
// manager, tracer provider) stay behind these singletons.
import * as api from '@opentelemetry/api';

export const contextApi = api.context;
export const traceApi = api.trace;
export const isSpanContextValid = api.isSpanContextValid;
export const INVALID_SPAN_CONTEXT = api.INVALID_SPAN_CONTEXT;
export const ROOT_CONTEXT = api.ROOT_CONTEXT;
export const TRACE_SAMPLED = api.TraceFlags.SAMPLED;
export const TRACE_NOT_SAMPLED = api.TraceFlags.NONE;
export const KIND_INTERNAL = api.SpanKind.INTERNAL;
export const STATUS_UNSET = api.SpanStatusCode.UNSET;
export const STATUS_OK = api.SpanStatusCode.OK;
export const STATUS_ERROR = api.SpanStatusCode.ERROR;
