// top beside a recorder (SessionSource.peek): what the rings held before top
// started is skipped, also past a damaged sub-buffer, so top counts only
// what comes after. A session stand-in whose peeker replays a script.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { SessionSource } from '../src/top/session-source';
import type { RawRecord } from '../src/records';
import type { Session } from '../src/session';

const CLASS = { v: 1, provider: 'app', name: 'tick', kind: 'event' as const, fields: [] };
const rec = (ts: number): RawRecord => ({ id: 1, timestamp: BigInt(ts), payload: Buffer.alloc(8), offset: 0 });

/** One ring whose peeker yields `steps` in turn (an Error is thrown: a damaged sub-buffer, stepped over). */
function session(steps: (RawRecord[] | Error | null)[]): Session {
  const peeker = {
    next: () => {
      const s = steps.shift() ?? null;
      if (s instanceof Error) throw s;
      return s;
    },
    skipped: () => 0,
  };
  return {
    info: { nRings: 1, nCpus: 1, clock: 'ns', clockFreqHz: 0 },
    classes: () => new Map([[1, CLASS]]),
    peeker: () => peeker,
  } as unknown as Session;
}

test('peeking skips what the rings held, also past a damaged sub-buffer; later records are read', () => {
  const steps: (RawRecord[] | Error | null)[] = [[rec(1), rec(2)], new Error('damaged sub-buffer'), [rec(3)], null];
  const source = SessionSource.peek(session(steps));
  const seen: number[] = [];
  const feed = { record: (_c: unknown, _cpu: number, ns: number) => { seen.push(ns); } };
  assert.equal(source.poll(feed), 0, 'nothing from before top started');
  steps.push([rec(10), rec(12)], null);
  assert.equal(source.poll(feed), 2);
  assert.deepEqual(seen, [0, 2], 'the new records, timed from the first one top read');
});
