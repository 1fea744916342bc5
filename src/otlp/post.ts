// One OTLP/HTTP POST of a request body: the request with its headers, a
// timeout, and the response read to its end (only its first 64 KiB kept:
// an error text or an ExportServiceResponse). Its outcome is reported once;
// what an outcome means (delivered, retried, given up) is the sender's
// (sender.ts).
import * as http from 'node:http';
import * as https from 'node:https';
import type { OtlpRequestSettings } from './config';

const MAX_RESPONSE_BYTES = 64 << 10;

/**
 * A response read to its end, or why there is none (an error, a cut response,
 * the timeout). `written`: the whole body had been handed to the OS by then
 * (Node holds no reference to its memory any more).
 */
export type PostOutcome =
  | { answered: true; res: http.IncomingMessage; body: Buffer; written: boolean }
  | { answered: false; reason: string; written: boolean };

export interface Agents { http: http.Agent; https: https.Agent }

/** Keep-alive agents with at most `maxSockets` connections per origin. */
export function keepAliveAgents(maxSockets: number): Agents {
  const options = { keepAlive: true, maxSockets };
  return { http: new http.Agent(options), https: new https.Agent(options) };
}

/**
 * POST `wire` (compressed as settings.compression says) to `url`, with the signal's settings; `done` hears
 * the outcome once, never before this returns. Returns the abort, after
 * which `done` is not called. Throws only if the request cannot be made (a
 * header value Node refuses), before anything is started.
 */
export function postBody(url: URL, wire: Uint8Array, settings: OtlpRequestSettings, agents: Agents,
  done: (outcome: PostOutcome) => void): () => void {
  const headers: Record<string, string> = { ...settings.headers,
    'content-type': 'application/x-protobuf', 'content-length': String(wire.byteLength) };
  if (settings.compression === 'gzip') headers['content-encoding'] = 'gzip';
  else delete headers['content-encoding'];
  const tls = url.protocol === 'https:';
  const req = (tls ? https : http).request(url, { method: 'POST', headers, agent: tls ? agents.https : agents.http });
  let over = false; // the outcome is out (or aborted): later events of the request are noise
  let written = false;
  req.on('finish', () => { written = true; }); // the last write's callback: the body is in the kernel
  const end = (outcome: PostOutcome) => {
    if (over) return;
    over = true;
    clearTimeout(timer);
    done(outcome);
  };
  const failed = (reason: string) => end({ answered: false, reason, written });
  const timer = setTimeout(() => {
    failed(`no response within ${settings.timeoutMs} ms`);
    req.destroy();
  }, timerMs(settings.timeoutMs));
  req.on('error', (e) => failed(e.message));
  req.on('response', (res) => {
    const parts: Buffer[] = [];
    let size = 0;
    res.on('data', (d: Buffer) => {
      if (size < MAX_RESPONSE_BYTES) parts.push(d);
      size += d.length;
    });
    res.on('error', (e) => failed(e.message));
    res.on('aborted', () => failed('the response was cut short'));
    res.on('end', () => end({ answered: true, res, body: Buffer.concat(parts), written }));
  });
  try {
    req.end(wire);
  } catch (e) {
    req.destroy(e as Error); // reported through 'error', later: never before the caller has the abort
  }
  return () => {
    over = true;
    clearTimeout(timer);
    req.destroy();
  };
}

/** A delay setTimeout takes as meant: it turns anything over 2^31 - 1 ms into 1 ms. */
export function timerMs(ms: number): number {
  return Math.min(Math.max(0, ms), 2 ** 31 - 1);
}
