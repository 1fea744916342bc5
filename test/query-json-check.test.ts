// The query loader copies span(name, fields)'s JSON as recorded when
// isAsciiJsonObject accepts it, so it must accept exactly what JSON.parse
// reads as an object in printable ASCII without a lone surrogate escaped
// (what DuckDB's JSON reader takes), on random and damaged JSON alike.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { isAsciiJsonObject } from '../src/query/json-check';
import { rng } from '../fixtures/damage';

const check = (s: string) => {
  const b = Buffer.from(s, 'utf8');
  return isAsciiJsonObject(b, 0, b.length);
};

/** What the checker must say, by JSON.parse and the rules it adds. */
function expected(s: string): boolean {
  if (!/^[\x20-\x7e]*$/.test(s)) return false;
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch {
    return false;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const lone = /\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}/;
  // a lone surrogate escape, not counting "\\u..." (an escaped backslash then text)
  return !lone.test(s.replace(/\\\\/g, '__')) && depth(v) <= 64;
}

function depth(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  return 1 + Math.max(0, ...Object.values(v as Record<string, unknown>).map(depth));
}

test('known cases', () => {
  for (const [s, ok] of [['{}', true], [' { } ', true], ['{"a":1}', true], ['{"a":-0.5e+10,"b":[true,false,null]}', true],
    ['{"a":"\\ud83d\\ude00"}', true], ['{"a":"\\ud800"}', false], ['{"a":"\\udc00"}', false], ['{"a":"\\ud800x"}', false],
    ['[]', false], ['1', false], ['"x"', false], ['{"a":01}', false], ['{"a":1.}', false], ['{"a":tru}', false],
    ['{"a":1,}', false], ['{"a" 1}', false], ['{"a":1}x', false], ['{"a":"\t"}', false], ['{"a":"é"}', false],
    ['{"a":"\\x"}', false], ['{"a":"\\u12g4"}', false], ['{', false], ['', false], ['{"a":"\\\\ud800"}', true],
    [`${'{"a":'.repeat(64)}1${'}'.repeat(64)}`, true], [`${'{"a":'.repeat(65)}1${'}'.repeat(65)}`, false]] as const) {
    assert.equal(check(s), ok, s);
    if (s.length < 400) assert.equal(expected(s), ok, `the reference agrees on ${s}`);
  }
});

test('random JSON, whole and damaged: accepted exactly when JSON.parse reads an ASCII object', () => {
  const rand = rng(12345);
  const pick = <T>(a: T[]) => a[Math.floor(rand() * a.length)]!;
  const text = () => Array.from({ length: Math.floor(rand() * 6) }, () =>
    pick(['a', 'Z', ' ', '"', '\\', '/', '\n', '\t', 'é', '\ud800', '\udc00', '😀', '\u0001', '{', '0'])).join('');
  const gen = (d: number): unknown => {
    const r = rand();
    if (d > 3 || r < 0.3) return pick([0, -1, 1.5, 1e21, -2e-7, true, false, null, text()]);
    if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => gen(d + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(rand() * 4) }, () => [text(), gen(d + 1)]));
  };
  let accepted = 0;
  for (let i = 0; i < 20000; i++) {
    let s = JSON.stringify(rand() < 0.8 ? Object.fromEntries([[text(), gen(0)], [text(), gen(0)]]) : gen(0));
    const m = rand();
    if (m < 0.2) s = s.slice(0, Math.floor(rand() * s.length)); // cut
    else if (m < 0.4) { // a byte replaced
      const at = Math.floor(rand() * s.length);
      s = s.slice(0, at) + pick(['"', ',', '}', ']', ':', '\\', 'x', ' ', '1', '.', 'e', '-']) + s.slice(at + 1);
    }
    const want = expected(s);
    assert.equal(check(s), want, JSON.stringify(s));
    if (want) accepted++;
  }
  assert.ok(accepted > 1000, `enough accepted cases (${accepted})`);
});
