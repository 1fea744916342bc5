// The values the library writes without a field's checks (src/trusted-values.ts),
// as a session's filter sees them: what the record holds, read back.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { asRecorded, HRTIME_BASE_S } from '../src/trusted-values';
import { JsonMembers } from '../src/json-writer';

test('asRecorded: each trusted kind as its record holds it', () => {
  assert.equal(asRecorded('hex', '0123456789abcdef', 1024), 0x0123456789abcdefn);
  assert.equal(asRecorded('hex', 'not sixteen', 1024), 0n, 'a malformed id is recorded as 0');
  assert.equal(asRecorded('u64words', [0x89abcdef | 0, 0x01234567], 1024), 0x89abcdef01234567n);
  assert.equal(asRecorded('hrtime', [1_700_000_000, 5], 1024), 1_700_000_000_000_000_005n);
  assert.equal(asRecorded('hrtime', 7_000_000_123, 1024), BigInt(HRTIME_BASE_S + 7) * 1_000_000_000n + 123n);
  assert.equal(asRecorded('hrtime', null, 1024), 0n, 'a time left to its record');
  assert.equal(asRecorded('hexwords', [0x01234567, 0xfedcba98 | 0, 0, 1], 1024), '01234567fedcba980000000000000001');
  assert.equal(asRecorded('hexwords', [1, 2, 3, 4], 16), '0000000100000002', 'whole words within the limit');
  assert.equal(asRecorded('ascii', 'ab\0\u00e9c', 1024), 'ab??c');
  assert.equal(asRecorded('json', new JsonMembers(['k', 'v ✓', 'n', 2]), 1024), '{"k":"v ✓","n":2}');
  assert.equal(asRecorded('json', 'as is', 1024), 'as is');
});

test('a time in nanoseconds since HRTIME_BASE_S is recorded exactly, either side of it, up to 2^53', () => {
  const base = BigInt(HRTIME_BASE_S) * 1_000_000_000n;
  const times = [0, 1, -1, 2 ** 32, 2 ** 32 - 1, -(2 ** 32), 2 ** 32 + 1, 2 ** 53 - 1, -(2 ** 53 - 1), 999_999_999,
    -1_000_000_001, 3600e9, -3600e9];
  const toCarry = Number(2n ** 32n - (base & 0xffffffffn)); // the low words' sum exactly 2^32, and either side
  times.push(toCarry, toCarry - 1, toCarry + 1, toCarry - 2 ** 32, toCarry + 2 ** 40);
  let x = 12345; // a fixed sequence of magnitudes and signs (an LCG): the same cases every run
  for (let i = 0; i < 20_000; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const t = Math.floor((x / 2147483648) * 2 ** ((i % 53) + 1));
    times.push(i % 2 ? t : -t);
  }
  for (const t of times) assert.equal(asRecorded('hrtime', t, 1024), BigInt.asUintN(64, base + BigInt(t)), `t = ${t}`);
});
