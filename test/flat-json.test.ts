// FlatJson reads span fields' JSON in place for the Perfetto export. What it
// accepts must give exactly JSON.parse's members, in for-in order, with the
// same values; everything else must be refused (the export then uses
// JSON.parse). Checked on hand-picked cases and on random objects.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { FlatJson, MEMBER_DOUBLE, MEMBER_FALSE, MEMBER_INT, MEMBER_STRING, MEMBER_TRUE } from '../src/export/flat-json';
import { rng } from '../fixtures/damage';

const json = new FlatJson();

/** The members FlatJson found, as [key, value] pairs; undefined if it refused the text. */
function members(text: string): [string, unknown][] | undefined {
  const d = Buffer.from(text, 'utf8');
  if (!json.parse(d, 0, d.length)) return undefined;
  const out: [string, unknown][] = [];
  for (let j = 0; j < json.count; j++) {
    const kind = json.kind[j]!;
    const value = kind === MEMBER_STRING ? d.toString('latin1', json.valStart[j]!, json.valEnd[j]!)
      : kind === MEMBER_TRUE ? true : kind === MEMBER_FALSE ? false : json.num[j]!;
    if (kind === MEMBER_INT) assert.ok(Number.isSafeInteger(value), `${text}: an int member is a safe integer`);
    if (kind !== MEMBER_INT && kind !== MEMBER_DOUBLE) assert.notEqual(typeof value, 'number');
    out.push([json.key(d, j), value]);
  }
  return out;
}

/** What JSON.parse gives, when every value is one FlatJson could take. */
function parsed(text: string): [string, unknown][] {
  const o = JSON.parse(text) as Record<string, unknown>;
  return Object.keys(o).map((k) => [k, o[k]]);
}

function check(text: string, expectAccepted?: boolean): void {
  const got = members(text);
  if (expectAccepted !== undefined) assert.equal(got !== undefined, expectAccepted, `${text}: accepted?`);
  if (got === undefined) return;
  const want = parsed(text);
  assert.equal(got.length, want.length, text);
  for (let i = 0; i < got.length; i++) {
    assert.equal(got[i]![0], want[i]![0], `${text}: key ${i}`);
    assert.ok(Object.is(got[i]![1], want[i]![1]), `${text}: value of ${got[i]![0]}: ${String(got[i]![1])} vs ${String(want[i]![1])}`);
  }
}

test('flat objects are read as JSON.parse reads them', () => {
  for (const t of ['{}', '{"i":1}', '{"a":"x","b":true,"c":false,"d":-12}', '{"":0}', '{"n":-0}', '{"f":1.5}',
    '{"e":1e300}', '{"e":-2.5E-3}', '{"big":123456789012345}', '{"bigger":1234567890123456789}', '{"z":0.0}',
    '{"route":"/items/42?x=1","status":200}', '{"a":1,"b":2,"c":3,"d":4,"e":5}', '{"x1":1,"1x":2}']) {
    check(t, true);
  }
});

test('anything else is refused, never misread', () => {
  for (const t of ['', '[]', '[1]', '"s"', '1', 'null', '{', '{"a"}', '{"a":}', '{"a":1,}', '{"a":1}x', '{"a":1} ',
    '{ "a":1}', '{"a": 1}', '{"a":null}', '{"a":{}}', '{"a":[1]}', '{"a":"q\\"x"}', '{"a\\u0041":1}', '{"é":1}',
    '{"a":"é"}', '{"a":"tab\t"}', '{"1":1}', '{"b":1,"2":2}', '{"a":1,"a":2}', '{"a":01}', '{"a":1.}', '{"a":.5}',
    '{"a":1e}', '{"a":-}', '{"a":+1}', '{"a":tru}', '{"a":truex}', '{"a":NaN}']) {
    const got = members(t);
    assert.equal(got, undefined, `${JSON.stringify(t)} should be refused`);
  }
});

test('random flat objects: accepted ones equal JSON.parse, and plain ones are accepted', () => {
  const rand = rng(12345);
  const pick = <T>(a: T[]) => a[Math.floor(rand() * a.length)]!;
  const chars = 'abcXYZ_09-/ .:"\\é\u0001';
  const word = (n: number) => Array.from({ length: n }, () => pick([...chars])).join('');
  for (let round = 0; round < 3000; round++) {
    const o: Record<string, unknown> = {};
    let plain = true;
    for (let k = Math.floor(rand() * 6); k > 0; k--) {
      const key = rand() < 0.1 ? String(Math.floor(rand() * 10)) : word(1 + Math.floor(rand() * 6));
      const value = pick([
        () => Math.floor((rand() - 0.5) * 2 ** 40), () => (rand() - 0.5) * 1e6, () => rand() < 0.5,
        () => word(Math.floor(rand() * 8)), () => 2 ** 60 * rand(), () => -0,
      ])();
      o[key] = value;
      if (!/^[A-Za-z_ .:/-]*$/.test(key) || /^\d+$/.test(key)) plain = false;
      if (typeof value === 'string' && !/^[A-Za-z_09 .:/-]*$/.test(value)) plain = false;
    }
    const text = JSON.stringify(o);
    check(text);
    if (plain) assert.ok(members(text) !== undefined, `${text} is plain and should be accepted`);
  }
});
