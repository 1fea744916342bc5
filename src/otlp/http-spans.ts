// Auto mode's HTTP spans as OTLP spans: their kind (src/auto: node.http server
// SERVER, node.http client and node.fetch request CLIENT; every other span
// INTERNAL) and their status from their fields, by OpenTelemetry's HTTP
// conventions. Known by class name: auto mode's classes are this package's own.
import type { ClassDescription } from '../schema';
import type { OpenSpan } from './open-span';
import { KIND_CLIENT, KIND_INTERNAL, KIND_SERVER, STATUS_ERROR } from './schema';

/** Auto mode's request spans (src/auto: node.http server and client, node.fetch request); others are internal. */
export function kindOf(cls: ClassDescription): number {
  const p = cls.provider;
  const n = cls.name;
  if (p === 'node.http') return n === 'server' ? KIND_SERVER : n === 'client' ? KIND_CLIENT : KIND_INTERNAL;
  return p === 'node.fetch' && n === 'request' ? KIND_CLIENT : KIND_INTERNAL;
}

/** HTTP spans' status by OpenTelemetry's conventions: a server's 5xx, a client's 4xx, 5xx or error. */
export function statusFromFields(s: OpenSpan): void {
  const a = s.attrs;
  for (let i = 0; i < a.length; i += 2) {
    const v = a[i + 1];
    if (a[i] === 'status' && typeof v === 'number' && v >= (s.kind === KIND_SERVER ? 500 : 400)) {
      s.status = STATUS_ERROR;
    } else if (a[i] === 'error' && typeof v === 'string' && v && s.kind === KIND_CLIENT) {
      s.status = STATUS_ERROR;
      s.statusMessage = v;
    }
  }
}
