// Durations as users write them on the command line and in trigger
// conditions: 200ms, 1.5s, 250us, 40ns (a bare number is in the unit the
// caller names).

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9 };

/** '200ms' -> 200_000_000 ns; a bare number is in `bareUnit`. Throws naming the text. */
export function parseDurationNs(text: string, bareUnit: 'ms' | 's' = 'ms'): number {
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*(ns|us|µs|ms|s)?$/.exec(text.trim());
  if (!m) throw new Error(`'${text}' is not a duration (examples: 200ms, 1.5s, 250us)`);
  return Number(m[1]) * UNIT_NS[m[2] ?? bareUnit]!;
}

/**
 * Numbers with a time unit in a filter expression (`duration > 200ms`)
 * become nanoseconds (`duration > 200000000`); quoted strings are left as
 * they are. The filter language itself has no units.
 */
export function unitsToNanoseconds(expression: string): string {
  let out = '';
  let i = 0;
  while (i < expression.length) {
    const c = expression[i]!;
    if (c === '"' || c === "'") { // copy a string literal whole, escapes included
      let j = i + 1;
      while (j < expression.length && expression[j] !== c) j += expression[j] === '\\' ? 2 : 1;
      out += expression.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s)(?![\w.])/.exec(expression.slice(i));
    const before = out[out.length - 1] ?? ' ';
    if (m && !/[\w.]/.test(before)) {
      out += String(Math.round(Number(m[1]) * UNIT_NS[m[2]!]!));
      i += m[0].length;
      continue;
    }
    out += c;
    i++;
  }
  return out;
}
