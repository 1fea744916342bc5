// OpenTelemetry times ([seconds, nanoseconds] since the Unix epoch) from the
// API's TimeInput, read as the SDK reads it: an HrTime as is; a Date; a
// number of milliseconds, taken for a performance.now() reading when it is
// not later than now, else for Unix milliseconds.
//
// A span keeps its times as SpanTime: a number of nanoseconds since the
// process's start second (HRTIME_BASE_S), which needs no array per time (a
// span takes two or three), or, for a time too far away for a double to hold
// it to the nanosecond (104 days), the HrTime itself, or RECORD_TIME: a time
// the API was not given, left to the record that carries it. Each record is
// stamped with the session's clock as it is written, so a span's begin and end
// records and its events already hold when they happened; reading a clock
// here too (performance.now(), ~0.1 us per call in a server) only to write it
// beside the record's own stamp is left out. Such a time is 0 in the record;
// readers take the record's timestamp for it (docs/otel.md).
import type { HrTime, TimeInput } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';
import { HRTIME_BASE_S } from '../trusted-values';

const NS_PER_S = 1_000_000_000;

/** The time the record holding it is written (0 in the record). */
export const RECORD_TIME = null;

/** Nanoseconds since HRTIME_BASE_S (an integer), an HrTime when that would not be exact, or RECORD_TIME. */
export type SpanTime = number | HrTime | typeof RECORD_TIME;

/** The Unix epoch itself would read as RECORD_TIME in a record: a time given as it is kept 1 ns later. */
const EPOCH_PLUS_1NS: HrTime = [0, 1];

/** Unix milliseconds as HrTime (whole milliseconds exact; the fraction to the nanosecond). */
export function millisToHrTime(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  const ns = Math.round((ms - s * 1000) * 1e6);
  return ns >= NS_PER_S ? [s + 1, ns - NS_PER_S] : [s, ns];
}

// performance.timeOrigin as nanoseconds past HRTIME_BASE_S, so a reading (ms
// since the origin) keeps its nanoseconds: adding it to 1.7e12 ms first would round them away.
const ORIGIN_NS = Math.round((performance.timeOrigin - HRTIME_BASE_S * 1000) * 1e6);

/** A performance.now() reading as a SpanTime. */
function performanceToSpanTime(perfMs: number): number {
  return ORIGIN_NS + Math.round(perfMs * 1e6);
}

function nowSpanTime(): number {
  return performanceToSpanTime(performance.now());
}

function hrTimeToSpanTime(t: HrTime): number | HrTime {
  const ns = (t[0] - HRTIME_BASE_S) * NS_PER_S + t[1];
  if (Number.isSafeInteger(ns)) return ns;
  return t[0] === 0 && t[1] === 0 ? EPOCH_PLUS_1NS : t;
}

function spanTimeToHrTime(t: number | HrTime): HrTime {
  if (typeof t !== 'number') return t;
  const s = Math.floor(t / NS_PER_S);
  return [HRTIME_BASE_S + s, t - s * NS_PER_S];
}

function isHrTime(v: unknown): v is HrTime {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number';
}

/** A TimeInput as a SpanTime; anything else (undefined, a bad value): now, read from the clock. */
export function toSpanTime(input: TimeInput | undefined): number | HrTime {
  if (input === undefined) return nowSpanTime();
  if (typeof input === 'number') {
    return input <= performance.now() ? performanceToSpanTime(input) : hrTimeToSpanTime(millisToHrTime(input));
  }
  if (input instanceof Date) return hrTimeToSpanTime(millisToHrTime(input.getTime()));
  if (isHrTime(input)) return hrTimeToSpanTime(input);
  return nowSpanTime();
}

export function isTimeInput(v: unknown): v is TimeInput {
  return typeof v === 'number' || v instanceof Date || isHrTime(v);
}

/** a before b. */
export function hrTimeBefore(a: HrTime, b: HrTime): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

/** a before b. */
export function spanTimeBefore(a: number | HrTime, b: number | HrTime): boolean {
  return typeof a === 'number' && typeof b === 'number' ? a < b : hrTimeBefore(spanTimeToHrTime(a),
    spanTimeToHrTime(b));
}
