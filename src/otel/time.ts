// OpenTelemetry times ([seconds, nanoseconds] since the Unix epoch) from the
// API's TimeInput, read as the SDK reads it: an HrTime as is; a Date; a
// number of milliseconds, taken for a performance.now() reading when it is
// not later than now, else for Unix milliseconds.
import type { HrTime, TimeInput } from '@opentelemetry/api';
import { performance } from 'node:perf_hooks';

const NS_PER_S = 1_000_000_000;

/** Unix milliseconds as HrTime (whole milliseconds exact; the fraction to the nanosecond). */
export function millisToHrTime(ms: number): HrTime {
  const s = Math.floor(ms / 1000);
  const ns = Math.round((ms - s * 1000) * 1e6);
  return ns >= NS_PER_S ? [s + 1, ns - NS_PER_S] : [s, ns];
}

// performance.timeOrigin split once into whole seconds and the rest, so a
// reading (ms since the origin, ~1e6 for a process up for 20 minutes) keeps its
// microseconds: adding it to 1.7e12 ms first would round them away.
const origin = millisToHrTime(performance.timeOrigin);

/** A performance.now() reading as Unix HrTime (one array made: a span takes two or three). */
export function performanceToHrTime(perfMs: number): HrTime {
  const s = Math.floor(perfMs / 1000);
  let ns = origin[1] + Math.round((perfMs - s * 1000) * 1e6); // < 2e9
  let sec = origin[0] + s;
  if (ns >= NS_PER_S) {
    ns -= NS_PER_S;
    sec++;
  }
  return [sec, ns];
}

export function nowHrTime(): HrTime {
  return performanceToHrTime(performance.now());
}

function isHrTime(v: unknown): v is HrTime {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number';
}

/** A TimeInput as HrTime; anything else (undefined, a bad value): now. */
export function toHrTime(input: TimeInput | undefined): HrTime {
  if (typeof input === 'number') {
    return input <= performance.now() ? performanceToHrTime(input) : millisToHrTime(input);
  }
  if (input instanceof Date) return millisToHrTime(input.getTime());
  if (isHrTime(input)) return input;
  return nowHrTime();
}

export function isTimeInput(v: unknown): v is TimeInput {
  return typeof v === 'number' || v instanceof Date || isHrTime(v);
}

/** a before b. */
export function hrTimeBefore(a: HrTime, b: HrTime): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}
