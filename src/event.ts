// Event classes: a typed schema, its generated emit function, and whether it
// is enabled (a plain property the tracer flips when a session comes or goes).
// Strict mode (configure) changes how emit treats invalid values, so the
// generated code of every event class is rebuilt when it changes.
import { threadId } from 'node:worker_threads';
import { InvalidValues, isStrict, setStrict } from './invalid-values';
import { describe, type Field, type RecordKind } from './schema';
import { checkLevel, DEFAULT_LEVEL, type Level } from './selection/rules';
import { compileFilter } from './filter';
import { buildEmitter, DEFAULT_MAX_STRING_BYTES, type EventFilter, fixedSize, STAGING_BYTES, STAGING_SLACK,
  type SerializerOptions, type TrustedValue } from './serializer';
import { currentTracer, type Attachable } from './tracer';
import { TWO32 } from './int64';

/**
 * Span ids are unique per process across threads: (thread id + 1) * 2^32 + the
 * span's number in its thread, below 2^53. Span records are given the number;
 * their emitters add this base (SerializerOptions.seqBase).
 */
export const SPAN_ID_BASE = (threadId + 1) * TWO32;

export interface EventOptions {
  /** Longest string field, in UTF-8 bytes; longer strings are cut and end in '…'. Default 1024. */
  maxStringBytes?: number;
  /** Its level, for sessions that record only some levels (docs/selection.md). Default: its provider's. */
  level?: Level;
}

/** A typed event class. `enabled` is a plain property: check it before costly arguments. */
export class TracedEvent<Args extends unknown[]> implements Attachable {
  enabled = false;
  id = 0;
  readonly description: string;
  readonly fields: readonly Field[];
  readonly level: Level;
  /**
   * Record one event. A value the schema cannot take drops the event, counted
   * in the trace as ringtrace:invalid_value (strict mode throws instead).
   */
  readonly emit: (...values: Args) => void;
  /** What happens to values emit cannot record (see invalid-values.ts). */
  readonly invalid: InvalidValues;
  /** Events the session's filter left out, and how many of them were already reported. */
  filtered = 0;
  private filteredReported = 0;
  private filter: EventFilter | null = null;
  private filterText: string | null = null;
  private readonly serializer: SerializerOptions;

  /** `trustedIds`: the library's own span records, see SerializerOptions. */
  constructor(readonly provider: string, readonly name: string, readonly kind: RecordKind, fields: Field[],
    options: EventOptions = {}, trustedIds: readonly (TrustedValue | undefined)[] = []) {
    const where = `${provider}:${name}`;
    const maxString = options.maxStringBytes ?? DEFAULT_MAX_STRING_BYTES;
    const strings = fields.filter((f) => f.type === 'string').length;
    if (!Number.isInteger(maxString) || maxString < 4 ||
        fixedSize(fields) + strings * (maxString + 1) > STAGING_BYTES - STAGING_SLACK) {
      throw new TypeError(`ringtrace: ${where}: maxStringBytes ${maxString} must be an integer >= 4 ` +
        `and all ${strings} string field(s) must fit in ${STAGING_BYTES} bytes`);
    }
    this.fields = fields;
    this.level = options.level === undefined ? DEFAULT_LEVEL : checkLevel(options.level, `ringtrace: ${where}`);
    this.description = describe(provider, name, kind, fields);
    this.invalid = new InvalidValues(where, fields, this);
    this.serializer = { maxStringBytes: maxString, trustedIds, seqBase: SPAN_ID_BASE };
    this.emit = this.buildEmit();
    rebuildable.push(this);
    currentTracer().add(this);
  }

  /** emit, typed for the library's own use: true if the event was recorded. */
  get record(): (...values: Args) => boolean {
    return this.emit as unknown as (...values: Args) => boolean;
  }

  /** Generate emit again (strict mode or the filter changed). */
  rebuild(): void {
    (this as { emit: (...values: Args) => void }).emit = this.buildEmit();
  }

  /**
   * The session's filter expression for this class (null: none). Throws a
   * FilterError if it does not fit this class's fields; the class is then
   * left without a filter (the tracer disables it).
   */
  setFilter(expression: string | null): void {
    // A span's end records follow its begin; only begins, events and counters are filtered.
    const text = this.kind === 'span_end' ? null : expression;
    if (text === this.filterText) return;
    this.filter = null;
    this.filterText = null;
    if (text !== null) {
      this.filter = compileFilter(text, this.fields, `${this.provider}:${this.name}`);
      this.filterText = text;
    }
    this.rebuild();
  }

  /** Events filtered out since the last call. */
  takeFiltered(): number {
    const n = this.filtered - this.filteredReported;
    this.filteredReported = this.filtered;
    return n;
  }

  private buildEmit(): (...values: Args) => void {
    const tracer = currentTracer();
    return buildEmitter(this.fields as Field[], this.serializer, this, tracer.staging, tracer, this.invalid,
      isStrict(), this.filter) as unknown as (...values: Args) => void;
  }
}

/** Everything whose generated code depends on strict mode. */
export const rebuildable: { rebuild(): void }[] = [];

export interface Configuration {
  /**
   * Throw a TypeError/RangeError from emit (and span starts, counters) for a
   * value its schema cannot take, whether or not a session is attached. For
   * tests and development; default false (RINGTRACE_STRICT=1 sets it): the
   * event is dropped and counted in the trace, never thrown.
   */
  strict?: boolean;
}

/** Change settings for this thread (each worker thread has its own). */
export function configure(options: Configuration): void {
  if (options.strict !== undefined && options.strict !== isStrict()) {
    setStrict(options.strict);
    for (const r of rebuildable) r.rebuild();
  }
}
