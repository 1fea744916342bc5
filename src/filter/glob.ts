// Glob patterns for `~` and `!~`: `*` matches any run of characters, `?` one
// character (a surrogate pair counts as one), `\` makes the next character
// literal; the whole string must match. Code is generated per pattern, with
// no RegExp: the common shapes become one or two string method calls
// ("/api/*" is a startsWith, faster than a compiled RegExp), other patterns
// of literals and stars a chain of indexOf, and patterns with `?` a loop that
// backtracks only to the last `*`. Each costs at most O(string length ×
// pattern length), where a RegExp backtracks without bound (`*a*a*a*b`
// against 1000 a's: over a minute in V8's RegExp, under a millisecond here).

type Piece = { kind: 'lit'; text: string } | { kind: 'star' } | { kind: 'one' };

export function parseGlob(pattern: string): Piece[] {
  const pieces: Piece[] = [];
  const literal = (c: string) => {
    const last = pieces[pieces.length - 1];
    if (last?.kind === 'lit') last.text += c;
    else pieces.push({ kind: 'lit', text: c });
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) literal(pattern[++i]!);
    else if (c === '*') {
      if (pieces[pieces.length - 1]?.kind !== 'star') pieces.push({ kind: 'star' }); // ** is *
    } else if (c === '?') pieces.push({ kind: 'one' });
    else literal(c); // a trailing lone backslash is itself
  }
  return pieces;
}

/**
 * A JS boolean expression saying whether the string in variable `v` matches,
 * or null if the pattern needs statements (globStatements).
 */
export function globExpression(v: string, pieces: readonly Piece[]): string | null {
  if (pieces.some((p) => p.kind === 'one')) return null;
  // Only literals and stars: split into the literal runs between stars.
  const runs = [''];
  for (const p of pieces) {
    if (p.kind === 'star') runs.push('');
    else if (p.kind === 'lit') runs[runs.length - 1] += p.text;
  }
  const q = JSON.stringify;
  if (runs.length === 1) return `${v} === ${q(runs[0])}`;
  const first = runs[0]!;
  const last = runs[runs.length - 1]!;
  if (runs.length === 2) {
    const tests = [];
    if (first !== '' && last !== '') tests.push(`${v}.length >= ${first.length + last.length}`);
    if (first !== '') tests.push(`${v}.startsWith(${q(first)})`);
    if (last !== '') tests.push(`${v}.endsWith(${q(last)})`);
    return tests.length === 0 ? 'true' : tests.join(' && ');
  }
  if (runs.length === 3 && first === '' && last === '') return `${v}.includes(${q(runs[1])})`;
  return null;
}

/**
 * Statements that `break falseLabel` unless the match result is `!negate`
 * (and also when `v` is not a string). `label` is a fresh label for the
 * statements' own block.
 */
export function globStatements(v: string, pieces: readonly Piece[], negate: boolean, falseLabel: string,
  label: string): string {
  const noMatch = negate ? label : falseLabel;
  const match = negate ? `\nbreak ${falseLabel};` : '';
  const test = pieces.some((p) => p.kind === 'one') ? loopStatements(v, pieces, noMatch)
    : searchStatements(v, pieces, noMatch);
  return `${label}: {\nif (typeof ${v} !== "string") break ${falseLabel};\n${test}${match}\n}`;
}

/**
 * Literals and stars only: the first run is a prefix, the last a suffix, and
 * each run between is found by indexOf, leftmost first (taking the earliest
 * place for each run leaves the most room for the next).
 */
function searchStatements(v: string, pieces: readonly Piece[], noMatch: string): string {
  const runs = pieces.filter((p) => p.kind === 'lit').map((p) => p.text);
  const first = pieces[0]?.kind === 'lit' ? runs.shift()! : '';
  const last = pieces[pieces.length - 1]?.kind === 'lit' ? runs.pop()! : '';
  const total = [first, ...runs, last].reduce((n, r) => n + r.length, 0);
  const q = JSON.stringify;
  return [
    `if (${v}.length < ${total} || !${v}.startsWith(${q(first)}) || !${v}.endsWith(${q(last)})) break ${noMatch};`,
    `let at = ${first.length};`,
    `const end = ${v}.length - ${last.length};`,
    ...runs.map((r) => `at = ${v}.indexOf(${q(r)}, at);\n` +
      `if (at < 0 || at + ${r.length} > end) break ${noMatch};\nat += ${r.length};`),
  ].join('\n');
}

const LITERAL = 'l';
const ONE = '?';
const STAR = '*';

/**
 * Patterns with `?`: a loop over the string that, on a mismatch, lets the
 * last `*` take one more code unit and tries again from there.
 */
function loopStatements(v: string, pieces: readonly Piece[], noMatch: string): string {
  // The pattern as two constants of one unit each: `kinds` says literal, ? or
  // *, `chars` holds literal code units (and a space under each wildcard).
  let kinds = '';
  let chars = '';
  for (const p of pieces) {
    if (p.kind === 'lit') {
      kinds += LITERAL.repeat(p.text.length);
      chars += p.text;
    } else {
      kinds += p.kind === 'one' ? ONE : STAR;
      chars += ' ';
    }
  }
  const [l, one, star] = [LITERAL, ONE, STAR].map((c) => c.charCodeAt(0));
  const m = kinds.length;
  return `const n = ${v}.length, kinds = ${JSON.stringify(kinds)}, chars = ${JSON.stringify(chars)};
let p = 0, i = 0, starAt = -1, resume = 0;
while (i < n) {
  const k = p < ${m} ? kinds.charCodeAt(p) : 0;
  if (k === ${l} && chars.charCodeAt(p) === ${v}.charCodeAt(i)) { p++; i++; }
  else if (k === ${one}) {
    p++;
    i += (${v}.charCodeAt(i) & 0xfc00) === 0xd800 && (${v}.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
  } else if (k === ${star}) { starAt = p++; resume = i; }
  else if (starAt >= 0) { p = starAt + 1; i = ++resume; }
  else break ${noMatch};
}
while (p < ${m} && kinds.charCodeAt(p) === ${star}) p++;
if (p !== ${m}) break ${noMatch};`;
}
