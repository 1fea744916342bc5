// trace-consume export: Perfetto (decoded with protobufjs and the schema we
// ship), Chrome JSON and JSON lines, checked against a timeline whose shape
// is known (fixtures/emitter.ts, mode 'timeline').
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { emitterPath } from '../fixtures/trace-helpers';
import { perfettoPackets, scratchDir, traceConsume as tc } from '../fixtures/cli-helpers';

const work = scratchDir('export');
const trace = path.join(work, 'trace');

test.before(() => {
  const r = tc('record', '-q', '-o', trace, '--', process.execPath, emitterPath, 'timeline');
  assert.equal(r.status, 0, r.stderr);
});

interface Slice { name: string; track: string; depth: number; args: Record<string, unknown>; endArgs: Record<string, unknown> }

test('perfetto: tracks, nested slices, instants with annotations, counters', () => {
  const out = path.join(work, 'trace.pftrace');
  const r = tc('export', trace, '--format', 'perfetto', '-o', out);
  assert.equal(r.status, 0, r.stderr);
  const packets = perfettoPackets(out);
  const tracks = new Map<string, { name: string; parent?: string; kind: string; pid?: number; tid?: number }>();
  const interned = new Map<number, { names: Map<string, string>; cats: Map<string, string>; keys: Map<string, string> }>();
  const stacks = new Map<string, Slice[]>();
  const slices: Slice[] = [];
  const instants: { name: string; track: string; cat: string; args: Record<string, unknown> }[] = [];
  const counters: { track: string; value: number }[] = [];
  let lastTs = 0n;
  for (const p of packets) {
    const d = p['track_descriptor'];
    if (d) {
      const kind = d.process ? 'process' : d.thread ? 'thread' : d.counter ? 'counter' : 'lane';
      tracks.set(d.uuid, { name: d.process?.process_name ?? d.thread?.thread_name ?? d.name, parent: d.parent_uuid,
        kind, pid: d.process?.pid ?? d.thread?.pid, tid: d.thread?.tid });
      continue;
    }
    const seq = p['trusted_packet_sequence_id'] as number;
    if (p['sequence_flags'] & 1) interned.set(seq, { names: new Map(), cats: new Map(), keys: new Map() });
    const st = interned.get(seq);
    assert.ok(st, 'the first event packet of a sequence clears its incremental state');
    for (const e of p['interned_data']?.event_names ?? []) st.names.set(e.iid, e.name);
    for (const e of p['interned_data']?.event_categories ?? []) st.cats.set(e.iid, e.name);
    for (const e of p['interned_data']?.debug_annotation_names ?? []) st.keys.set(e.iid, e.name);
    const ts = BigInt(p['timestamp']);
    assert.ok(ts >= lastTs, 'packets in time order');
    lastTs = ts;
    const ev = p['track_event'];
    assert.ok(tracks.has(ev.track_uuid), 'the track is described before use');
    const args: Record<string, unknown> = {};
    for (const a of ev.debug_annotations ?? []) {
      const key = st.keys.get(a.name_iid);
      assert.ok(key, `annotation name ${a.name_iid} interned`);
      args[key] = a.int_value !== undefined ? BigInt(a.int_value) : a.uint_value !== undefined ? BigInt(a.uint_value)
        : a.double_value ?? a.bool_value ?? a.string_value;
    }
    const stack = stacks.get(ev.track_uuid) ?? [];
    stacks.set(ev.track_uuid, stack);
    const name = st.names.get(ev.name_iid);
    switch (ev.type) {
      case 'TYPE_SLICE_BEGIN': {
        const s = { name: name!, track: ev.track_uuid, depth: stack.length, args, endArgs: {} };
        stack.push(s);
        slices.push(s);
        break;
      }
      case 'TYPE_SLICE_END': {
        const s = stack.pop();
        assert.ok(s, 'every END closes an open slice on its track');
        s.endArgs = args;
        break;
      }
      case 'TYPE_INSTANT':
        instants.push({ name: name!, track: ev.track_uuid, cat: st.cats.get(ev.category_iids[0])!, args });
        break;
      case 'TYPE_COUNTER':
        counters.push({ track: ev.track_uuid, value: ev.double_counter_value });
        break;
      default: assert.fail(`unexpected type ${ev.type}`);
    }
  }
  for (const s of stacks.values()) assert.equal(s.length, 0, 'every slice ends (unfinished ones at the end)');

  const procs = [...tracks.values()].filter((t) => t.kind === 'process');
  assert.equal(procs.length, 1);
  assert.match(procs[0]!.name, /^emitter\.js \(\d+\)$/);
  const threads = [...tracks.entries()].filter(([, t]) => t.kind === 'thread');
  assert.deepEqual(threads.map(([, t]) => t.name).sort(), ['main', 'worker 1']);
  const mainId = threads.find(([, t]) => t.name === 'main')![0];
  const workerId = threads.find(([, t]) => t.name === 'worker 1')![0];
  const lane = [...tracks.entries()].find(([, t]) => t.kind === 'lane');
  assert.ok(lane && lane[1].parent === mainId && lane[1].name === 'main (async 1)', 'b got a second lane');

  const byName = (n: string) => slices.filter((s) => s.name === n);
  assert.deepEqual(byName('outer').map((s) => [s.track, s.depth, s.args]), [[mainId, 0, { depth: 1n }]]);
  assert.deepEqual(byName('inner').map((s) => [s.track, s.depth, s.args]), [[mainId, 1, { depth: 2n }]]);
  assert.deepEqual(byName('typed').map((s) => [s.track, s.depth, s.args, s.endArgs]),
    [[mainId, 0, { method: 'GET', status: 200n }, {}]], 'a typed span: its fields as typed annotations');
  assert.deepEqual(byName('under').map((s) => s.depth), [1]);
  assert.deepEqual(byName('a').map((s) => [s.track, s.depth]), [[mainId, 0]]);
  assert.deepEqual(byName('b').map((s) => [s.track, s.args, s.endArgs]), [[lane![0], { who: 'b' }, { status: 'done' }]]);
  assert.deepEqual(byName('child').map((s) => [s.depth, s.endArgs]), [[1, { ended_with_parent: true }]],
    'child nested in parent, its forced end marked');
  assert.deepEqual(byName('forgotten').map((s) => [s.depth, s.endArgs]), [[1, { ended_with_parent: true }]],
    'a span never ended is marked where its parent ends it');
  assert.deepEqual(byName('never').map((s) => s.endArgs), [{ unfinished: true }]);
  assert.deepEqual(byName('work').map((s) => s.track), [workerId]);

  const points = instants.filter((i) => i.name === 'point');
  assert.deepEqual(points.map((i) => [i.track, i.cat, i.args]), [
    [mainId, 'fixture', { n: -7n, big: 9223372036854775813n, ok: true, label: 'héllo', x: 0.25 }],
    [workerId, 'fixture', { n: 1n, big: 0n, ok: false, label: '', x: -1.5 }],
  ]);
  assert.ok(instants.some((i) => i.name === 'child (ended after its parent)'));
  const gauge = [...tracks.entries()].find(([, t]) => t.kind === 'counter')!;
  assert.equal(gauge[1].name, 'fixture:gauge');
  assert.deepEqual(counters, [1, 2.5, 3].map((value) => ({ track: gauge[0], value })));
  assert.match(r.stderr, /1 async lanes.*2 spans ended with their parent.*1 spans still open/);
});

test('chrome JSON: metadata, balanced B/E per thread, required fields, sub-microsecond times', () => {
  const out = path.join(work, 'trace.json');
  const r = tc('export', trace, '--format', 'chrome', '-o', out);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(fs.readFileSync(out, 'utf8')) as { traceEvents: Record<string, any>[];
    otherData: { trace_start_epoch_ns: string } };
  assert.match(doc.otherData.trace_start_epoch_ns, /^\d{19}$/);
  const depth = new Map<string, number>();
  const named = new Set<string>();
  for (const e of doc.traceEvents) {
    assert.equal(typeof e['pid'], 'number');
    assert.equal(typeof e['tid'], 'number');
    const key = `${e['pid']}/${e['tid']}`;
    if (e['ph'] === 'M') {
      assert.ok(['process_name', 'thread_name'].includes(e['name']) && typeof e['args'].name === 'string');
      if (e['name'] === 'thread_name') named.add(key);
      continue;
    }
    assert.equal(typeof e['ts'], 'number');
    assert.ok(named.has(key), `thread ${key} is named before its events`);
    if (e['ph'] === 'B' || e['ph'] === 'i' || e['ph'] === 'C') assert.equal(typeof e['name'], 'string');
    if (e['ph'] === 'B') depth.set(key, (depth.get(key) ?? 0) + 1);
    if (e['ph'] === 'E') {
      depth.set(key, (depth.get(key) ?? 0) - 1);
      assert.ok(depth.get(key)! >= 0, `E without B on ${key}`);
    }
  }
  for (const [k, d] of depth) assert.equal(d, 0, `B/E balanced on ${k}`);
  const point = doc.traceEvents.find((e) => e['name'] === 'point' && e['args'].n === -7)!;
  assert.equal(point['ph'], 'i');
  assert.deepEqual(point['args'], { n: -7, big: '9223372036854775813', ok: true, label: 'héllo', x: 0.25 });
  const text = fs.readFileSync(out, 'utf8');
  assert.match(text, /"ts":\d+\.\d{3}[,}]/, 'timestamps keep nanoseconds as three decimals');
  const counters = doc.traceEvents.filter((e) => e['ph'] === 'C').map((e) => e['args'].value);
  assert.deepEqual(counters, [1, 2.5, 3]);
});

test('JSON lines: one object per event with every field; - writes to stdout', () => {
  const r = tc('export', trace, '-f', 'jsonl', '-o', '-');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
  const stats = JSON.parse(tc('stats', trace, '--json').stdout) as { events: number };
  assert.equal(lines.length, stats.events);
  const p = lines.find((l) => l['event'] === 'point' && l['fields'].n === 1)!;
  assert.deepEqual(Object.keys(p), ['timestamp_ns', 'cpu', 'pid', 'tid', 'provider', 'event', 'kind', 'fields']);
  assert.deepEqual(p['fields'], { n: 1, big: 0, ok: false, label: '', x: -1.5 });
  assert.notEqual(p['pid'], p['tid'], 'the worker has its own tid');
  const ts = lines.map((l) => BigInt(l['timestamp_ns']));
  assert.ok(ts.every((t, i) => i === 0 || t >= ts[i - 1]!), 'in time order');
});

test('export errors: unknown format, unwritable output, symlink, not a trace', () => {
  let r = tc('export', trace, '-f', 'svg', '-o', path.join(work, 'x'));
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /argument 'svg' is invalid.*perfetto, chrome, jsonl/);
  r = tc('export', trace, '-f', 'jsonl', '-o', '/nonexistent-dir/out.jsonl');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /cannot write \/nonexistent-dir\/out\.jsonl: its directory does not exist/);
  r = tc('export', trace, '-f', 'chrome', '-o', work);
  assert.match(r.stderr, /cannot write .*: it is a directory/);
  const link = path.join(work, 'link.json');
  const target = path.join(work, 'target.json');
  fs.writeFileSync(target, 'keep');
  fs.symlinkSync(target, link);
  r = tc('export', trace, '-f', 'chrome', '-o', link);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /symbolic link \(not followed\)/);
  assert.equal(fs.readFileSync(target, 'utf8'), 'keep');
  r = tc('export', work, '-f', 'perfetto', '-o', path.join(work, 'y'));
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /not a trace directory/);
  r = tc('export', '--help');
  assert.match(r.stdout, /Examples:/);
});
