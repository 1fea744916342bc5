// The OTLP encoder's pieces checked by decoding with protobufjs and
// proto/otlp.proto: attribute values of every kind and length (one-byte
// lengths widened past 127 bytes), and requests assembled from several
// processes and scopes, sized before they are written.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { ProtoWriter } from '../src/export/protowire';
import { Float, writeKeyValue } from '../src/otlp/anyvalue';
import { SignalBatch } from '../src/otlp/batches';
import { otlpTags } from '../src/otlp/schema';
import { fieldPlan, PlannedFields } from '../src/otlp/field-plan';
import type { ClassDescription, FieldType } from '../src/schema';
import { attrs } from '../fixtures/otlp-view';
import { decodeStrict } from '../fixtures/proto-strict';
import { viewOf } from '../src/trace/le';

const root = new protobuf.Root().loadSync(path.join(__dirname, '..', '..', 'proto', 'otlp.proto'), { keepCase: true });
const decode = (type: string, bytes: Uint8Array) =>
  decodeStrict(root.lookupType(`ringtrace.otlp.${type}`), bytes, { longs: String, arrays: true });
const Resource = root.lookupType('ringtrace.otlp.Resource');
const T = otlpTags();

test('attribute values of every kind, short and long, decode to what was written', () => {
  const long = 'x'.repeat(200);
  const huge = 'é'.repeat(20_000);
  const values: [string, unknown, unknown][] = [
    ['s', 'text é', 'text é'], ['empty', '', ''], ['long', long, long], ['huge', huge, huge],
    ['i', 42, { int: '42' }], ['neg', -7, { int: '-7' }], ['big', 2 ** 53 - 1, { int: String(2 ** 53 - 1) }],
    ['d', 2.5, { double: 2.5 }], ['float2', new Float(2), { double: 2 }], ['nan', NaN, { double: NaN }],
    ['u64', 2n ** 64n - 1n, { int: '-1' }], ['i64', -(2n ** 63n), { int: String(-(2n ** 63n)) }],
    ['t', true, true], ['f', false, false], ['bytes', Buffer.from([0, 1, 255]), { bytes: '0001ff' }],
    ['arr', ['a', 1, 1.5, false, [long]], ['a', { int: '1' }, { double: 1.5 }, false, [long]]],
    ['obj', { k: 'v', n: { m: 3 } }, { k: 'v', n: { m: { int: '3' } } }], ['nul', null, null],
  ];
  for (let pad = 0; pad < 3; pad++) { // lengths right at the one-byte limit
    const s = 'y'.repeat(120 + pad * 4);
    values.push([`edge${pad}`, s, s]);
  }
  const w = new ProtoWriter(16);
  for (const [k, v] of values) writeKeyValue(w, T, T.resource.attributes, k, v);
  const got = attrs(decode('Resource', w.buf.subarray(0, w.pos))['attributes']);
  assert.deepEqual(Object.keys(got), values.map(([k]) => k));
  for (const [k, , want] of values) assert.deepEqual(got[k], want, k);
});

test('a batch of several processes and scopes is one request; sizes exact; the batch empties; spare memory reused', () => {
  const resources = new Map<number, [string, unknown][]>([[1, [['service.name', 'a']]], [2, [['service.name', 'b'],
    ['long', 'z'.repeat(300)]]]]);
  const batch = new SignalBatch('traces', T);
  const put = (pid: number, scope: string, name: string) => {
    const w = batch.writer(pid, scope);
    w.varint(T.scopeSpans.spans);
    const m = w.begin();
    w.varint(T.span.name);
    w.string(name);
    w.end(m);
    batch.added();
  };
  for (let i = 0; i < 300; i++) put(1 + (i % 2), i % 3 ? 'http' : 'db', `span ${i} ${'n'.repeat(i)}`);
  assert.equal(batch.items, 300);
  const req = decode('ExportTraceServiceRequest', batch.take((pid) => resources.get(pid)!));
  const seen: string[] = [];
  for (const rs of req['resource_spans']) {
    const service = attrs(rs.resource.attributes)['service.name'];
    for (const ss of rs.scope_spans) for (const s of ss.spans) seen.push(`${service}/${ss.scope.name}/${s.name}`);
  }
  const want = Array.from({ length: 300 }, (_, i) => `${i % 2 ? 'b' : 'a'}/${i % 3 ? 'http' : 'db'}/span ${i} ${'n'.repeat(i)}`);
  assert.deepEqual(seen.sort(), want.sort());
  assert.equal(batch.items, 0);
  put(2, 'db', 'again');
  const spare = new Uint8Array(1 << 16).fill(0xff).buffer; // an earlier body's memory: bytes past this one's are not its
  const asked: number[] = [];
  const body = batch.take((pid) => resources.get(pid)!, (bytes) => (asked.push(bytes), spare));
  assert.ok(body.buffer === spare && body.byteOffset === 0, 'made at the start of the spare buffer');
  assert.deepEqual(asked, [body.length], 'asked for its exact size');
  const next = decode('ExportTraceServiceRequest', body);
  assert.equal(next['resource_spans'].length, 1);
  assert.equal(next['resource_spans'][0].scope_spans[0].spans[0].name, 'again');
});

test('gauge points are grouped under their metric, per process and scope', () => {
  const batch = new SignalBatch('metrics', T);
  for (let i = 0; i < 10; i++) {
    const w = batch.writer(7, 'node.runtime', i % 2 ? 'node.runtime.rss_bytes' : 'node.runtime.heap_used_bytes');
    w.varint(T.gauge.data_points);
    const m = w.begin();
    w.varint(T.point.as_double);
    w.double(i);
    w.end(m);
    batch.added();
  }
  const req = decode('ExportMetricsServiceRequest', batch.take(() => [['service.name', 'x']]));
  const metrics = req['resource_metrics'][0].scope_metrics[0].metrics;
  assert.deepEqual(metrics.map((m: { name: string; gauge: { data_points: { as_double: number }[] } }) =>
    [m.name, m.gauge.data_points.map((p) => p.as_double)]).sort(),
  [['node.runtime.heap_used_bytes', [0, 2, 4, 6, 8]], ['node.runtime.rss_bytes', [1, 3, 5, 7, 9]]]);
});

type PlannedCase = [string, FieldType, unknown, unknown]; // name, type, value written, value decoded

test('typed fields written straight from record bytes decode to their values: every type, non-ASCII, long', () => {
  const long = 'L'.repeat(300);
  const all: PlannedCase[] = [
    ['u8', 'u8', 255, { int: '255' }], ['i8', 'i8', -128, { int: '-128' }], ['b', 'bool', true, true],
    ['u16', 'u16', 65535, { int: '65535' }], ['i16', 'i16', -2, { int: '-2' }],
    ['u32', 'u32', 4294967295, { int: '4294967295' }], ['i32', 'i32', -7, { int: '-7' }],
    ['f32', 'f32', 1.5, { double: 1.5 }], ['f64', 'f64', 2, { double: 2 }],
    ['u64', 'u64', 2n ** 64n - 1n, { int: '-1' }], ['i64', 'i64', -(2n ** 40n), { int: String(-(2n ** 40n)) }],
    ['s', 'string', 'plain', 'plain'], ['e', 'string', '', ''], ['accent', 'string', 'é ü ✓', 'é ü ✓'],
    ['long', 'string', long, long], ['raw', 'bytes', Buffer.from([0, 255, 7]), { bytes: '00ff07' }],
    ['bad', 'string', Buffer.from([0xff, 0x41]), '\ufffdA'], // invalid UTF-8 (a C producer's): as every reader shows it
  ];
  // With bytes, the general loop writes every field; without, the generated writer starts and hands
  // the record to the loop at the first long or non-ASCII string; with only short ASCII strings it
  // writes the whole record.
  checkPlanned(all, true);
  checkPlanned(all.filter(([, type]) => type !== 'bytes'), true);
  checkPlanned(all.filter(([name, type]) => type !== 'bytes' && !['accent', 'long', 'bad'].includes(name)), false);
  checkPlanned(all.filter(([name]) => name === 'u8' || name === 'bad'), true); // invalid UTF-8 met by the generated writer
  for (let n = 0; n <= 13; n++) { // strings copied by words, then bytes: every tail length, last field or not
    const s = 'abcdefghijklm'.slice(0, n);
    checkPlanned([['s', 'string', s, s], ['u8', 'u8', 7, { int: '7' }]], false, true);
    checkPlanned([['u8', 'u8', 7, { int: '7' }], ['s', 'string', s, s]], false, true);
    const late = `${s}\u00e9`; // non-ASCII after whole words: the generated writer gives the record up to the loop
    checkPlanned([['s', 'string', late, late], ['t', 'string', s, s]], false);
    for (const odd of [0x80, 0xff]) { // invalid UTF-8 inside a word, or after (0x80: the one top bit x - 0x01010101 misses)
      const bad = Buffer.concat([Buffer.from(s), Buffer.from([odd, 0x41])]);
      checkPlanned([['bad', 'string', bad, `${s}\ufffdA`], ['t', 'string', s, s]], true);
    }
  }
  for (let n = 110; n <= 130; n++) { // ASCII met by the generated writer: its KeyValues stop at 127 bytes (n = 117)
    const s = 'x'.repeat(n);
    checkPlanned([['u8', 'u8', 1, { int: '1' }], ['long', 'string', s, s], ['after', 'string', 'a', 'a']], false);
  }
});

/**
 * `fields` written from a record's bytes decode to their values. `generated`: the generated writer
 * takes the record itself (else it may hand it to write()'s loop); either way both write the same bytes.
 */
function checkPlanned(fields: PlannedCase[], badUtf8: boolean, generated = false): void {
  const parts: Buffer[] = [Buffer.alloc(8)]; // pid, tid
  for (const [, type, v] of fields) {
    const b = Buffer.alloc(type === 'string' ? Buffer.byteLength(v as string | Buffer) + 1
      : type === 'bytes' ? 4 + (v as Buffer).length : 8);
    switch (type) {
      case 'u8': b.writeUInt8(v as number); parts.push(b.subarray(0, 1)); break;
      case 'i8': b.writeInt8(v as number); parts.push(b.subarray(0, 1)); break;
      case 'bool': b.writeUInt8(v ? 1 : 0); parts.push(b.subarray(0, 1)); break;
      case 'u16': b.writeUInt16LE(v as number); parts.push(b.subarray(0, 2)); break;
      case 'i16': b.writeInt16LE(v as number); parts.push(b.subarray(0, 2)); break;
      case 'u32': b.writeUInt32LE(v as number); parts.push(b.subarray(0, 4)); break;
      case 'i32': b.writeInt32LE(v as number); parts.push(b.subarray(0, 4)); break;
      case 'f32': b.writeFloatLE(v as number); parts.push(b.subarray(0, 4)); break;
      case 'f64': b.writeDoubleLE(v as number); parts.push(b); break;
      case 'u64': b.writeBigUInt64LE(v as bigint); parts.push(b); break;
      case 'i64': b.writeBigInt64LE(v as bigint); parts.push(b); break;
      case 'string': (Buffer.isBuffer(v) ? v : Buffer.from(v as string)).copy(b); parts.push(b); break;
      default: b.writeUInt32LE((v as Buffer).length); (v as Buffer).copy(b, 4); parts.push(b);
    }
  }
  const record = Buffer.concat(parts);
  const cls: ClassDescription = { v: 1, provider: 'p', name: 'all', kind: 'event',
    fields: fields.map(([name, type]) => ({ name, type })) };
  const plan = fieldPlan(cls, 0, T)!;
  const writer = new PlannedFields(T);
  for (const start of [0, 1]) { // from an empty writer, and after a byte (lengths not at offset 0)
    const w = new ProtoWriter(8);
    w.pos = start;
    assert.equal(writer.write(w, T.resource.attributes, plan, record, viewOf(record), 8, record.length), true);
    const written = w.buf.subarray(start, w.pos);
    // Byte for byte what protobufjs writes for what it reads back (every length a minimal varint, fields in order):
    // beyond decode's strict walk, no length padded
    assert.equal(Buffer.from(Resource.encode(Resource.decode(written)).finish()).toString('hex'),
      Buffer.from(written).toString('hex'));
    const tpl = plan.byTag.get(T.resource.attributes)!;
    const fast = tpl.fast!;
    if (generated) {
      const out = new ProtoWriter(1024);
      assert.ok(fast(out.buf, out.view, 0, record, viewOf(record), 8, record.length) >= 0, 'the generated writer took it');
    }
    tpl.fast = null; // write()'s own loop
    const loop = new ProtoWriter(8);
    loop.pos = start;
    writer.write(loop, T.resource.attributes, plan, record, viewOf(record), 8, record.length);
    tpl.fast = fast;
    assert.equal(Buffer.from(written).toString('hex'), Buffer.from(loop.buf.subarray(start, loop.pos)).toString('hex'),
      'the generated writer and the loop write the same bytes');
    const got = attrs(decode('Resource', written)['attributes']);
    assert.deepEqual(Object.keys(got), fields.map(([name]) => name));
    for (const [name, , , want] of fields) assert.deepEqual(got[name], want, name);
    if (!badUtf8) continue;
    const bytes = Buffer.from(w.buf.subarray(start, w.pos)); // protobufjs itself reads bad UTF-8 leniently
    assert.ok(bytes.includes(Buffer.from('\ufffdA')) && !bytes.includes(Buffer.from([0xff, 0x41])),
      'what is sent is valid UTF-8 (a collector refuses a request holding invalid UTF-8)');
  }
  assert.equal(writer.write(new ProtoWriter(8), T.resource.attributes, plan, record, viewOf(record), 8, record.length - 2), false,
    'a record cut short is refused, not read past');
}
