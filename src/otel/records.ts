// The record classes OpenTelemetry spans become: a span begin at onStart and
// a span end at onEnd, shaped like ringtrace's own span records (span_id and
// parent_id first, as u64), so the exporters nest them like native spans.
// The OpenTelemetry span id (64 bits) is the ringtrace span id. Both records
// carry `span_name` right after their ids: the exporters name the slice by
// it (one class serves every span name; a name can change until the end).
// The provider records a span's end whose attributes fit typed fields with
// span-end-records.ts's classes instead, and events with span-event-records.ts's.
import { TracedEvent } from '../event';
import { parseFields } from '../schema';
import { BEGIN_FIELDS, END_FIELDS, OTEL_PROVIDER } from './typed-classes';

export const RESOURCE_FIELDS = ['attributes:string'] as const;

// Ids go in as OpenTelemetry's hex strings and times as its [seconds, nanoseconds]
// (or nanoseconds since HRTIME_BASE_S, trusted-values.ts):
// the serializer writes them as u64 without a BigInt, and attributes and events
// as JSON without making the text first (SerializerOptions.trustedIds).
/** [seconds, nanoseconds], nanoseconds since HRTIME_BASE_S, or null: the record's own time (a span's SpanTime). */
export type RecordTime = readonly [number, number] | number | null;
export type BeginArgs = [string, string, string, string, number, string];
/** The provider's begin: span id, parent id ([0, 0]: none) and trace id as words (ids.ts). */
export type WordsBeginArgs = [readonly number[], readonly number[], string, readonly number[], number, string];
/** args, events and links: JSON texts, or values written as their JSON (the 'json' trusted value). */
export type EndArgs = [string, string, number, string, RecordTime, RecordTime, string | object, string | object, string];
/**
 * The end's strings may be this long (UTF-8 bytes; longer ones are cut, ending in '…', and a cut
 * JSON text no longer parses): attributes and exception events' stacks outgrow the default 1024.
 * Its five strings at this size still fit the 64 KiB staging buffer.
 */
export const END_MAX_STRING = 8192;
const BEGIN_TRUSTED = ['hex', 'hex', undefined, 'ascii'] as const; // (trace ids: 32 hex digits, made or checked)
const WORDS_BEGIN_TRUSTED = ['u64words', 'u64words', undefined, 'hexwords'] as const;
const END_TRUSTED = ['hex', undefined, undefined, undefined, 'hrtime', 'hrtime', 'json', 'json'] as const;

export interface SpanRecords {
  /** The span processor's begin (the SDK's hex ids). */
  begin: TracedEvent<BeginArgs>;
  /** The same record (one class: the same description) for the provider, whose ids are words. */
  beginFromWords: TracedEvent<WordsBeginArgs>;
  end: TracedEvent<EndArgs>;
  resource: TracedEvent<[string]>;
}

/** This thread's classes (made once: a TracedEvent registers with the thread's tracer). */
let records: SpanRecords | undefined;
export function spanRecords(): SpanRecords {
  if (records) return records;
  const beginFields = parseFields('otel:span', BEGIN_FIELDS);
  records = {
    begin: new TracedEvent<BeginArgs>(OTEL_PROVIDER, 'span', 'span_begin', beginFields, {}, BEGIN_TRUSTED),
    beginFromWords: new TracedEvent<WordsBeginArgs>(OTEL_PROVIDER, 'span', 'span_begin', beginFields, {},
      WORDS_BEGIN_TRUSTED),
    end: new TracedEvent<EndArgs>(OTEL_PROVIDER, 'span', 'span_end', parseFields('otel:span', END_FIELDS),
      { maxStringBytes: END_MAX_STRING }, END_TRUSTED),
    resource: new TracedEvent<[string]>(OTEL_PROVIDER, 'resource', 'event',
      parseFields('otel:resource', RESOURCE_FIELDS)),
  };
  return records;
}

/**
 * The resource's attributes as an otel:resource record, for the session
 * `sessionIno` (callers record it once per session: they keep the returned
 * inode and call again when the tracer's differs).
 */
export function recordResource(records: SpanRecords, sessionIno: number, attributes: unknown): number {
  if (records.resource.enabled) records.resource.emit(JSON.stringify(attributes));
  return sessionIno;
}

/** A span that could not be recorded: warned about the first time (`failures` before this one: 0), never thrown. */
export function warnFirstFailure(failures: number, e: unknown, counter: string): void {
  if (failures !== 0) return;
  try {
    process.emitWarning(`ringtrace: a span could not be recorded (${String(e)}); later failures are only counted ` +
      `in ${counter}`, 'RingtraceWarning');
  } catch {
    // nothing may escape
  }
}
