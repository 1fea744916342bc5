// The recorder's and followers' sleep (cli/wakeable-sleep.ts): ended by its
// timer or by wake(), and a wake-up while nothing sleeps is kept for the next
// sleep, once.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { WakeableSleep } from '../cli/wakeable-sleep';

const elapsed = async (p: Promise<void>) => {
  const t = performance.now();
  await p;
  return performance.now() - t;
};

test('a sleep ends by its timer, or early by wake()', async () => {
  const s = new WakeableSleep();
  assert.ok(await elapsed(s.sleep(30)) >= 25);
  const early = s.sleep(10_000);
  setTimeout(() => s.wake(), 5);
  assert.ok(await elapsed(early) < 5_000, 'woken, not timed out');
  assert.ok(await elapsed(s.sleep(0)) < 5_000, '0: the next turn');
});

test('a wake-up while nothing sleeps ends the next sleep at once, and only that one', async () => {
  const s = new WakeableSleep();
  s.wake();
  s.wake();
  assert.ok(await elapsed(s.sleep(10_000)) < 5_000, 'kept');
  assert.ok(await elapsed(s.sleep(30)) >= 25, 'once: the sleep after it runs its time');
  const zero = s.sleep(0);
  s.wake(); // before its immediate runs: that immediate must not leave a wake-up behind
  await zero;
  assert.ok(await elapsed(s.sleep(30)) >= 25);
});
