// What became of every item an OTLP sender was given, in counters kept in a
// fixed order (client.ts lays them out in shared memory in this order).
import { OTLP_SIGNALS, type OtlpSignal } from './config';

/** The numeric stats, in a fixed order (client.ts lays them out in shared memory in this order). */
export const STAT_COUNTERS = [
  'enqueuedBatches', 'enqueuedItems', 'enqueuedBytes',
  'sentBatches', 'sentItems', 'sentBytes', // sentBytes: on the wire, after compression
  'retries', // requests made again after a retryable failure
  'droppedBatches', 'droppedItems', // queue overflow, given up, or not delivered by a flush deadline
  'rejectedBatches', 'rejectedItems', // a non-retryable status (whole batch), or a partial success (items only)
  'queuedBatches', 'queuedItems', 'queuedBytes', // waiting, including batches waiting to be retried
  'inFlight', 'inFlightItems', 'inFlightBytes',
] as const;
export const SIGNAL_COUNTERS = ['enqueuedItems', 'sentItems', 'droppedItems', 'rejectedItems'] as const;

export type SignalCounts = Record<(typeof SIGNAL_COUNTERS)[number], number>;
/**
 * Always: enqueuedItems == sentItems + droppedItems + rejectedItems + queuedItems + inFlightItems
 * (per signal too, with the signal's queued and in-flight items).
 */
export type SenderStats = Record<(typeof STAT_COUNTERS)[number], number> & {
  lastError: string | undefined;
  signals: Record<OtlpSignal, SignalCounts>;
};

export function emptyStats(): SenderStats {
  const s = Object.fromEntries(STAT_COUNTERS.map((k) => [k, 0])) as unknown as SenderStats;
  s.lastError = undefined;
  s.signals = Object.fromEntries(OTLP_SIGNALS.map((sig) => [sig,
    Object.fromEntries(SIGNAL_COUNTERS.map((k) => [k, 0]))])) as Record<OtlpSignal, SignalCounts>;
  return s;
}

export function copyStats(s: SenderStats): SenderStats {
  const { traces, logs, metrics } = s.signals;
  return { ...s, signals: { traces: { ...traces }, logs: { ...logs }, metrics: { ...metrics } } };
}

