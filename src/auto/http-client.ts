// Auto mode: a span per outgoing request, from node:http's client channels
// (http.request, http.get, and libraries built on them) and undici's
// (global fetch). Each starts where the app makes the request, so its parent
// is the span current there (the request span of a server handler calling
// another service); it ends when the response's headers arrive, or on an
// error, after a typed event with the status (0: an error, with its message).
import type { ClientRequest, IncomingMessage } from 'node:http';
import { provider } from '../provider';
import type { SpanHandle } from '../spans';
import type { TracedEvent } from '../event';
import type { AutoOptions } from './options';
import { subscribe } from './channels';
import { requestPath } from './http-server';

function errorText(e: unknown): string {
  try {
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  } catch {
    return 'unprintable error';
  }
}

/**
 * Outgoing requests in flight, by the request object their channels hand
 * over: a span opened at the request's start, ended by `finish` after a
 * response record (status; 0 and the error's text on an error).
 */
function requestSpans(responseRecord: TracedEvent<[number, number, string]>) {
  const open = new WeakMap<object, SpanHandle>();
  return {
    open(req: object, span: SpanHandle): void {
      if (span.id !== 0) open.set(req, span);
    },
    finish(req: object, status: number, error: string): void {
      const span = open.get(req);
      if (!span) return;
      open.delete(req);
      responseRecord.emit(span.id, status, error);
      span.end();
    },
  };
}

export function traceHttpClient(options: AutoOptions, failed: (e: unknown) => void): void {
  const http = provider('node.http');
  const clientSpan = http.spanType('client', ['method:string', 'host:string', 'path:string']);
  const { open, finish } = requestSpans(http.event('client_response', ['span_id:u64', 'status:u16', 'error:string']));

  subscribe<{ request: ClientRequest }>('http.client.request.start', ({ request }) => {
    if (!clientSpan.enabled) return;
    open(request, clientSpan.start(request.method, request.host ?? '', requestPath(request.path, options.keepQuery)));
  }, failed);
  subscribe<{ request: ClientRequest; response: IncomingMessage }>('http.client.response.finish',
    ({ request, response }) => finish(request, response.statusCode ?? 0, ''), failed);
  subscribe<{ request: ClientRequest; error: unknown }>('http.client.request.error',
    ({ request, error }) => finish(request, 0, errorText(error)), failed);
}

/** What undici's channels hand over (its own Request object, not fetch's). */
interface UndiciRequest { origin?: unknown; method?: string; path?: string }

function hostOf(origin: unknown): string {
  if (typeof origin === 'string') {
    const at = origin.indexOf('//');
    return at < 0 ? origin : origin.slice(at + 2).replace(/\/.*$/, '');
  }
  const host = (origin as { host?: unknown } | null)?.host;
  return typeof host === 'string' ? host : '';
}

export function traceFetch(options: AutoOptions, failed: (e: unknown) => void): void {
  const fetchProvider = provider('node.fetch');
  const requestSpan = fetchProvider.spanType('request', ['method:string', 'host:string', 'path:string']);
  const { open, finish } = requestSpans(fetchProvider.event('response', ['span_id:u64', 'status:u16', 'error:string']));

  subscribe<{ request: UndiciRequest }>('undici:request:create', ({ request }) => {
    if (!requestSpan.enabled) return;
    open(request, requestSpan.start(request.method ?? '', hostOf(request.origin),
      requestPath(request.path, options.keepQuery)));
  }, failed);
  subscribe<{ request: UndiciRequest; response: { statusCode?: number } }>('undici:request:headers',
    ({ request, response: r }) => finish(request, r.statusCode ?? 0, ''), failed);
  subscribe<{ request: UndiciRequest; error: unknown }>('undici:request:error',
    ({ request, error }) => finish(request, 0, errorText(error)), failed);
}
