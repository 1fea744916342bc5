// Auto mode: a span per outgoing request, from node:http's client channels
// (http.request, http.get, and libraries built on them) and undici's
// (global fetch). Each starts where the app makes the request, so its parent
// is the span current there (the request span of a server handler calling
// another service); it ends when the response's headers arrive, or on an
// error: the end record carries the status (0: an error, with its message).
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { AutoOptions } from './options';
import { subscribe } from './channels';
import { requestPath, statusField } from './http-server';
import { nextSpanSeq } from '../spans';
import { numberedSpans, setSpanOf, spanOf } from './numbered-spans';
import { madeOnce } from './classes';

function errorText(e: unknown): string {
  try {
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  } catch {
    return 'unprintable error';
  }
}

/**
 * Outgoing requests in flight, by the request object their channels hand
 * over: a span opened at the request's start (its number: numbered-spans.ts),
 * ended by `finish` with the response's status (0 and the error's text on an
 * error).
 */
function requestSpans(providerName: string, name: string) {
  const spans = madeOnce(`${providerName}:${name}`, () => numberedSpans(providerName, name,
    ['method:string', 'host:string', 'path:string'], ['status:u16', 'error:string'], { root: false }));
  return {
    open(req: object, method: string, host: string, path: string): void {
      if (!spans.enabled || !Object.isExtensible(req)) return; // its span number could not be kept on it
      const seq = nextSpanSeq();
      if (spans.begin.record(seq, spans.parent(), method, host, path)) setSpanOf(req, seq);
    },
    finish(req: object, status: number, error: string): void {
      const seq = spanOf(req);
      if (seq === 0) return;
      setSpanOf(req, 0);
      spans.end.emit(seq, statusField(status), error);
    },
  };
}

export function traceHttpClient(options: AutoOptions, failed: (e: unknown) => void): void {
  const { open, finish } = requestSpans('node.http', 'client');

  subscribe<{ request: ClientRequest }>('http.client.request.start', ({ request }) =>
    open(request, request.method, request.host ?? '', requestPath(request.path, options.keepQuery)), failed);
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
  const { open, finish } = requestSpans('node.fetch', 'request');

  subscribe<{ request: UndiciRequest }>('undici:request:create', ({ request }) =>
    open(request, request.method ?? '', hostOf(request.origin), requestPath(request.path, options.keepQuery)), failed);
  subscribe<{ request: UndiciRequest; response: { statusCode?: number } }>('undici:request:headers',
    ({ request, response: r }) => finish(request, r.statusCode ?? 0, ''), failed);
  subscribe<{ request: UndiciRequest; error: unknown }>('undici:request:error',
    ({ request, error }) => finish(request, 0, errorText(error)), failed);
}
