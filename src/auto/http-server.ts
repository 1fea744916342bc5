// Auto mode: a span per request a node:http (or https, Express, ...) server
// handles, from Node's diagnostics channels.
//
// http.server.request.start is published synchronously just before the
// server's 'request' event: the subscriber starts the span and, once the
// thread needs an async context, makes it the current span
// (AsyncLocalStorage.enterWith) for the rest of that execution, so the app's
// handler, and everything it starts, runs inside it. The span is a root (its
// parent is the remote caller, recorded from traceparent).
// http.server.response.finish ends it; the end record carries the
// response's status and size.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { executionAsyncId } from 'node:async_hooks';
import { enterSpan, nextSpanSeq, onFirstParentRead } from '../spans';
import { numberedSpans, setSpanOf, spanId, spanOf } from './numbered-spans';
import { madeOnce } from './classes';
import type { AutoOptions } from './options';
import { subscribe } from './channels';

/** W3C Trace Context: version-traceid-parentid-flags, lower-case hex. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZEROS = /^0+$/;

interface TraceParent { readonly traceId: string; readonly parentId: string }
/** One object for every request without a (valid) traceparent: most of them. */
const NO_PARENT: TraceParent = Object.freeze({ traceId: '', parentId: '' });

/** A traceparent header's trace id and parent span id; both empty if absent or malformed. */
export function parseTraceparent(value: unknown): TraceParent {
  if (typeof value !== 'string' || value.length > 512) return NO_PARENT;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return NO_PARENT;
  const [, version, traceId, parentId, , rest] = m as unknown as string[];
  // Version ff is invalid; version 00 has nothing after the flags; all-zero ids are invalid.
  if (version === 'ff' || (version === '00' && rest !== undefined) || ZEROS.test(traceId!) || ZEROS.test(parentId!)) {
    return NO_PARENT;
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

/**
 * A status code as the u16 an end record takes (0 if it is not one): a value
 * the field cannot hold would drop the whole end record, and the span with it.
 */
export function statusField(code: unknown): number {
  return typeof code === 'number' && (code & 0xffff) === code ? code : 0;
}

/** Response body size: the length Node computed for end(body), else its Content-Length header; -1 if unknown. */
export function responseSize(res: ServerResponse): number {
  // Node's own count for end(body) first: getHeader lower-cases its argument on every call.
  const computed = (res as unknown as { _contentLength?: unknown })._contentLength;
  // (only what the end record's i64 holds: a value it cannot take would drop the span's end)
  if (Number.isSafeInteger(computed) && (computed as number) >= 0) return computed as number;
  const h = res.getHeader('content-length');
  if (h !== undefined) {
    const n = Number(h);
    if (Number.isSafeInteger(n) && n >= 0) return n;
  }
  return -1;
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

/**
 * Trace the server requests of this thread; returns its stop. The request
 * span is entered as the handler's async context per options.context: with
 * 'on-read', only once something reads the current span (onFirstParentRead).
 * That first read may come from the handler of the request just started, in
 * its synchronous part (the app's first span, its first outgoing call): the
 * hook then makes that request's span current before the read returns, so
 * even the first nests. Requests already past their synchronous part at that
 * moment keep no context (docs/auto.md).
 */
export function traceHttpServer(options: AutoOptions, failed: (e: unknown) => void): () => void {
  const serverSpans = madeOnce('http.server', () => numberedSpans('node.http', 'server',
    ['method:string', 'path:string', 'trace_id:string', 'parent_span_id:string', 'headers:string'],
    ['status:u16', 'size:i64'], { root: true }));

  let entering = options.context === 'always';
  const waiting = options.context === 'on-read'; // for the first read (never true again once entering)
  // While waiting: the last request span started, and the execution it started in.
  let lastSpan = 0;
  let lastExecution = -1;
  if (waiting) {
    onFirstParentRead(() => {
      entering = true;
      if (lastSpan !== 0 && executionAsyncId() === lastExecution) enterSpan(spanId(lastSpan));
    });
  }
  subscribe<ServerMessage>('http.server.request.start', ({ request, response }) => {
    let seq = 0;
    if (serverSpans.enabled) {
      const tp = parseTraceparent(rawHeader(request.rawHeaders, 'traceparent')); // repeated: malformed
      seq = nextSpanSeq();
      if (!serverSpans.begin.record(seq, serverSpans.parent(), request.method ?? '', requestPath(request.url, options.keepQuery),
        tp.traceId, tp.parentId, capturedHeaders(request, options.headers))) seq = 0;
    }
    if (seq === 0) {
      if (entering) enterSpan(0); // no stale span of an earlier request on this connection
      return;
    }
    setSpanOf(response, seq);
    if (entering) {
      enterSpan(spanId(seq)); // the handler runs in the span
    } else if (waiting) {
      lastSpan = seq;
      lastExecution = executionAsyncId();
    }
  }, failed);

  subscribe<ServerMessage>('http.server.response.finish', ({ response }) => {
    const seq = spanOf(response);
    if (seq === 0) return;
    setSpanOf(response, 0);
    serverSpans.end.emit(seq, statusField(response.statusCode), responseSize(response));
  }, failed);
  return () => onFirstParentRead(null);
}
