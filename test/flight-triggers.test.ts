// The flight recorder's event triggers, on hand-made records (exact
// timestamps): a class appearing, a condition on fields, a span's duration
// checked at its end against its start's fields, misfits and bad rules.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseDurationNs, unitsToNanoseconds } from '../src/flight/durations';
import { parseTrigger, TriggerWatch, type Firing } from '../src/flight/triggers';
import type { RawRecord } from '../src/records';
import type { ClassDescription, Field, RecordKind } from '../src/schema';

const cls = (provider: string, name: string, kind: RecordKind, fields: Field[]): ClassDescription =>
  ({ v: 1, provider, name, kind, fields });
const classes = new Map<number, ClassDescription>([
  [1, cls('app', 'error', 'event', [{ name: 'code', type: 'u16' }])],
  [2, cls('http', 'request', 'event', [{ name: 'status', type: 'u16' }, { name: 'path', type: 'string' }])],
  [3, cls('db', 'query', 'span_begin', [{ name: 'span_id', type: 'u64' }, { name: 'parent_id', type: 'u64' },
    { name: 'rows', type: 'u32' }])],
  [4, cls('db', 'query', 'span_end', [{ name: 'span_id', type: 'u64' }])],
  // A span whose end says how it went (auto mode's request spans): `rows` at both ends, the end's counts.
  [5, cls('rpc', 'call', 'span_begin', [{ name: 'span_id', type: 'u64' }, { name: 'parent_id', type: 'u64' },
    { name: 'path', type: 'string' }, { name: 'rows', type: 'u32' }])],
  [6, cls('rpc', 'call', 'span_end', [{ name: 'span_id', type: 'u64' }, { name: 'status', type: 'u16' },
    { name: 'rows', type: 'u32' }])],
]);

/** A record of class `id` at `ts` (ticks = ns here) from pid 7, tid 8, with little-endian fields. */
function rec(id: number, ts: number, ...fields: (['u16' | 'u32' | 'u64', number] | ['string', string])[]): RawRecord {
  const parts = [Buffer.from([7, 0, 0, 0, 8, 0, 0, 0])];
  for (const [type, v] of fields) {
    const b = Buffer.alloc(type === 'u16' ? 2 : type === 'u32' ? 4 : type === 'u64' ? 8 : Buffer.byteLength(v as string) + 1);
    if (type === 'u16') b.writeUInt16LE(v as number);
    else if (type === 'u32') b.writeUInt32LE(v as number);
    else if (type === 'u64') b.writeBigUInt64LE(BigInt(v));
    else b.write(v as string);
    parts.push(b);
  }
  return { id, timestamp: BigInt(ts), payload: Buffer.concat(parts), offset: 0 };
}

function watch(...rules: string[]): { feed: (r: RawRecord) => Firing | null; notices: string[]; w: TriggerWatch } {
  const notices: string[] = [];
  const w = new TriggerWatch(rules.map(parseTrigger), () => classes, (t) => Number(t), (m) => notices.push(m));
  return { feed: (r) => w.feed(r), notices, w };
}

test('a class appearing fires on each of its events, and only on them', () => {
  const { feed } = watch('app:error');
  assert.equal(feed(rec(2, 10, ['u16', 500], ['string', '/x'])), null);
  const f = feed(rec(1, 20, ['u16', 3]));
  assert.deepEqual(f, { trigger: 'app:error', event: 'app:error', pid: 7, tid: 8, timestamp: 20n });
  assert.ok(feed(rec(1, 30, ['u16', 4])));
});

test('a condition on fields fires exactly on the events that pass it', () => {
  const { feed } = watch('http:request: status >= 500 && path != "/health"');
  const fired = [[200, '/a'], [500, '/health'], [503, '/api'], [404, '/b'], [500, '/c']]
    .map(([s, p]) => feed(rec(2, 1, ['u16', s as number], ['string', p as string])) !== null);
  assert.deepEqual(fired, [false, false, true, false, true]);
});

test("a span's duration is checked at its end, with its start's fields; unpaired ends are counted", () => {
  const { feed, w } = watch('db:query: duration > 200ms && rows > 10');
  const start = (span: number, ts: number, rows: number) => feed(rec(3, ts, ['u64', span], ['u64', 0], ['u32', rows]));
  const end = (span: number, ts: number) => feed(rec(4, ts, ['u64', span]));
  assert.equal(start(1, 0, 50), null);
  assert.equal(start(2, 0, 50), null);
  assert.equal(start(3, 0, 5), null);
  assert.equal(end(1, 200_000_000), null, 'exactly 200 ms is not more than 200 ms');
  assert.equal(end(3, 900_000_000), null, 'long, but only 5 rows');
  assert.ok(end(2, 200_000_001));
  assert.equal(end(2, 300_000_000), null, 'a span ends once: a second end has no start');
  assert.equal(w.unpaired, 1);
});

test("a span's condition sees its end record's fields; where both records name a field, the end's value", () => {
  const { feed, notices } = watch('rpc:call: status >= 500 && path != "/health" && rows > 10 && duration > 1ms');
  const start = (span: number, path: string, rows: number) =>
    feed(rec(5, 0, ['u64', span], ['u64', 0], ['string', path], ['u32', rows]));
  const end = (span: number, ts: number, status: number, rows: number) =>
    feed(rec(6, ts, ['u64', span], ['u16', status], ['u32', rows]));
  for (let span = 1; span <= 6; span++) assert.equal(start(span, span === 2 ? '/health' : '/api', span === 4 ? 50 : 0), null);
  assert.equal(end(1, 5e6, 200, 50), null, 'status 200');
  assert.equal(end(2, 5e6, 503, 50), null, "the start's path is excluded");
  assert.equal(end(3, 5e6, 503, 5), null, "the end's rows (5) count, not the start's");
  assert.equal(end(4, 5e6, 503, 5), null, "the start's 50 rows do not count");
  assert.equal(end(5, 1e6, 503, 50), null, 'not longer than 1 ms');
  assert.deepEqual(end(6, 5e6, 503, 50), { trigger: 'rpc:call: status >= 500 && path != "/health" && rows > 10 && duration > 1ms',
    event: 'rpc:call', pid: 7, tid: 8, timestamp: 5000000n });
  assert.deepEqual(notices, []);
});

test('a span without a condition fires at its start', () => {
  const { feed } = watch('db:*');
  assert.ok(feed(rec(3, 0, ['u64', 1], ['u64', 0], ['u32', 1])));
  assert.equal(feed(rec(4, 5, ['u64', 1])), null);
});

test('a condition naming a field the class lacks is reported once and fires nothing', () => {
  const { feed, notices } = watch('http:*: nosuch > 1');
  assert.equal(feed(rec(2, 1, ['u16', 1], ['string', '/'])), null);
  assert.equal(feed(rec(2, 2, ['u16', 1], ['string', '/'])), null);
  assert.equal(notices.length, 1);
  assert.match(notices[0]!, /trigger 'http:\*: nosuch > 1' does not apply to http:request: .*nosuch/);
});

test('bad rules are refused with the problem named', () => {
  assert.throws(() => parseTrigger('http:request: status >>= 5'), /--trigger 'http:request: status >>= 5'/);
  assert.throws(() => parseTrigger('a b c'), /not an event pattern|expected 'PATTERN'/);
  assert.throws(() => parseTrigger(''), /expected 'PATTERN'|not an event pattern/);
});

test('durations and units: numbers with a unit become ns, strings are left alone', () => {
  assert.equal(parseDurationNs('200ms'), 200e6);
  assert.equal(parseDurationNs('1.5s'), 1.5e9);
  assert.equal(parseDurationNs('250'), 250e6);
  assert.equal(parseDurationNs('40ns'), 40);
  assert.throws(() => parseDurationNs('soon'), /'soon' is not a duration/);
  assert.equal(unitsToNanoseconds('duration > 2ms && path == "5ms"'), 'duration > 2000000 && path == "5ms"');
  assert.equal(unitsToNanoseconds("d >= 1.5s || x == '1s' || y5ms > 1us"), "d >= 1500000000 || x == '1s' || y5ms > 1000");
});
