// Round trips through a real session from JavaScript: create/open, emit raw
// records, consume, compare; errors for bad names and missing sessions; a
// worker thread writing into the same rings.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { Session } from '../src/session';

let counter = 0;
function uniqueName(tag: string): string {
  return `jstest-${tag}-${process.pid}-${counter++}`;
}

function payloadFor(i: number): Buffer {
  const b = Buffer.alloc(8 + (i % 13));
  b.writeUInt32LE(i, 0);
  b.writeUInt32LE(~i >>> 0, 4);
  b.fill(i & 0xff, 8);
  return b;
}

test('create, emit, consume: every record back intact and in timestamp order per ring', () => {
  const name = uniqueName('rt');
  const s = Session.create(name, { subBufferSize: 8192, subBuffers: 8 });
  try {
    Session.unlink(name);
    assert.equal(s.info.subSize, 8192);
    assert.equal(s.info.nRings, 2 * s.info.nCpus);
    const consumer = s.consumer();
    const seen = new Map<number, Buffer>();
    const lastTs = new Map<number, bigint>();
    const take = (flush: boolean) => {
      for (const r of consumer.drain(flush)) {
        assert.equal(r.id, 9);
        const i = r.payload.readUInt32LE(0);
        assert.ok(!seen.has(i), `record ${i} delivered twice`);
        seen.set(i, Buffer.from(r.payload));
        assert.ok(r.timestamp >= (lastTs.get(r.ring) ?? 0n), 'timestamps never decrease in a ring');
        lastTs.set(r.ring, r.timestamp);
      }
    };
    for (let i = 0; i < 5000; i++) {
      assert.ok(s.emitRaw(9, payloadFor(i)));
      if (i % 50 === 0) take(false);
    }
    take(true);
    assert.equal(s.lostEvents(), 0);
    assert.equal(seen.size, 5000);
    for (const [i, p] of seen) assert.deepEqual(p, payloadFor(i));
  } finally {
    s.close();
  }
});

test('open validates and attaches to the same rings', () => {
  const name = uniqueName('open');
  const a = Session.create(name, { subBufferSize: 4096, subBuffers: 4 });
  try {
    const b = Session.open(name);
    assert.equal(b.info.uuid, a.info.uuid);
    b.emitRaw(1, Buffer.from('from b'));
    const got = [...a.consumer().drain(true)];
    assert.equal(got.length, 1);
    assert.equal(got[0]!.payload.toString(), 'from b');
    b.close();
  } finally {
    a.close();
    Session.unlink(name);
  }
});

test('clear errors: missing session, existing session, bad names, closed handle', () => {
  assert.throws(() => Session.open('no-such-session-' + process.pid),
    /no session 'no-such-session-\d+' \(\/dev\/shm\/ringtrace-\d+-no-such-session-\d+ does not exist\)/);
  for (const bad of ['', '../etc', 'a/b', '.hidden', 'x'.repeat(100)]) {
    assert.throws(() => Session.create(bad), /session name/, `name ${JSON.stringify(bad)}`);
  }
  const name = uniqueName('dup');
  const s = Session.create(name, { subBufferSize: 4096, subBuffers: 2 });
  try {
    assert.throws(() => Session.create(name), /already exists/);
    assert.throws(() => Session.create(uniqueName('geom'), { subBufferSize: 5000 }), /power of two/);
  } finally {
    s.close();
    Session.unlink(name);
  }
  assert.throws(() => s.emitRaw(1, Buffer.alloc(1)), /closed/);
});

test('oversized and ring-full events are dropped and counted, never silently', () => {
  const name = uniqueName('full');
  const s = Session.create(name, { subBufferSize: 4096, subBuffers: 2 });
  try {
    Session.unlink(name);
    assert.equal(s.emitRaw(1, Buffer.alloc(s.info.maxPayload + 1)), false);
    let ok = 0;
    for (let i = 0; i < 1000; i++) if (s.emitRaw(1, Buffer.alloc(24))) ok++;
    const delivered = [...s.consumer().drain(true)].length;
    assert.equal(delivered, ok);
    assert.equal(s.lostEvents(), 1000 - ok + 1);
    assert.ok(s.lostEvents() > 1);
  } finally {
    s.close();
  }
});

test('a worker thread writes into the same session', async () => {
  const name = uniqueName('worker');
  const s = Session.create(name, { subBufferSize: 65536, subBuffers: 4 });
  try {
    const code = `
      const { Session } = require(${JSON.stringify(require.resolve('../src/session'))});
      const { workerData } = require('node:worker_threads');
      const w = Session.open(workerData.name);
      for (let i = 0; i < 1000; i++) {
        const b = Buffer.alloc(4); b.writeUInt32LE(i); w.emitRaw(2, b);
      }
      w.close();`;
    await new Promise<void>((resolve, reject) => {
      const worker = new Worker(code, { eval: true, workerData: { name } });
      worker.on('error', reject);
      worker.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`worker exit ${c}`))));
    });
    const got = [...s.consumer().drain(true)].filter((r) => r.id === 2).map((r) => r.payload.readUInt32LE(0));
    assert.equal(got.length, 1000);
    assert.deepEqual([...new Set(got)].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  } finally {
    s.close();
    Session.unlink(name);
  }
});

test('the atomic fallback delivers the same records', () => {
  const name = uniqueName('fallback');
  const s = Session.create(name, { subBufferSize: 8192, subBuffers: 4 });
  try {
    Session.unlink(name);
    assert.equal(s.setRseq(false), false);
    for (let i = 0; i < 500; i++) s.emitRaw(3, payloadFor(i));
    const got = [...s.consumer().drain(true)];
    assert.equal(got.length, 500);
    assert.ok(got.every((r) => r.ring >= s.info.nCpus), 'only atomic rings are used');
  } finally {
    s.close();
  }
});

test('discard releases without decoding and counts the records it released', () => {
  const name = uniqueName('discard');
  const s = Session.create(name, { subBufferSize: 8192, subBuffers: 8 });
  try {
    Session.unlink(name);
    const consumer = s.consumer();
    for (let i = 0; i < 700; i++) assert.ok(s.emitRaw(9, payloadFor(i)));
    const first = consumer.discard(true);
    assert.equal(first.records, 700);
    assert.ok(first.bytes >= 700 * 24, `${first.bytes} bytes`);
    for (let i = 0; i < 3; i++) s.emitRaw(9, payloadFor(i));
    assert.deepEqual(consumer.discard(true).records, 3, 'only what came since');
    assert.equal(consumer.discard(true).records, 0);
  } finally {
    s.close();
  }
});
