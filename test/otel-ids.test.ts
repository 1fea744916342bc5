// Random OpenTelemetry ids (src/otel/ids.ts), kept as 32-bit words: their
// hex is lower-case of the right length, ids are distinct, and every byte
// value is seen at every byte's place (a wrong digit or a word read twice
// would leave values out; for 20 000 ids the chance that a random one misses
// one of 256 values is below 1e-30). Hex and words convert both ways.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { hexOfWords, randomSpanWords, randomTraceWords, wordsOfHex } from '../src/otel/ids';

function check(make: () => number[], length: number): void {
  const n = 20_000; // spans many refills of the 1 024-word pool
  const seen = new Set<string>();
  const bytesAt = Array.from({ length: length / 2 }, () => new Set<string>());
  for (let i = 0; i < n; i++) {
    const id = hexOfWords(make());
    assert.match(id, new RegExp(`^[0-9a-f]{${length}}$`));
    seen.add(id);
    for (let k = 0; k < length / 2; k++) bytesAt[k]!.add(id.slice(2 * k, 2 * k + 2));
  }
  assert.equal(seen.size, n, 'no id repeats');
  for (const [k, values] of bytesAt.entries()) assert.equal(values.size, 256, `every value of byte ${k}`);
}

test('span ids: 16 hex digits, distinct, every byte value at every place', () => check(randomSpanWords, 16));
test('trace ids: 32 hex digits, distinct, every byte value at every place', () => check(randomTraceWords, 32));

test('span and trace ids do not share words of the pool', () => {
  for (let i = 0; i < 1000; i++) {
    const span = hexOfWords(randomSpanWords());
    const traceId = hexOfWords(randomTraceWords());
    assert.ok(!traceId.startsWith(span) && !traceId.endsWith(span));
  }
});

test('hex and words: both ways, high bits and leading zeros kept, upper-case hex read', () => {
  const hex = '80000000ffffffff000000010abcdef0';
  const words = wordsOfHex(hex);
  assert.deepEqual(words.map((w) => w >>> 0), [0x80000000, 0xffffffff, 1, 0x0abcdef0]);
  assert.equal(hexOfWords(words), hex);
  assert.equal(hexOfWords(wordsOfHex(hex.toUpperCase())), hex);
  assert.equal(hexOfWords([0, 7]), '0000000000000007');
});
