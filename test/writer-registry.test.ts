// The recorder and classes registered while it writes: when a packet holds a
// class it does not know, it reads the registry again and retries; the retry
// takes the ring's committed data anew, which may by then hold records of a
// class registered after that read. Such records are written, not dropped:
// only ids the registry does not describe after a fresh read are left out.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Session } from '../src/session';
import { TraceWriter, type WriterSource } from '../src/trace/writer';
import { scratchDir } from '../fixtures/cli-helpers';
import { uniqueName } from '../fixtures/trace-helpers';

const describe = (name: string) => JSON.stringify({ v: 1, provider: 'late', name, kind: 'event',
  fields: [{ name: 'n', type: 'u32' }] });

test('a class registered between the registry read and the retry: its records are written, not dropped', () => {
  const work = scratchDir('writer-registry');
  for (let attempt = 0; ; attempt++) { // the records must share a ring: this thread may change CPUs meanwhile
    const s = Session.create(uniqueName('late'), { subBufferSize: 1 << 16, subBuffers: 8 });
    try {
      const consumer = s.consumer();
      let calls = 0;
      const flags: boolean[] = [];
      const source: WriterSource = {
        writePacket: (ring, flush, known, seq, extra, prevEnd, dropUnknown, fd) => {
          flags.push(dropUnknown);
          if (++calls === 2) { // after the writer re-read the registry for class a: an app registers b and uses it
            const b = s.registerClass(describe('b'));
            assert.ok(s.emitRaw(b, Buffer.from([2, 0, 0, 0])));
          }
          return consumer.writePacket(ring, flush, known, seq, extra, prevEnd, dropUnknown, fd);
        },
        ringStats: (ring) => s.ringStats(ring),
      };
      const out = path.join(work, `trace${attempt}`);
      fs.mkdirSync(out, { mode: 0o700 });
      const writer = new TraceWriter(out, s, undefined, source); // its registry read: no class yet
      const a = s.registerClass(describe('a'));
      assert.ok(s.emitRaw(a, Buffer.from([1, 0, 0, 0])));
      const totals = writer.finish();
      const rings = [...Array(s.info.nRings).keys()].filter((r) => s.ringWritten(r));
      if (rings.length > 1 && attempt < 5) continue;
      assert.deepEqual(flags.slice(0, 3), [false, false, false], 'no retry drops what a fresh read describes');
      assert.equal(totals.droppedUnknown, 0);
      assert.equal(totals.events, 2);
      return;
    } finally {
      s.remove();
      s.close();
    }
  }
});
