// TimeBase.nsAfter (src/trace/timebase.ts), the per-record tick -> ns step of
// every reader, must equal the exact integer formula for clocks of any
// frequency: ringtrace's own nanosecond clock (its fast path), frequencies
// dividing 1e9, and TSC-like ones that do not; offsets up to days. Bases are
// at or after the clock's reference (a trace's clock counts from tick 0);
// for frequencies dividing 1e9, before it too.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { TimeBase } from '../src/trace/timebase';
import { isoNs } from '../src/trace/reader';
import { seededRandom } from '../fixtures/seeded-random';

const rnd = seededRandom(0x9e3779b9);

/** floor(((base + rel) - ref) * 1e9 / freq) - floor((base - ref) * 1e9 / freq), in BigInt. */
function exact(freq: bigint, ref: bigint, base: bigint, rel: bigint): number {
  const floorDiv = (a: bigint, b: bigint) => (a >= 0n ? a / b : -((-a + b - 1n) / b));
  return Number(floorDiv((base + rel - ref) * 1_000_000_000n, freq) - floorDiv((base - ref) * 1_000_000_000n, freq));
}

test('nsAfter is exact for nanosecond, divisor and TSC-like clock frequencies', () => {
  const freqs = [1_000_000_000n, 1_000_000n, 500_000_000n, 2_600_000_000n, 2_894_561_237n, 333_333_333n];
  for (const freq of freqs) {
    for (let i = 0; i < 400; i++) {
      const ref = BigInt(rnd(1 << 30)) * 4096n;
      const before = i % 4 === 0 && 1_000_000_000n % freq === 0n;
      const base = before ? ref - 1n - BigInt(rnd(1 << 30)) : ref + BigInt(rnd(1 << 30)) * BigInt(rnd(1 << 20));
      const clock = { freq, refTicks: ref, refRealtimeNs: 1_700_000_000_000_000_000n };
      const t = new TimeBase(clock, 1_700_000_000_000_000_000n);
      t.set(base, { hi: 0, lo: 0 });
      // up to ~1 day of ticks after the base
      const rel = i % 3 === 0 ? rnd(1000) : rnd(1 << 30) * (1 + rnd(80));
      assert.equal(t.nsAfter(rel), exact(freq, ref, base, BigInt(rel)), `freq ${freq}, base ${base}, rel ${rel}`);
    }
  }
});

test('isoSecondText + the 9 digits of the fraction is isoNs, for any second (cached per second)', () => {
  const t = new TimeBase({ freq: 1_000_000_000n, refTicks: 0n, refRealtimeNs: 0n }, 0n);
  const secs = [0, 1, 59, 951_782_400, 1_764_950_400, 1_764_950_399, 4_102_444_800, 253_402_300_799, 253_402_300_800];
  for (let i = 0; i < 2000; i++) secs.push(rnd(1 << 30) * 4 + rnd(4));
  for (const sec of secs) {
    for (const frac of [0, 1, 999_999_999, rnd(1_000_000_000)]) {
      const mine = `${t.isoSecondText(sec)}${String(frac + 1_000_000_000).slice(1)}Z`;
      assert.equal(mine, isoNs(BigInt(sec) * 1_000_000_000n + BigInt(frac)), `second ${sec}, fraction ${frac}`);
    }
  }
});
