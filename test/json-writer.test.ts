// writeJson (src/json-writer.ts) must write exactly what writeString writes
// for JSON.stringify's text of the same value (a string: for the string
// itself, a text already made), cut or not: the bytes of the record field and
// the offset after it.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { JsonMembers, writeJson } from '../src/json-writer';
import { writeString } from '../src/string-writer';
import { seededRandom } from '../fixtures/seeded-random';

const rnd = seededRandom(0x2545f491);

const STRINGS = ['', 'GET', '/items/12', 'rendered', 'a"quote', 'back\\slash', 'tab\there', 'nl\n', 'nul\0x',
  'ctl\u0001\u001f', 'del\u007f', 'é', 'π≈3.14', '日本', '😀 emoji', 'lone \ud800 surrogate', 'x'.repeat(40)];
const NUMBERS = [0, -0, 1, -1, 7, 200, 65535, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 53, 1.5, -2.25, 0.1, 1e21, 1e-7,
  5e-324, Number.MAX_VALUE, NaN, Infinity, -Infinity, 123456789.123];

function randomValue(depth: number): unknown {
  const kind = rnd(depth > 3 ? 5 : 9);
  switch (kind) {
    case 0: return STRINGS[rnd(STRINGS.length)];
    case 1: return NUMBERS[rnd(NUMBERS.length)];
    case 2: return rnd(2) === 0;
    case 3: return null;
    case 4: return rnd(2) ? undefined : NUMBERS[rnd(NUMBERS.length)];
    case 5: return Array.from({ length: rnd(5) }, () => randomValue(depth + 1));
    case 8: { // an object as a key/value list: unique keys, set in place like an object's (integer-like ones too)
      const m = new JsonMembers();
      for (let i = rnd(6); i > 0; i--) {
        const r = rnd(8);
        const key = r > 1 ? STRINGS[rnd(STRINGS.length)]! + (rnd(3) ? '' : String(rnd(20))) : r ? String(rnd(20)) : '__proto__';
        let at = 0;
        while (at < m.kv.length && m.kv[at] !== key) at += 2; // keys only (a value may equal a key)
        const v = randomValue(depth + 1);
        if (at < m.kv.length) m.kv[at + 1] = v;
        else m.kv.push(key, v);
      }
      return m;
    }
    default: {
      const o: Record<string, unknown> = {};
      for (let i = rnd(6); i > 0; i--) o[STRINGS[rnd(STRINGS.length)]! + (rnd(3) ? '' : String(rnd(20)))] = randomValue(depth + 1);
      return o;
    }
  }
}

function same(v: unknown, max: number, what: string): void {
  const mine = Buffer.alloc(max + 64, 0xaa);
  const ref = Buffer.alloc(max + 64, 0xaa);
  const o = 3;
  const end = writeJson(mine, o, v, max);
  // A string is taken for a JSON text already made (a span's '{}' or ''): written as it is.
  const refEnd = writeString(ref, o, typeof v === 'string' ? v : JSON.stringify(v) ?? '', max);
  assert.equal(end, refEnd, `${what}: end offset for ${JSON.stringify(v)?.slice(0, 200)}`);
  assert.deepEqual(mine.subarray(0, end), ref.subarray(0, refEnd), `${what}: bytes for ${JSON.stringify(v)?.slice(0, 200)}`);
}

test('writes the bytes of JSON.stringify for attributes, events and anything else, cut like a string', () => {
  for (let i = 0; i < 3000; i++) {
    const v = randomValue(0);
    if (v === undefined) continue;
    same(v, 8192, `value ${i}`);
    same(v, 4 + rnd(60), `value ${i}, cut`); // the text is cut where writeString cuts it
  }
});

test('integers: every digit count and sign, with room for exactly their text and one byte less', () => {
  const ints = [0, -0, 2 ** 31, -(2 ** 31), 2 ** 31 - 1, -(2 ** 31) + 1];
  for (let p = 1; p <= 1e9; p *= 10) ints.push(p - 1, p, p + 1, -(p - 1), -p, -(p + 1));
  for (let i = 0; i < 2000; i++) ints.push((rnd(2) ? -1 : 1) * Math.floor(rnd(2 ** 31) / 10 ** rnd(10)));
  for (const n of ints) {
    const text = JSON.stringify(n);
    for (let max = text.length - 1; max <= text.length + 1; max++) {
      same(n, max, `${n} in ${max} bytes`);
      same([n, new JsonMembers(['n', n])], max + 9, `[${n},{"n":${n}}] in ${max + 9} bytes`);
    }
  }
});

test('JsonMembers: written as the object the same assignments make', () => {
  const m = new JsonMembers(['b', 1, 'a', 'x', '10', true, '2', null, 'u', undefined]);
  assert.equal(JSON.stringify(m), '{"2":null,"10":true,"b":1,"a":"x"}');
  same(m, 1024, 'integer-like keys listed first, in their order');
  same(new JsonMembers(['b', 1, 'a', [1, new JsonMembers(['k', 'v'])]]), 1024, 'nested');
  same([new JsonMembers(), new JsonMembers(['only', 'one'])], 1024, 'empty and one');
  same(new JsonMembers(['a', 1, '__proto__', 'x']), 1024, '__proto__: not made a member by an assignment');
  same(new JsonMembers(['__proto__', [1, 2], 'b', 2]), 1024, '__proto__ with an array');
});

test('shapes it does not write itself go through JSON.stringify unchanged', () => {
  const deep: unknown[] = [];
  let at = deep;
  for (let i = 0; i < 20; i++) at.push(at = []);
  class Point { constructor(readonly x: number, readonly y: number) {} }
  const cases: unknown[] = [deep, new Point(1, 2), { when: new Date(0) }, { toJSON: () => 'x' }, [1, () => 2, Symbol('s')],
    { f: () => 1, s: Symbol('t'), u: undefined, k: 1 }, Object.assign(Object.create(null) as object, { a: 1 }),
    'a text is written as it is', '', { nested: { events: [{ name: 'e', attributes: { a: [1, null, 2] }, time: [1, 2] }] } }];
  for (const [i, v] of cases.entries()) same(v, 1024, `case ${i}`);
});
