// Random OpenTelemetry ids (src/otel/ids.ts): lower-case hex of the right
// length, distinct, and every byte value seen at every byte's place (a wrong
// digit table or a byte read twice would leave values out; for 20 000 ids
// the chance that a random one misses one of 256 values is below 1e-30).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { randomSpanId, randomTraceId } from '../src/otel/ids';

function check(make: () => string, length: number): void {
  const n = 20_000; // spans several refills of the 4 KiB pool
  const seen = new Set<string>();
  const bytesAt = Array.from({ length: length / 2 }, () => new Set<string>());
  for (let i = 0; i < n; i++) {
    const id = make();
    assert.match(id, new RegExp(`^[0-9a-f]{${length}}$`));
    seen.add(id);
    for (let k = 0; k < length / 2; k++) bytesAt[k]!.add(id.slice(2 * k, 2 * k + 2));
  }
  assert.equal(seen.size, n, 'no id repeats');
  for (const [k, values] of bytesAt.entries()) assert.equal(values.size, 256, `every value of byte ${k}`);
}

test('span ids: 16 hex digits, distinct, every byte value at every place', () => check(randomSpanId, 16));
test('trace ids: 32 hex digits, distinct, every byte value at every place', () => check(randomTraceId, 32));

test('span and trace ids do not share bytes of the pool', () => {
  for (let i = 0; i < 1000; i++) {
    const span = randomSpanId();
    const traceId = randomTraceId();
    assert.ok(!traceId.startsWith(span) && !traceId.endsWith(span));
  }
});
