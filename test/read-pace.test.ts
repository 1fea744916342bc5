// The recorder's read pacing (src/trace/read-pace.ts) on simulated rings: it
// sleeps long while rings are idle or slow, and reads at once or soon when
// data flows fast, when a ring lost events, or just after it did.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { IDLE_READ_SLEEP_MS, MAX_READ_SLEEP_MS, ReadPace } from '../src/trace/read-pace';

const RING = 4 << 20; // 8 x 512 KiB

/** One ring whose offsets the test moves by hand. */
function fakeRing() {
  const ring = { written: 0, consumed: 0, lost: 0 };
  const session = { ringOffsets(out: Float64Array) { out.set([ring.written, ring.consumed, ring.lost]); } };
  return { ring, pace: new ReadPace(session, 1, RING) };
}

test('idle rings and slow flows sleep the longest; a fast flow sleeps little, a very fast one not at all', () => {
  const { ring, pace } = fakeRing();
  assert.equal(pace.next(0, 0), MAX_READ_SLEEP_MS, 'first look, nothing known');
  assert.equal(pace.next(100, 0), MAX_READ_SLEEP_MS, 'idle');
  ring.written += 360_000; // a server's 3.6 MB/s for 100 ms, read
  ring.consumed = ring.written;
  assert.equal(pace.next(200, 0), MAX_READ_SLEEP_MS);
  ring.written += 4_000_000; // 40 MB/s for 100 ms (the consumer kept up)
  ring.consumed = ring.written - 100_000;
  const sleep = pace.next(300, 0);
  assert.ok(sleep >= 5 && sleep < 20, `a fast flow: a short sleep (${sleep} ms)`);
  ring.written += 16_000_000; // 160 MB/s for 100 ms
  ring.consumed = ring.written - 100_000;
  assert.equal(pace.next(400, 0), 0, 'faster still: read back to back');
});

test('a pass that wrote whole sub-buffers, or a ring that lost events, reads again at once', () => {
  const { ring, pace } = fakeRing();
  pace.next(0, 0);
  assert.equal(pace.next(100, 2), 0, 'whole sub-buffers written');
  ring.lost += 5;
  assert.equal(pace.next(200, 0), 0, 'events lost');
  // The ring was full: its write offset did not move, yet it is not idle: the rate is remembered.
  const after = pace.next(300, 0);
  assert.ok(after < MAX_READ_SLEEP_MS / 4, `just after a loss: ${after} ms`);
});

test('a ring a quarter full is read at once, and a remembered rate decays back to the longest sleep', () => {
  const { ring, pace } = fakeRing();
  pace.next(0, 0);
  ring.written = RING / 4;
  assert.equal(pace.next(1, 0), 0, 'a quarter full');
  ring.consumed = ring.written;
  let sleep = 0;
  let t = 2;
  for (; t < 200 && sleep < MAX_READ_SLEEP_MS; t++) sleep = pace.next(t * 100, 0);
  assert.equal(sleep, IDLE_READ_SLEEP_MS, 'the rate forgotten, and no ring moved for over a second: idle');
  ring.written += 1000;
  assert.equal(pace.next(t * 100 + 1100, 0), MAX_READ_SLEEP_MS, 'it moved: no longer idle');
});

test('a producer that just attached gets short sleeps for a second, before any rate is known', () => {
  const { pace } = fakeRing();
  pace.next(0, 0);
  assert.equal(pace.next(100, 0), MAX_READ_SLEEP_MS, 'idle');
  pace.producerArrived(150);
  assert.ok(pace.next(151, 0) <= 5, 'fresh: short');
  assert.ok(pace.next(1100, 0) <= 5, 'still fresh');
  assert.equal(pace.next(1200, 0), IDLE_READ_SLEEP_MS, 'a second later, idle again');
});
