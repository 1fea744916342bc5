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
  assert.equal(asRecorded('hexwords', [0x01234567, 0xfedcba98 | 0, 0, 1], 1024), '01234567fedcba980000000000000001');
  assert.equal(asRecorded('hexwords', [1, 2, 3, 4], 16), '0000000100000002', 'whole words within the limit');
  assert.equal(asRecorded('ascii', 'ab\0\u00e9c', 1024), 'ab??c');
  assert.equal(asRecorded('json', new JsonMembers(['k', 'v ✓', 'n', 2]), 1024), '{"k":"v ✓","n":2}');
  assert.equal(asRecorded('json', 'as is', 1024), 'as is');
});
