// Filters on field values in one process (docs/selection.md, docs/filters.md):
// the session's filter is compiled into each class's emit; events it refuses
// are not written, counted as filtered (ringtrace:filtered), never lost; every
// field type, u64 beyond 2^53, strings; a filter that does not fit a class
// disables it with one warning; removing the filter records everything again.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { collect, OwnSession } from '../fixtures/trace-helpers';
import { currentTracer, provider } from '../src/index';
import { publishSelection } from '../src/selection/publish';
import { type Rule, Selection } from '../src/selection/rules';

const { session } = new OwnSession('filter');
const p = provider('flt');
const all = p.event('all', ['a:i8', 'd:i64', 'h:u64', 'j:f64', 'k:bool', 'l:string']);

function select(rules: Rule[]): void {
  publishSelection(session, Selection.ALL.with(rules));
  currentTracer().poll();
}

const records = (cls: string) => collect(session).filter((e) => `${e.cls.provider}:${e.cls.name}` === cls);

test('a filter over every field type records exactly the events it passes, and counts the rest', () => {
  const rows: [number, bigint | number, bigint | number, number, boolean, string][] = [
    [1, -5n, 2n ** 64n - 1n, 0.5, true, '/api/items'],
    [-3, 7, 2 ** 53 + 2, NaN, false, '/health'],
    [100, -(2n ** 63n), 9007199254740993n, 1e300, true, 'héllo ✓'],
    [0, 0, 0, -0, true, '/api/x'],
  ];
  const cases: [string, boolean[]][] = [
    ['a > 0', [true, false, true, false]],
    ['d < 0', [true, false, true, false]],
    ['h > 9007199254740992', [true, true, true, false]], // 2^53: exact beyond it, numbers and bigints
    ['h == 9007199254740993', [false, false, true, false]],
    ['j >= 0.5 || j != j', [true, true, true, false]], // NaN != NaN
    ['k && l ~ "/api/*"', [true, false, false, true]],
    ['l == "héllo ✓" || l == "/health"', [false, true, true, false]],
  ];
  for (const [expression, want] of cases) {
    select([{ kind: 'filter', pattern: 'flt:all', expression }]);
    collect(session);
    for (const r of rows) all.emit(...r);
    currentTracer().reportFiltered();
    const got = collect(session);
    const kept = got.filter((e) => e.cls.name === 'all').map((e) => e.fields['l']);
    assert.deepEqual(kept, rows.filter((_, i) => want[i]).map((r) => r[5]), expression);
    const counted = got.filter((e) => e.cls.name === 'filtered').map((e) => [e.fields['event'], e.fields['count']]);
    const left = want.filter((w) => !w).length;
    assert.deepEqual(counted, left ? [['flt:all', BigInt(left)]] : [], `${expression}: filtered counted`);
  }
  select([{ kind: 'filter', pattern: 'flt:all', expression: '' }]); // an empty expression removes it
  for (const r of rows) all.emit(...r);
  assert.equal(records('flt:all').length, rows.length, 'no filter: everything');
});

test('a filter that does not fit a class disables it with one warning; the others are untouched', async () => {
  const other = p.event('other', ['n:u32']);
  const warnings: string[] = [];
  const listener = (w: Error) => { if (w.name === 'RingtraceWarning') warnings.push(w.message); };
  process.on('warning', listener);
  try {
    select([{ kind: 'filter', pattern: 'flt:*', expression: 'n > 1' }]); // flt:all has no field n
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', listener);
  }
  assert.equal(all.enabled, false);
  assert.equal(other.enabled, true);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /flt:all: bad filter at position 0: unknown field 'n'.*flt:all is not recorded/);
  collect(session);
  other.emit(1);
  other.emit(2);
  currentTracer().reportFiltered();
  assert.deepEqual(collect(session).map((e) => e.fields['n'] ?? e.fields['count']), [2, 1n]);
});

test('a span whose start is filtered out is no span: no begin, no end, counted', () => {
  const req = p.spanType('req', ['status:u16']);
  select([{ kind: 'filter', pattern: 'flt:req', expression: 'status >= 500' }]);
  collect(session);
  req.start(200).end();
  req.start(503).end();
  currentTracer().reportFiltered();
  const got = collect(session);
  assert.deepEqual(got.map((e) => `${e.cls.name}:${e.cls.kind}`), ['req:span_begin', 'req:span_end', 'filtered:event']);
  assert.equal(got[0]!.fields['status'], 503);
  assert.deepEqual([got[2]!.fields['event'], got[2]!.fields['count']], ['flt:req:begin', 1n]);
});
