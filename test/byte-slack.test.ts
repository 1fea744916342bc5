// The word writers' rule (src/export/words.ts): they may store WORD_SLACK
// bytes past what they write, and reserving n bytes from either output
// buffer always leaves room for that, so no caller has to add it. Checked at
// every fill level of small buffers: a word store at the last reserved byte
// must land inside the buffer (a DataView throws RangeError past its end).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ByteOut, putUint } from '../src/export/byteout';
import { ProtoWriter } from '../src/export/protowire';
import { WORD_SLACK } from '../src/export/words';

const SIZE = 64;
const buffers = { buffer: () => Buffer.alloc(SIZE), submit: () => undefined };

test('ByteOut.reserve(n) leaves room for a word store at the n-th byte', () => {
  assert.ok(WORD_SLACK >= 3, 'a 4-byte store at the last byte reaches 3 bytes past it');
  for (let fill = 0; fill <= SIZE; fill++) {
    for (let n = 1; n <= SIZE - WORD_SLACK; n++) {
      const out = new ByteOut(buffers);
      out.pos = fill;
      assert.ok(out.reserve(n), `fill ${fill}, n ${n}`);
      assert.doesNotThrow(() => putUint(out.view, out.pos + n - 1, 999), `fill ${fill}, n ${n}`);
    }
  }
});

test('ByteOut.reserve(n) says no when n and the slack can never fit', () => {
  const out = new ByteOut(buffers);
  assert.equal(out.reserve(SIZE - WORD_SLACK + 1), false);
});

test('ProtoWriter.reserve(n) leaves room for a word store at the n-th byte', () => {
  for (let fill = 0; fill <= SIZE; fill++) {
    for (let n = 1; n <= 2 * SIZE; n++) {
      const w = new ProtoWriter(Buffer.alloc(SIZE));
      w.pos = fill;
      w.reserve(n);
      assert.doesNotThrow(() => w.view.setUint32(w.pos + n - 1, 0x01020304, true), `fill ${fill}, n ${n}`);
    }
  }
});
