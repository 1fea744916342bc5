// What an OTLP export says in words: what its sender did (the summary line of
// export -f otlp and record --otlp, and the part of record's status line while
// it sends), where its requests go, and what had no endpoint to go to.
import { OTLP_SIGNALS, type OtlpSignal } from '../src/otlp/config';
import type { LiveStats } from '../src/otlp/live';
import type { SenderStats } from '../src/otlp/sender';

/** `n thing` or `n things`. */
const count = (n: number, thing: string): string => `${n} ${thing}${n === 1 ? '' : 's'}`;

/** What a sender did, in one line. */
export function sentLine(s: SenderStats): string {
  const parts = [`${count(s.sentItems, 'item')} in ${count(s.sentBatches, 'request')} ` +
    `(${(s.sentBytes / 1e6).toFixed(1)} MB sent)`];
  if (s.retries) parts.push(`${s.retries} retries`);
  if (s.droppedItems) parts.push(`${s.droppedItems} dropped`);
  if (s.rejectedItems) parts.push(`${s.rejectedItems} rejected by the backend`);
  return parts.join(', ');
}

/** Stats for the status line: what the sender did, in a few words. */
export function liveStatus(s: LiveStats | undefined): string {
  if (!s) return '  otlp: starting';
  const x = s.sent;
  const unsent = s.summary.noEndpointItems;
  return `  otlp: sent ${x.sentItems}${x.retries ? ` retried ${x.retries}` : ''}` +
    `${x.droppedItems ? ` dropped ${x.droppedItems}` : ''}${x.queuedBatches ? ` queued ${x.queuedBatches}` : ''}` +
    `${unsent ? ` no endpoint ${unsent}` : ''}`;
}

/** Where the requests go: the base URL when every signal has its own under it, else each signal's URL. */
export function destinationLine(urls: Record<OtlpSignal, string>): string {
  const bases = new Set(OTLP_SIGNALS.map((signal) => urls[signal].endsWith(`/v1/${signal}`)
    ? urls[signal].slice(0, -`/v1/${signal}`.length) : `(${signal}) ${urls[signal]}`));
  if (bases.size === 1) return [...bases][0]!;
  return OTLP_SIGNALS.filter((signal) => urls[signal]).map((signal) => `${signal} ${urls[signal]}`).join(', ');
}

/** What was not sent for want of an endpoint (only other signals' were set), or undefined. */
export function noEndpointLine(items: number, urls: Record<OtlpSignal, string>, option = '--endpoint'):
  string | undefined {
  const missing = OTLP_SIGNALS.filter((signal) => !urls[signal]);
  if (items === 0 || missing.length === 0) return undefined;
  return `${count(items, 'item')} not sent: no endpoint for ${missing.join(' or ')} ` +
    `(set ${option}, OTEL_EXPORTER_OTLP_ENDPOINT or ${missing.map((s) => `OTEL_EXPORTER_OTLP_${s.toUpperCase()}_ENDPOINT`).join(', ')})`;
}
