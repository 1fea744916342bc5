// The ids the OTLP export makes for ringtrace's own spans (src/otlp/ids.ts):
// never repeated within a trace, the same for the same trace, not shared
// between traces.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { IdMaker, traceSeed } from '../src/otlp/ids';

const SPANS = 300_000; // per thread or process: ids hashed to 32 bits first repeated 180 times (threads), 32 (processes)

function spanIds(ids: IdMaker, pid: number, hi: number): string[] {
  const out = { idHi: 0, idLo: 0 };
  const all: string[] = [];
  for (let lo = 1; lo <= SPANS; lo++) {
    ids.spanId(out, pid, hi, lo);
    assert.ok(out.idHi !== 0 || out.idLo !== 0);
    all.push(`${out.idHi}:${out.idLo}`);
  }
  return all;
}

function traceIds(ids: IdMaker, pid: number, hi: number): string[] {
  const all: string[] = [];
  for (let lo = 1; lo <= SPANS; lo++) {
    const t = ids.traceId(pid, hi, lo);
    for (const w of [t.w0, t.w1, t.w2, t.w3]) assert.ok(Number.isInteger(w) && w >= 0 && w < 2 ** 32);
    all.push(`${t.w0}:${t.w1}:${t.w2}:${t.w3}`);
  }
  return all;
}

const distinct = (all: string[]) => new Set(all).size;

test('made span ids never repeat: two threads of a process, and two processes', () => {
  const ids = new IdMaker(traceSeed('session', 5n)); // with this seed, ids hashed to 32 bits first repeated
  // ringtrace span ids: (thread + 1) * 2^32 + the thread's count
  const twoThreads = [...spanIds(ids, 4242, 1), ...spanIds(ids, 4242, 2)];
  assert.equal(distinct(twoThreads), twoThreads.length);
  const twoProcesses = [...spanIds(ids, 4242, 1), ...spanIds(ids, 4243, 1)];
  assert.equal(distinct(twoProcesses), twoProcesses.length);
});

test('made trace ids never repeat: roots of two threads, and of two processes', () => {
  const ids = new IdMaker(traceSeed('session', 5n)); // with this seed, ids hashed to 32 bits first repeated
  const all = [...traceIds(ids, 4242, 1), ...traceIds(ids, 4242, 2), ...traceIds(ids, 4243, 1)];
  assert.equal(distinct(all), all.length);
});

test('made ids: the same for the same trace, others for another trace', () => {
  const seed = traceSeed('session', 5n);
  const a = new IdMaker(seed);
  const b = new IdMaker(seed);
  const other = new IdMaker(traceSeed('session', 6n));
  const x = { idHi: 0, idLo: 0 };
  const y = { idHi: 0, idLo: 0 };
  const z = { idHi: 0, idLo: 0 };
  for (const [pid, hi, lo] of [[1, 1, 1], [1, 1, 2], [2, 1, 1], [99999, 7, 123456]] as const) {
    a.spanId(x, pid, hi, lo);
    b.spanId(y, pid, hi, lo);
    other.spanId(z, pid, hi, lo);
    assert.deepEqual(x, y);
    assert.notDeepEqual(x, z);
    assert.deepEqual(a.traceId(pid, hi, lo), b.traceId(pid, hi, lo));
    assert.notDeepEqual(a.traceId(pid, hi, lo), other.traceId(pid, hi, lo));
  }
});
