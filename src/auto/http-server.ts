// Auto mode: a span per request a node:http (or https, Express, ...) server
// handles, from Node's diagnostics channels.
//
// http.server.request.start is published synchronously just before the
// server's 'request' event: the subscriber starts the span and makes it the
// current span (AsyncLocalStorage.enterWith) for the rest of that execution,
// so the app's handler, and everything it starts, runs inside it. The span
// is a root (its parent is the remote caller, recorded from traceparent).
// http.server.response.finish ends it, after a typed response event
// (status, size) whose span_id is the span's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { provider } from '../provider';
import { currentParent, enterSpan, type SpanHandle } from '../spans';
import type { AutoOptions } from './options';
import { subscribe } from './channels';

/** W3C Trace Context: version-traceid-parentid-flags, lower-case hex. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZEROS = /^0+$/;

/** A traceparent header's trace id and parent span id; both empty if absent or malformed. */
export function parseTraceparent(value: unknown): { traceId: string; parentId: string } {
  const none = { traceId: '', parentId: '' };
  if (typeof value !== 'string' || value.length > 512) return none;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return none;
  const [, version, traceId, parentId, , rest] = m as unknown as string[];
  // Version ff is invalid; version 00 has nothing after the flags; all-zero ids are invalid.
  if (version === 'ff' || (version === '00' && rest !== undefined) || ZEROS.test(traceId!) || ZEROS.test(parentId!)) {
    return none;
  }
  return { traceId: traceId!, parentId: parentId! };
}

/** The path of a request target, without its query string unless asked. */
export function requestPath(url: string | undefined, keepQuery: boolean): string {
  if (url === undefined) return '';
  if (keepQuery) return url;
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Response body size: its Content-Length header, or the length Node computed for end(body); -1 if unknown. */
export function responseSize(res: ServerResponse): number {
  const h = res.getHeader('content-length');
  if (h !== undefined) {
    const n = Number(h);
    if (Number.isInteger(n) && n >= 0) return n;
  }
  const computed = (res as unknown as { _contentLength?: unknown })._contentLength;
  return typeof computed === 'number' && computed >= 0 ? computed : -1;
}

/**
 * A request header's value from rawHeaders (name, value, name, value...):
 * reading `req.headers` would make Node build the whole headers object,
 * which costs an app that never reads it a few µs per request. Repeated
 * headers are joined with ', ', as `req.headers` does for most names.
 */
export function rawHeader(raw: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length !== name.length || n.toLowerCase() !== name) continue;
    value = value === undefined ? raw[i + 1]! : `${value}, ${raw[i + 1]!}`;
  }
  return value;
}

function capturedHeaders(req: IncomingMessage, names: string[]): string {
  if (names.length === 0) return '';
  let out = '';
  for (const name of names) {
    const v = rawHeader(req.rawHeaders, name);
    if (v !== undefined) out += `${out ? '\n' : ''}${name}: ${v}`;
  }
  return out;
}

interface ServerMessage { request: IncomingMessage; response: ServerResponse }

export function traceHttpServer(options: AutoOptions, failed: (e: unknown) => void): void {
  const http = provider('node.http');
  const serverSpan = http.spanType('server',
    ['method:string', 'path:string', 'trace_id:string', 'parent_span_id:string', 'headers:string']);
  const serverResponse = http.event('server_response', ['span_id:u64', 'status:u16', 'size:i64']);
  const open = new WeakMap<ServerResponse, SpanHandle>();

  // Without the context (RINGTRACE_AUTO_CONTEXT=0) nothing enters the async context: no nesting, and
  // Node's async hooks stay off unless the app's own spans turn them on (docs/auto.md, cost).
  const context = options.context;
  subscribe<ServerMessage>('http.server.request.start', ({ request, response }) => {
    if (!serverSpan.enabled) {
      if (context && currentParent() !== 0) enterSpan(0); // no stale span of an earlier request on this connection
      return;
    }
    const tp = parseTraceparent(rawHeader(request.rawHeaders, 'traceparent')); // repeated: malformed
    if (context) enterSpan(0); // a server request is a root here (its caller is in traceparent)
    const span = serverSpan.start(request.method ?? '', requestPath(request.url, options.keepQuery), tp.traceId,
      tp.parentId, capturedHeaders(request, options.headers));
    if (span.id === 0) return;
    open.set(response, span);
    if (context) enterSpan(span.id); // the handler runs in the span
  }, failed);

  subscribe<ServerMessage>('http.server.response.finish', ({ response }) => {
    const span = open.get(response);
    if (!span) return;
    open.delete(response);
    serverResponse.emit(span.id, response.statusCode, responseSize(response));
    span.end();
  }, failed);
}
