// The Perfetto export encodes events straight from their record bytes
// (src/export/perfetto.ts, planned path) and comes back to decoded values
// for what a plan does not cover. Every field type, at its edge values and
// with awkward strings, must come out as the annotation the decoded value
// gives: checked against `view --json` for the same trace.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { emitterPath } from '../fixtures/trace-helpers';
import { perfettoPackets, scratchDir, traceConsume as tc } from '../fixtures/cli-helpers';

const work = scratchDir('pf-values');

type Annotation = Record<string, unknown>;
interface Instant { name: string; args: Record<string, Annotation> }

/** Instants of a Perfetto trace with their annotations by name, in order. */
function instants(file: string): Instant[] {
  const packets = perfettoPackets(file, true);
  const names = new Map<number, Map<string, string>>();
  const keys = new Map<number, Map<string, string>>();
  const out: Instant[] = [];
  for (const p of packets) {
    const seq = p['trusted_packet_sequence_id'] as number;
    if (p['sequence_flags'] & 1) {
      names.set(seq, new Map());
      keys.set(seq, new Map());
    }
    for (const e of p['interned_data']?.event_names ?? []) names.get(seq)!.set(e.iid, e.name);
    for (const e of p['interned_data']?.debug_annotation_names ?? []) keys.get(seq)!.set(e.iid, e.name);
    const ev = p['track_event'];
    if (!ev || ev.type !== 'TYPE_INSTANT') continue;
    const args: Record<string, Annotation> = {};
    for (const a of ev.debug_annotations ?? []) args[keys.get(seq)!.get(a.name_iid)!] = a;
    out.push({ name: names.get(seq)!.get(ev.name_iid)!, args });
  }
  return out;
}

/** The annotation a field's JSON lines value must have become. */
function expected(type: string, v: unknown): Annotation {
  if (type === 'bool') return { bool_value: v };
  if (type === 'string') return { string_value: v };
  if (type === 'bytes') return { string_value: v }; // hex in both
  if (type === 'f32' || type === 'f64') {
    return { double_value: typeof v === 'string' ? Number(v) : v }; // NaN and infinities are strings in JSON lines
  }
  const big = BigInt(v as number | string);
  return big >= 2n ** 63n ? { uint_value: String(big) } : { int_value: String(big) };
}

function same(a: Annotation, want: Annotation, what: string): void {
  const [k, v] = Object.entries(want)[0]!;
  const got = a[k];
  if (typeof v === 'number') assert.ok(Object.is(got, v) || (v === 0 && got === 0), `${what}: ${k} ${String(got)} vs ${v}`);
  else assert.equal(got, v, `${what}: ${k}`);
  const others = Object.keys(a).filter((x) => x !== 'name_iid' && x !== k);
  assert.deepEqual(others, [], `${what}: only ${k} is set`);
}

for (const mode of ['types', 'awkward']) {
  test(`perfetto annotations equal the decoded values: ${mode}`, () => {
    const dir = path.join(work, mode);
    const r = tc('record', '-q', '-o', dir, '--', process.execPath, emitterPath, mode);
    assert.equal(r.status, 0, r.stderr);
    const out = path.join(work, `${mode}.pftrace`);
    const e = tc('export', dir, '-f', 'perfetto', '-o', out);
    assert.equal(e.status, 0, e.stderr);
    const lines = tc('view', dir, '--json').stdout.trim().split('\n')
      .map((l) => JSON.parse(l) as { event: string; fields: Record<string, unknown> });
    const got = instants(out);
    assert.equal(got.length, lines.length, 'one instant per event');
    const classes = fs.readFileSync(path.join(dir, '.classes'), 'utf8').trim().split('\n')
      .map((l) => JSON.parse(l.slice(l.indexOf(' ') + 1)) as { name: string; fields: { name: string; type: string }[] });
    lines.forEach((line, i) => {
      const cls = classes.find((c) => c.name === line.event)!;
      assert.equal(got[i]!.name, line.event);
      for (const f of cls.fields) {
        const a = got[i]!.args[f.name];
        assert.ok(a, `event ${i}: annotation ${f.name}`);
        same(a, expected(f.type, line.fields[f.name]), `event ${i} field ${f.name} (${f.type})`);
      }
    });
  });
}
