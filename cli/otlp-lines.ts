// What an OTLP sender did, in words: the summary line of export -f otlp and
// record --otlp, and the part of record's status line while it sends.
import type { LiveStats } from '../src/otlp/live';
import type { SenderStats } from '../src/otlp/sender';

/** What a sender did, in one line. */
export function sentLine(s: SenderStats): string {
  const parts = [`${s.sentItems} items in ${s.sentBatches} requests (${(s.sentBytes / 1e6).toFixed(1)} MB sent)`];
  if (s.retries) parts.push(`${s.retries} retries`);
  if (s.droppedItems) parts.push(`${s.droppedItems} dropped`);
  if (s.rejectedItems) parts.push(`${s.rejectedItems} rejected by the backend`);
  return parts.join(', ');
}

/** Stats for the status line: what the sender did, in a few words. */
export function liveStatus(s: LiveStats | undefined): string {
  if (!s) return '  otlp: starting';
  const x = s.sent;
  return `  otlp: sent ${x.sentItems}${x.retries ? ` retried ${x.retries}` : ''}` +
    `${x.droppedItems ? ` dropped ${x.droppedItems}` : ''}${x.queuedBatches ? ` queued ${x.queuedBatches}` : ''}`;
}
