// Parsers of command-line values shared by trace-consume's commands: each
// turns a bad value into commander's error (exit code 2, the value named).
import { InvalidArgumentError } from 'commander';
import { parseDurationNs } from '../src/flight/durations';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export function sizeArg(value: string): number {
  try {
    return parseSize(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

export function nonNegative(value: string): number {
  const n = Number(value);
  if (!(n >= 0)) throw new InvalidArgumentError('expected a number of seconds >= 0');
  return n;
}

export function secondsArg(value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
}

/** A duration in ms: 200ms, 1.5s, 250us; a bare number is ms. */
export function durationMsArg(value: string): number {
  try {
    return parseDurationNs(value, 'ms') / 1e6;
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Parse sizes like 4096, 64K, 1M (powers of two are checked by the core). */
function parseSize(text: string): number {
  const m = /^(\d+)([kKmMgG]?)(i?[bB])?$/.exec(text.trim());
  if (!m) throw new Error(`'${text}' is not a size (examples: 65536, 64K, 1M)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Number(m[1]) * mult;
}
