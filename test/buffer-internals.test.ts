// The Buffer helpers (src/buffer-internals.ts) give what the documented
// Buffer calls give, through Node's internals where it has them and through
// the documented calls where it does not: both paths on random text.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { bufferText } from '../src/buffer-internals';

const internal = bufferText(Buffer.prototype);
const fallback = bufferText({}); // a prototype without the internals

let seed = 7;
const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
const PIECES = ['a', 'Z', '0', ' ', '"', '\\', '\n', '\0', 'é', 'ß', '€', '中', '😀', '\uD800', '\uDFFF'];
const randomText = () => Array.from({ length: rnd(40) }, () => PIECES[rnd(PIECES.length)]).join('');

test('this Node has the internals (the fast path is the one that runs)', () => {
  for (const name of ['utf8Slice', 'latin1Slice', 'utf8Write']) {
    assert.equal(typeof (Buffer.prototype as unknown as Record<string, unknown>)[name], 'function', name);
  }
});

test('slices: the same strings as toString, on both paths', () => {
  for (let i = 0; i < 2000; i++) {
    const b = Buffer.from(Array.from({ length: rnd(64) }, () => rnd(256)));
    const start = rnd(b.length + 1);
    const end = start + rnd(b.length - start + 1);
    for (const h of [internal, fallback]) {
      assert.equal(h.utf8Slice(b, start, end), b.toString('utf8', start, end));
      assert.equal(h.latin1Slice(b, start, end), b.toString('latin1', start, end));
    }
  }
});

test('utf8Write: the same bytes and count as Buffer#write, cut at whole characters, on both paths', () => {
  for (let i = 0; i < 2000; i++) {
    const s = randomText();
    const length = rnd(48);
    const offset = rnd(8);
    const want = Buffer.alloc(64, 0xaa);
    const n = want.write(s, offset, length, 'utf8');
    for (const h of [internal, fallback]) {
      const got = Buffer.alloc(64, 0xaa);
      assert.equal(h.utf8Write(got, s, offset, length), n, JSON.stringify(s));
      assert.deepEqual(got, want);
    }
  }
});
