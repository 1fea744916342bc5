// Parsers of command-line values shared by trace-consume's commands: each
// turns a bad value into commander's error (exit code 2, the value named).
import { InvalidArgumentError } from 'commander';
import { parseSize } from './record';
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
