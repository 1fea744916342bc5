// OpenTelemetry spans (ringtrace/otel) in the exports: Perfetto and Chrome
// show them as slices named after the span, nested by parent, with their
// attributes as annotations, and their events as instants named after the
// event; JSON lines carry every field.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { perfettoPackets, scratchDir, traceConsume as tc } from '../fixtures/cli-helpers';

const app = path.join(__dirname, '..', 'fixtures', 'otel-nested-app.js');
const work = scratchDir('export-otel');
const trace = path.join(work, 'trace');

test.before(() => {
  const r = tc('record', '-q', '-o', trace, '--', process.execPath, app);
  assert.equal(r.status, 0, r.stderr);
});

interface Slice { name: string; cat: string; depth: number; args: Record<string, unknown>; endArgs: Record<string, unknown> }

test('perfetto: otel spans are slices named after the span, nested, with their attributes', () => {
  const out = path.join(work, 'trace.pftrace');
  const r = tc('export', trace, '--format', 'perfetto', '-o', out);
  assert.equal(r.status, 0, r.stderr);
  const packets = perfettoPackets(out);
  const names = new Map<string, string>();
  const cats = new Map<string, string>();
  const keys = new Map<string, string>();
  const stack: Slice[] = [];
  const slices: Slice[] = [];
  const instants: { name: string; depth: number; args: Record<string, unknown> }[] = [];
  for (const p of packets) {
    if (p['track_descriptor']) continue;
    for (const e of p['interned_data']?.event_names ?? []) names.set(e.iid, e.name);
    for (const e of p['interned_data']?.event_categories ?? []) cats.set(e.iid, e.name);
    for (const e of p['interned_data']?.debug_annotation_names ?? []) keys.set(e.iid, e.name);
    const ev = p['track_event'];
    const args: Record<string, unknown> = {};
    for (const a of ev.debug_annotations ?? []) {
      args[keys.get(a.name_iid)!] = a.int_value !== undefined ? Number(a.int_value)
        : a.uint_value !== undefined ? Number(a.uint_value) : a.double_value ?? a.bool_value ?? a.string_value;
    }
    if (ev.type === 'TYPE_SLICE_BEGIN') {
      const s = { name: names.get(ev.name_iid)!, cat: cats.get(ev.category_iids[0])!, depth: stack.length, args,
        endArgs: {} };
      stack.push(s);
      slices.push(s);
    } else if (ev.type === 'TYPE_SLICE_END') {
      stack.pop()!.endArgs = args;
    } else if (ev.type === 'TYPE_INSTANT') {
      instants.push({ name: names.get(ev.name_iid)!, depth: stack.length, args });
    }
  }
  assert.deepEqual(slices.map((s) => [s.name, s.cat, s.depth]), [['GET /items', 'otel', 0], ['db query', 'otel', 1]]);
  const [root, child] = slices;
  assert.equal(root!.args['kind'], 1);
  assert.equal(root!.args['scope'], 'fixture');
  assert.match(root!.args['trace_id'] as string, /^[0-9a-f]{32}$/);
  assert.equal(root!.args['span_name'], undefined, 'the name is the slice name, not repeated');
  assert.deepEqual([root!.endArgs['http.method'], root!.endArgs['http.status_code'], root!.endArgs['ok'],
    root!.endArgs['tags']], ['GET', 200, true, '["a","b"]']);
  assert.equal(child!.endArgs['rows'], 3);
  assert.equal(child!.endArgs['status_code'], 2);
  assert.equal(child!.endArgs['status_message'], 'slow');
  assert.equal(child!.endArgs['events'], undefined, 'events are recorded as they are added, not kept to the end');
  const events = instants.filter((i) => i.name === 'cache miss');
  assert.deepEqual(events.map((i) => [i.depth, i.args['event_name'], i.args['key'], typeof i.args['otel_span']]),
    [[2, undefined, 'k1', 'number']], 'an OpenTelemetry event: an instant named by it inside its span, its attributes');
  assert.deepEqual(instants.filter((i) => i.name === 'mark').map((i) => [i.name, i.depth]), [['mark', 2]],
    'a native event inside the otel span nests under it');
});

test('chrome: B/E named after the span, attributes in args', () => {
  const out = path.join(work, 'trace.json');
  const r = tc('export', trace, '--format', 'chrome', '-o', out);
  assert.equal(r.status, 0, r.stderr);
  const doc = JSON.parse(fs.readFileSync(out, 'utf8')) as { traceEvents: Record<string, any>[] };
  const spans = doc.traceEvents.filter((e) => e['ph'] === 'B' || e['ph'] === 'E');
  assert.deepEqual(spans.map((e) => [e['ph'], e['name']]),
    [['B', 'GET /items'], ['B', 'db query'], ['E', undefined], ['E', undefined]]);
  assert.equal(spans[0]!['cat'], 'otel');
  assert.equal(spans[3]!['args']['http.method'], 'GET');
  assert.equal(spans[2]!['args']['status_message'], 'slow');
  const event = doc.traceEvents.find((e) => e['ph'] === 'i' && e['args']?.['otel_span'] !== undefined)!;
  assert.deepEqual([event['name'], event['args']['key']], ['cache miss', 'k1'], 'an event: an instant named by it');
});

test('JSON lines: the otel records with every field', () => {
  const r = tc('export', trace, '-f', 'jsonl', '-o', '-');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
  const otel = lines.filter((l) => l['provider'] === 'otel');
  assert.deepEqual(otel.map((l) => [l['event'], l['kind']]), [['resource', 'event'], ['span', 'span_begin'],
    ['span', 'span_begin'], ['span_event', 'event'], ['span', 'span_end'], ['span', 'span_end']]);
  const event = otel[3]!['fields'];
  assert.deepEqual([event['otel_span'], event['event_name'], event['key']], [otel[2]!['fields']['span_id'], 'cache miss',
    'k1']);
  const rootEnd = otel[5]!['fields'];
  assert.equal(rootEnd['span_name'], 'GET /items');
  assert.deepEqual(JSON.parse(rootEnd['args']), { 'http.method': 'GET', 'http.status_code': 200, ok: true,
    tags: ['a', 'b'] });
  assert.deepEqual([rootEnd['start_unix_ns'], rootEnd['end_unix_ns']], [0, 0],
    'times the span was not given are left to its records (0)');
  assert.ok(BigInt(otel[5]!['timestamp_ns']) > BigInt(otel[1]!['timestamp_ns']), "the root's end after its begin");
  assert.ok(JSON.parse(otel[0]!['fields']['attributes'])['service.name']);
});
