// Reading an OTLP/HTTP backend's answers: when to try again (Retry-After,
// exponential backoff), what an error response says, and the partial
// success a 2xx response may carry.
import type * as http from 'node:http';

/** Exponential backoff with ±20 % jitter, never above maxMs. `streak` counts from 1. */
export function backoffMs(streak: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(streak - 1, 0), 30));
  return Math.min(maxMs, Math.round(base * (0.8 + 0.4 * random())));
}

/** A Retry-After header in ms: delta-seconds or an HTTP-date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function httpError(status: number, res: http.IncomingMessage, body: Buffer): string {
  const why = errorText(res.headers['content-type'] ?? '', body);
  return `HTTP ${status}${res.statusMessage ? ` ${res.statusMessage}` : ''}${why ? `: ${why}` : ''}`;
}

/** What an error response says: a google.rpc.Status's message (protobuf), or the text itself. */
function errorText(contentType: string, body: Buffer): string {
  if (!body.length) return '';
  try {
    if (contentType.includes('protobuf')) {
      let message = '';
      readFields(body, (field, value) => {
        if (field === 2 && value instanceof Uint8Array) message = utf8(value);
      });
      return message.slice(0, 300);
    }
  } catch {
    return '';
  }
  return /text|json/.test(contentType) ? utf8(body).trim().slice(0, 300) : '';
}

export interface PartialSuccess { rejected: number; message: string }

/**
 * The partial_success of an ExportServiceResponse (proto/otlp.proto):
 * field 1, with rejected (1, int64) and error_message (2, string).
 * Undefined when there is none; throws on malformed protobuf.
 */
export function decodePartialSuccess(body: Uint8Array): PartialSuccess | undefined {
  let partial: PartialSuccess | undefined;
  readFields(body, (field, value) => {
    if (field !== 1 || !(value instanceof Uint8Array)) return;
    partial ??= { rejected: 0, message: '' };
    readFields(value, (f, v) => {
      if (f === 1 && typeof v === 'number') partial!.rejected = v >= 2 ** 63 ? 0 : v; // a negative int64 means nothing
      if (f === 2 && v instanceof Uint8Array) partial!.message = utf8(v);
    });
  });
  return partial;
}

/** Each field of a protobuf message: varints as numbers, length-delimited ones as bytes; fixed ones skipped. */
function readFields(buf: Uint8Array, each: (field: number, value: number | Uint8Array) => void): void {
  let at = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (at >= buf.length) throw new Error('truncated varint');
      const byte = buf[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new Error('varint too long');
  };
  while (at < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (wireType === 0) each(field, varint());
    else if (wireType === 2) {
      const len = varint();
      if (at + len > buf.length) throw new Error('truncated field');
      each(field, buf.subarray(at, at + len));
      at += len;
    } else if (wireType === 1) at += 8;
    else if (wireType === 5) at += 4;
    else throw new Error(`wire type ${wireType}`);
    if (at > buf.length) throw new Error('truncated field');
  }
}

function utf8(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');
}
