// What happens when emit is given a value its schema cannot record (a string
// for a u16, a missing argument, a Buffer too large for one event).
//
// Tracing must never take an app down, least of all when a recorder attaches to
// a running server: by default such an event is dropped, never thrown. It is
// counted in the trace as a `ringtrace:invalid_value` record (event, field, and
// the first time per event and field in this thread, the problem in words) and
// reported once per event and field as a RingtraceWarning. Strict mode (for
// tests and development) throws the TypeError/RangeError instead, whether or
// not a session is attached, so a bug shows before anyone records.
import type { Field } from './schema';

/** Problems are described in these words; built only on the failure path. */
const EXPECTS: Record<string, string> = {
  i8: 'an integer in [-128, 127]', i16: 'an integer in [-32768, 32767]',
  i32: 'an integer in [-2^31, 2^31)', u8: 'an integer in [0, 255]', u16: 'an integer in [0, 65535]',
  u32: 'an integer in [0, 2^32)', i64: 'an integer number or bigint in [-2^63, 2^63)',
  u64: 'an integer number or bigint in [0, 2^64)', f32: 'a number', f64: 'a number',
  bool: 'a boolean', string: 'a string', bytes: 'a Uint8Array or Buffer',
};

export function describeValue(v: unknown): string {
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  if (v === null) return 'null';
  if (v instanceof Uint8Array) return `${v.constructor.name}(${v.length})`;
  return typeof v === 'object' ? `object ${Object.prototype.toString.call(v)}` : typeof v;
}

export function valueError(where: string, field: Field, v: unknown): TypeError {
  return new TypeError(`ringtrace: ${where}: field '${field.name}' (${field.type}) expects ` +
    `${EXPECTS[field.type]}, got ${describeValue(v)}; nothing was recorded`);
}

export function arityError(where: string, expected: number, got: number, call = 'emit'): TypeError {
  return new TypeError(`ringtrace: ${where}: ${call} takes ${expected} value(s), got ${got}; nothing was recorded`);
}

export function bytesError(where: string, field: Field, len: number, room: number): RangeError {
  return new RangeError(`ringtrace: ${where}: bytes field '${field.name}' has ${len} bytes; ` +
    `at most ${Math.max(0, room)} fit in one event; nothing was recorded`);
}

let strict = process.env['RINGTRACE_STRICT'] === '1';

/** Whether emit throws on invalid values (RINGTRACE_STRICT=1 or configure({ strict })). */
export function isStrict(): boolean {
  return strict;
}

export function setStrict(on: boolean): void {
  strict = on;
}

/** Records one `ringtrace:invalid_value` event (set by provider.ts, which owns event classes). */
type InvalidRecorder = (event: string, field: string, problem: string) => void;
let recordInvalid: InvalidRecorder = () => {};

export function setInvalidRecorder(fn: InvalidRecorder): void {
  recordInvalid = fn;
}

/**
 * One event class's handling of invalid values. Generated emit code calls these
 * methods and returns what they return (false: nothing recorded).
 */
export class InvalidValues {
  /** Problems already described (in a record and a warning) in this thread: "field" names. */
  private readonly reported = new Set<string>();

  constructor(private readonly where: string, private readonly fields: readonly Field[],
    private readonly target: { enabled: boolean }) {}

  /** Field `f` got `v`, which its type cannot take. */
  value(f: number, v: unknown): false {
    const field = this.fields[f]!;
    return this.reject(field.name, () => valueError(this.where, field, v));
  }

  /** emit (or a span's start) was called with `got` values instead of `expected`. */
  arity(expected: number, got: number, call = 'emit'): false {
    return this.reject('', () => arityError(this.where, expected, got, call));
  }

  /** A bytes field of `len` bytes where `room` fit. */
  bytes(f: number, len: number, room: number): false {
    const field = this.fields[f]!;
    return this.reject(field.name, () => bytesError(this.where, field, len, room));
  }

  /**
   * Any other refusal (counters' add of a non-finite delta), with its own
   * error; `outcome` says in the warning what became of the call (default:
   * the event was dropped and counted).
   */
  other(field: string, error: () => Error, outcome?: string): false {
    return this.reject(field, error, outcome);
  }

  private reject(field: string, error: () => Error, outcome = 'the event was dropped and counted'): false {
    if (strict) throw error();
    if (!this.target.enabled) return false; // not recording: nothing to count it in
    let problem = '';
    if (!this.reported.has(field)) {
      this.reported.add(field);
      problem = error().message.replace(/; nothing was recorded$/, '');
      process.emitWarning(`${problem}; ${outcome} as ringtrace:invalid_value ` +
        '(set RINGTRACE_STRICT=1 to throw instead)', 'RingtraceWarning');
    }
    recordInvalid(this.where, field, problem);
    return false;
  }
}
