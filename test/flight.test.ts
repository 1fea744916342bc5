// Overwrite-mode sessions from JavaScript (the flight recorder's mechanism):
// creating one, rings that wrap and count what they overwrite, snapshots whose
// packets a TraceWriter writes as it writes a drained session, and a peeker
// following the rings.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Session } from '../src/session';
import type { PacketSource } from '../src/snapshot';
import { records } from '../src/records';
import { openTrace, packets } from '../src/trace/reader';
import { TraceWriter } from '../src/trace/writer';

let counter = 0;
function uniqueName(tag: string): string {
  return `jstest-${tag}-${process.pid}-${counter++}`;
}

/** An overwrite-mode session of small rings (4 KiB x 4), removed when done. */
function withSession(tag: string, fn: (s: Session) => void, mode: 'discard' | 'overwrite' = 'overwrite'): void {
  const name = uniqueName(tag);
  const s = Session.create(name, { subBufferSize: 4096, subBuffers: 4, mode });
  try {
    fn(s);
  } finally {
    s.remove();
    s.close();
  }
}

/** A class the trace writer can describe; returns its id. */
function registerSeq(s: Session): number {
  return s.registerClass(JSON.stringify({ v: 1, provider: 'flight', name: 'seq', kind: 'event',
    fields: [{ name: 'n', type: 'u64' }, { name: 'check', type: 'u32' }] }));
}

function payload(n: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeBigUInt64LE(BigInt(n), 0);
  b.writeUInt32LE((n * 2654435761) >>> 0, 8);
  return b;
}

/**
 * Runs `fn` on a fresh overwrite-mode session until it returns true: it returns false when this
 * thread's records landed on more than one ring (the thread moved to another CPU meanwhile, which
 * the checks of one ring's order cannot allow for; rare, so a few tries suffice).
 */
function onOneRing(tag: string, fn: (s: Session) => boolean): void {
  for (let attempt = 0; attempt < 5; attempt++) {
    let done = false;
    withSession(tag, (s) => {
      done = fn(s);
    });
    if (done) return;
  }
  assert.fail('this thread changed CPUs in every attempt');
}

/** Emits n numbered records from this thread; returns the rings they went to. */
function emitNumbered(s: Session, id: number, from: number, n: number): Set<number> {
  for (let i = from; i < from + n; i++) assert.ok(s.emitRaw(id, payload(i)), `record ${i} dropped`);
  const rings = new Set<number>();
  for (let ring = 0; ring < s.info.nRings; ring++) if (s.ringWritten(ring)) rings.add(ring);
  return rings;
}

test('Session.create with mode overwrite: the rings wrap, counting what they overwrite; reading them is not consuming', () => {
  withSession('ow', (s) => {
    assert.equal(s.info.mode, 'overwrite');
    const id = registerSeq(s);
    const total = 2000; // ~20 sub-buffers of 40-byte records into 4 of them
    const rings = emitNumbered(s, id, 0, total);
    let overwritten = 0;
    let held = 0;
    const snap = s.snapshot();
    try {
      for (const ring of rings) {
        const st = s.ringStats(ring);
        assert.equal(st.lost, 0);
        overwritten += st.overwrittenRecords;
        held += [...snap.records(ring)].length;
        assert.equal(st.overwrittenBytes, st.overwrittenRecords * 32, 'bytes of 32-byte records');
      }
    } finally {
      snap.close();
    }
    assert.ok(overwritten > 0, 'the rings wrapped');
    assert.equal(held + overwritten, total, 'emitted == in the rings + overwritten');
    assert.throws(() => [...s.consumer().drain(true)], /overwrite mode/);
  });
  withSession('dflt', (s) => assert.equal(s.info.mode, 'discard'), 'discard');
  const name = uniqueName('badmode');
  assert.throws(() => Session.create(name, { mode: 'ring' as 'discard' }), /mode must be 'discard' or 'overwrite'/);
});

test('snapshot: the newest records, consecutive packets that TraceWriter writes as it writes consumed ones', () => {
  onOneRing('snap', (s) => {
    const id = registerSeq(s);
    const total = 1000;
    const rings = emitNumbered(s, id, 0, total);
    if (rings.size !== 1) return false;
    const ring = [...rings][0]!;
    const snap = s.snapshot();
    const facts = snap.ring(ring);
    assert.equal(facts.torn, 0);
    assert.equal(facts.openSkipped, 0);
    assert.ok(facts.packets >= 3 && facts.packets <= 4, `packets: ${facts.packets}`);
    const got = [...snap.records(ring)].map((r) => Number(r.payload.readBigUInt64LE(0)));
    assert.equal(got.at(-1), total - 1, 'ends at the newest record');
    got.forEach((n, i) => assert.equal(n, got[0]! + i, 'a contiguous run'));
    assert.equal(got.length + facts.overwrittenRecords, total);
    assert.equal(facts.bytes, got.length * 32);

    // The trace writer, its packet source swapped for the snapshot.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringtrace-flight-'));
    try {
      const out = path.join(dir, 'trace');
      fs.mkdirSync(out, { mode: 0o700 });
      const source: PacketSource = snap;
      const writer = new TraceWriter(out, s, undefined, { writePacket: source.writePacket.bind(snap),
        ringStats: (r) => s.ringStats(r) });
      const totals = writer.finish();
      assert.equal(totals.events, got.length);
      assert.equal(snap.writePacket(ring, true, new Uint8Array(1), 0, 0, 0n, true, 0), null, 'all handed out');
      const trace = openTrace(out);
      assert.deepEqual(trace.streams, [`stream_cpu${ring}`]);
      const written: number[] = [];
      let seq = -1;
      for (const { info, data } of packets(path.join(out, trace.streams[0]!))) {
        // content ends at the last record's bytes; its alignment padding follows
        for (const r of records(data.subarray(88, Math.ceil(info.contentSize / 8) * 8), 88, 'packet')) {
          assert.equal(r.id, id);
          written.push(Number(r.payload.readBigUInt64LE(0)));
        }
        const n = data.readBigUInt64LE(64);
        assert.equal(Number(n), seq + 1, 'packet sequence numbers consecutive');
        seq = Number(n);
      }
      assert.deepEqual(written, got, 'the trace holds the snapshot, record for record');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      snap.close();
    }
    assert.throws(() => snap.ring(ring), /snapshot is closed/);
    return true;
  });
});

test('peeker: records as they are committed, once each; what was overwritten unseen is skipped and counted', () => {
  onOneRing('peek', (s) => {
    const id = registerSeq(s);
    const peeker = s.peeker();
    const seen: number[] = [];
    const take = (ring: number) => {
      for (let recs = peeker.next(ring); recs; recs = peeker.next(ring)) {
        for (const r of recs) seen.push(Number(r.payload.readBigUInt64LE(0)));
      }
    };
    const first = emitNumbered(s, id, 0, 10);
    if (first.size !== 1) return false;
    const ring = [...first][0]!;
    take(ring);
    assert.deepEqual(seen, [...Array(10).keys()]);
    if (emitNumbered(s, id, 10, 150).size !== 1) return false;
    take(ring);
    assert.deepEqual(seen, [...Array(160).keys()], 'across a sub-buffer boundary, once each');
    assert.equal(peeker.skipped(ring), 0);
    if (emitNumbered(s, id, 160, 1000).size !== 1) return false; // laps while nobody looks
    take(ring);
    assert.ok(peeker.skipped(ring) > 0, 'skipped what was overwritten');
    assert.equal(seen.at(-1), 1159);
    const tail = seen.slice(160);
    tail.forEach((n, i) => assert.equal(n, tail[0]! + i, 'then a contiguous run to the newest'));
    assert.equal(peeker.next(ring), null, 'nothing new');
    return true;
  });
});
