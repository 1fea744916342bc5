// The instrumentation API in one process: every field type round-trips through
// a real session (emit, consume, decode, compare), edge values, wrong values and
// schemas, spans and counters.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { collect, OwnSession } from '../fixtures/trace-helpers';
import { configure, provider, currentTracer } from '../src/index';

const { session } = new OwnSession('api');

const p = provider('api');
const all = p.event('all', ['a:i8', 'b:i16', 'c:i32', 'd:i64', 'e:u8', 'f:u16', 'g:u32', 'h:u64',
  'i:f32', 'j:f64', 'k:bool', 'l:string', 'm:bytes']);

test('events are enabled once the session exists', () => {
  assert.equal(currentTracer().attached, true);
  assert.equal(all.enabled, true);
  assert.ok(all.id >= 16, `class id ${all.id}`);
  collect(session);
});

test('every type round-trips with typical and edge values', () => {
  const rows: Parameters<typeof all.emit>[] = [
    [1, 2, 3, 4, 5, 6, 7, 8, 1.5, 2.25, true, 'hello', Buffer.from([1, 2, 3])],
    [-128, -32768, -(2 ** 31), -(2n ** 63n), 0, 0, 0, 0n, -0, -0, false, '', new Uint8Array(0)],
    [127, 32767, 2 ** 31 - 1, 2n ** 63n - 1n, 255, 65535, 2 ** 32 - 1, 2n ** 64n - 1n,
      Infinity, NaN, true, 'héllo wörld ✓ 日本語 🎉', new Uint8Array(300).fill(0xab)],
    [0, 0, 0, -(2 ** 53), 0, 0, 0, 2 ** 64 - 2048, -Infinity, Number.MAX_VALUE, false,
      'x'.repeat(1024), Buffer.alloc(0)],
    [0, 0, 0, -1, 0, 0, 0, 2 ** 53 + 2, 3.4028234663852886e38, Number.MIN_VALUE, true, 'tab\there', Buffer.from('z')],
  ];
  for (const r of rows) all.emit(...r);
  const got = collect(session).filter((e) => e.id === all.id);
  assert.equal(got.length, rows.length);
  rows.forEach((r, k) => {
    const f = got[k]!.fields;
    const [a, b, c, d, e, ff, g, h, i, j, kk, l, m] = r;
    assert.deepEqual([f['a'], f['b'], f['c'], f['e'], f['f'], f['g']], [a, b, c, e, ff, g], `row ${k} ints`);
    assert.equal(f['d'], BigInt(d), `row ${k} i64`);
    assert.equal(f['h'], BigInt(h), `row ${k} u64`);
    assert.ok(Object.is(f['i'], Math.fround(i)), `row ${k} f32 ${String(f['i'])} vs ${i}`);
    assert.ok(Object.is(f['j'], j), `row ${k} f64 ${String(f['j'])} vs ${j}`);
    assert.equal(f['k'], kk);
    assert.equal(f['l'], l);
    assert.deepEqual([...(f['m'] as Buffer)], [...m]);
    assert.equal(got[k]!.pid, process.pid);
  });
});

test('strings: truncation is visible, NUL is replaced, long non-ASCII is cut on a character', () => {
  const short = p.event('short', ['s:string'], { maxStringBytes: 8 });
  short.emit('12345678');       // fits exactly
  short.emit('123456789');      // cut: 5 bytes + '…'
  short.emit('a\0b');           // NUL would end the string: U+FFFD
  short.emit('ééééé');          // 10 bytes: cut after 2 whole 'é' + '…'
  const long = p.event('long', ['s:string']);
  long.emit('y'.repeat(5000));
  const got = collect(session).map((e) => e.fields['s']);
  assert.deepEqual(got.slice(0, 4), ['12345678', '12345…', 'a\uFFFDb', 'éé…']);
  const cut = got[4] as string;
  assert.ok(cut.endsWith('…') && Buffer.byteLength(cut) <= 1024, `long string cut to ${Buffer.byteLength(cut)} bytes`);
});

test('repeated strings (copied from the per-field cache) record the same bytes as new ones', () => {
  const ev = p.event('cached', ['s:string', 'n:u32', 't:string']);
  const a31 = 'a'.repeat(31); // 32 bytes with its NUL: the largest cached
  const b32 = 'b'.repeat(32); // not cached
  const rows: [string, number, string][] = [];
  for (const [s, t] of [['GET', ''], ['GET', ''], ['GET', ''], ['GET', 'x'], ['PUT', 'x'], ['GET', 'x'], ['GET', 'xy'],
    [a31, b32], [a31, b32], [a31, b32], ['', a31], ['', a31], ['', a31], ['é', 'é'], ['é', 'é'], ['é', 'é'],
    ['GETS', ''], ['GET', ''], ['GET', ''], ['GET', '']] as [string, string][]) {
    rows.push([s, rows.length * 65537, t]);
  }
  for (const r of rows) ev.emit(...r);
  const short = p.event('cached_short', ['s:string'], { maxStringBytes: 8 });
  for (let i = 0; i < 4; i++) short.emit('123456789'); // cut, then cached cut
  const got = collect(session);
  assert.deepEqual(got.filter((e) => e.id === ev.id).map((e) => [e.fields['s'], e.fields['n'], e.fields['t']]), rows);
  assert.deepEqual(got.filter((e) => e.id === short.id).map((e) => e.fields['s']), Array(4).fill('12345…'));
});

test('a string field whose value keeps changing, then repeats: every record holds its own string', () => {
  const ev = p.event('changing', ['s:string']);
  // Cached, then 65 misses in a row (kept as the last value for the first 8, then every 64th: the
  // 65th), then that last value repeated (cached anew), the first again, and two values alternating.
  const values = ['/a', '/a', '/a', ...Array.from({ length: 65 }, (_, i) => `/items/${i}`), '/items/64', '/items/64',
    '/items/64', '/a', '/a', ...Array.from({ length: 150 }, (_, i) => (i % 2 ? '/x' : `/y${i % 7}`))];
  for (const v of values) ev.emit(v);
  assert.deepEqual(collect(session).filter((e) => e.id === ev.id).map((e) => e.fields['s']), values);
});

/** Run fn with strict mode on (emit throws on invalid values), then back to the default. */
function strictly(fn: () => void): void {
  configure({ strict: true });
  try {
    fn();
  } finally {
    configure({ strict: false });
  }
}

/** RingtraceWarnings emitted while fn runs (process 'warning' events are asynchronous). */
async function warningsDuring(fn: () => void): Promise<string[]> {
  const seen: string[] = [];
  const listener = (w: Error) => { if (w.name === 'RingtraceWarning') seen.push(w.message); };
  process.on('warning', listener);
  try {
    fn();
    await new Promise((r) => setImmediate(r));
  } finally {
    process.off('warning', listener);
  }
  return seen;
}

function badValues() {
  const ev = p.event('checked', ['n:u8', 'big:i64', 'flag:bool', 's:string', 'raw:bytes']);
  const bad: [number, unknown[], RegExp][] = [
    [0, [256, 0, true, '', Buffer.alloc(0)], /field 'n' \(u8\) expects an integer in \[0, 255\], got number 256/],
    [0, [1.5, 0, true, '', Buffer.alloc(0)], /field 'n'.*got number 1.5/],
    [0, ['1', 0, true, '', Buffer.alloc(0)], /field 'n'.*got string "1"/],
    [1, [1, 2n ** 63n, true, '', Buffer.alloc(0)], /field 'big' \(i64\)/],
    [1, [1, 0.5, true, '', Buffer.alloc(0)], /field 'big'/],
    [1, [1, 2 ** 63, true, '', Buffer.alloc(0)], /field 'big'/],
    [1, [1, -(2 ** 63) - 4096, true, '', Buffer.alloc(0)], /field 'big'/],
    [1, [1, 5e-324, true, '', Buffer.alloc(0)], /field 'big'.*got number 5e-324/],
    [1, [1, -4294967296.5, true, '', Buffer.alloc(0)], /field 'big'/],
    [1, [1, NaN, true, '', Buffer.alloc(0)], /field 'big'/],
    [1, [1, -Infinity, true, '', Buffer.alloc(0)], /field 'big'/],
    [2, [1, 0, 1, '', Buffer.alloc(0)], /field 'flag' \(bool\) expects a boolean, got number 1/],
    [3, [1, 0, true, null, Buffer.alloc(0)], /field 's' \(string\) expects a string, got null/],
    [4, [1, 0, true, '', [1, 2]], /field 'raw' \(bytes\) expects a Uint8Array/],
  ];
  return { ev, bad, emitAny: ev.emit as (...v: unknown[]) => void };
}

test('wrong values are dropped and counted as ringtrace:invalid_value, never thrown, warned once per field', async () => {
  const { ev, bad, emitAny } = badValues();
  collect(session);
  const warnings = await warningsDuring(() => {
    for (const [, values] of bad) emitAny(...values); // would crash an app if it threw
    emitAny(1, 0, true);
    emitAny(1, 0, true, '', Buffer.alloc(70000));
    emitAny(2, 0, true, '', Buffer.alloc(70000));
  });
  const got = collect(session);
  assert.deepEqual(got.filter((e) => e.id === ev.id), [], 'nothing recorded by failed emits');
  const invalid = got.filter((e) => e.cls.provider === 'ringtrace' && e.cls.name === 'invalid_value');
  assert.equal(invalid.length, bad.length + 3, 'each dropped event is counted');
  const fieldNames = ['n', 'big', 'flag', 's', 'raw'];
  bad.forEach(([f], k) => assert.deepEqual([invalid[k]!.fields['event'], invalid[k]!.fields['field']],
    ['api:checked', fieldNames[f]], `record ${k}`));
  // The problem is described the first time per field, then only counted.
  const described = invalid.filter((e) => e.fields['problem'] !== '');
  assert.deepEqual(described.map((e) => e.fields['field']), [...fieldNames.slice(0, 5), '', 'raw'].filter(
    (f, i, all) => all.indexOf(f) === i));
  for (const [f, , message] of bad) { // the first bad value of each field is the one described
    if (bad.find(([g]) => g === f)![2] !== message) continue;
    assert.match(described.find((e) => e.fields['field'] === fieldNames[f])!.fields['problem'] as string, message);
  }
  assert.match(described.find((e) => e.fields['field'] === '')!.fields['problem'] as string,
    /emit takes 5 value\(s\), got 3/);
  assert.equal(warnings.length, described.length, 'one warning per event and field');
  assert.match(warnings[0]!, /api:checked: field 'n' \(u8\) expects an integer in \[0, 255\], got number 256; the event was dropped/);
  ev.emit(1, 0, true, 'ok', Buffer.alloc(1));
  assert.equal(collect(session).length, 1, 'the event still works afterwards');
});

test('strict mode throws a clear TypeError for wrong values and records nothing', () => {
  const { bad, emitAny } = badValues();
  collect(session);
  strictly(() => {
    for (const [, values, message] of bad) {
      assert.throws(() => emitAny(...values), (e: unknown) => e instanceof TypeError && message.test(e.message));
    }
    assert.throws(() => emitAny(1, 0, true), /emit takes 5 value\(s\), got 3/);
    assert.throws(() => emitAny(1, 0, true, '', Buffer.alloc(70000)), RangeError);
  });
  assert.deepEqual(collect(session), [], 'nothing recorded by failed emits');
});

test('a span started with a wrong value is not started: no begin, no end, one invalid_value', () => {
  const req = p.spanType('checked_span', ['status:u16']);
  collect(session);
  const span = (req.start as (...v: unknown[]) => { id: number; end(): void })('200');
  span.end();
  (req.start as (...v: unknown[]) => { end(): void })().end();
  const got = collect(session);
  assert.equal(span.id, 0, 'the no-op span');
  assert.deepEqual(got.map((e) => [e.cls.name, e.fields['field']]), [['invalid_value', 'status'], ['invalid_value', '']]);
  assert.match(got[1]!.fields['problem'] as string, /start takes 1 value\(s\), got 0/);
  strictly(() => assert.throws(() => (req.start as (...v: unknown[]) => unknown)('200'), /field 'status' \(u16\)/));
});

test('withSpan and run refuse a non-function with a clear error, before any record', () => {
  collect(session);
  assert.throws(() => p.withSpan('w', 42 as never), /withSpan\('w', fn\): fn must be a function, got number 42/);
  assert.throws(() => p.spanType('typed_w', ['x:u8']).run('x' as never, 1), /run\(fn, \.\.\.\): fn must be a function/);
  assert.deepEqual(collect(session), [], 'no span begun');
});

test('u64 takes exactly the integers in [0, 2^64) (numbers and bigints)', () => {
  const ev = p.event('unsigned64', ['v:u64']);
  strictly(() => {
    for (const v of [-1, -(2 ** 40), 0.5, 2 ** 32 + 0.5, 5e-324, NaN, Infinity, 2 ** 64, -1n, 2n ** 64n]) {
      assert.throws(() => ev.emit(v), /field 'v' \(u64\)/, `rejects ${String(v)}`);
    }
  });
  const good = [0, -0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 + 2, 2 ** 64 - 2048, 2n ** 64n - 1n];
  for (const v of good) ev.emit(v);
  const got = collect(session).filter((e) => e.id === ev.id).map((e) => e.fields['v']);
  assert.deepEqual(got, good.map((v) => BigInt(v)));
});

test('schemas and names are validated when defined', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => provider('bad name'), /provider name/],
    [() => p.event('1x', []), /event name "1x"/],
    [() => p.event('ok', ['nocolon'] as never), /expected 'name:type'/],
    [() => p.event('ok', ['x:int'] as never), /unknown type "int"/],
    [() => p.event('ok', ['x:u8', 'x:u16']), /'x' appears twice/],
    [() => p.event('ok', ['pid:u32']), /'pid' is reserved/],
    [() => p.event('ok', { a: 'u8' } as never), /must be an array/],
    [() => p.event('ok', ['s:string'], { maxStringBytes: 1 }), /maxStringBytes/],
    [() => p.event('ok', Array.from({ length: 65 }, (_, i) => `f${i}:u8` as const)), /at most 64/],
  ];
  for (const [fn, message] of cases) {
    assert.throws(fn, (e: unknown) => e instanceof TypeError && message.test(e.message), String(message));
  }
});

test('the same class defined twice shares one id; another schema gets another', () => {
  const a1 = p.event('dup', ['x:u8']);
  const a2 = p.event('dup', ['x:u8']);
  const b = p.event('dup', ['x:u16']);
  assert.equal(a1.id, a2.id);
  assert.notEqual(a1.id, b.id);
});

test('typed spans record their fields in the begin record and nest like any span', async () => {
  collect(session);
  const req = p.spanType('handled', ['method:string', 'status:u16', 'bytes:u64']);
  await p.withSpan('around', async () => {
    await req.run(async () => {
      await new Promise((r) => setTimeout(r, 2));
      p.span('inside').end();
    }, 'GET', 200, 5n);
    req.start('PUT', 201, 0).end({ note: 'x' });
  });
  const ev = collect(session);
  const begin = (n: string) => ev.filter((e) => e.cls.kind === 'span_begin' && e.cls.name === n);
  const [get, put] = begin('handled');
  assert.deepEqual(get!.fields, { span_id: get!.fields['span_id'], parent_id: begin('around')[0]!.fields['span_id'],
    method: 'GET', status: 200, bytes: 5n });
  assert.deepEqual([put!.fields['method'], put!.fields['status'], put!.fields['bytes']], ['PUT', 201, 0n]);
  assert.equal(begin('inside')[0]!.fields['parent_id'], get!.fields['span_id'], 'the async context carries it');
  const end = ev.find((e) => e.cls.kind === 'span_end' && e.fields['span_id'] === put!.fields['span_id'])!;
  assert.equal(end.fields['args'], '{"note":"x"}');
  assert.throws(() => p.spanType('clash', ['span_id:u64']), /'span_id' is a span's own field/);
  strictly(() => assert.throws(() => req.start('GET', 70000, 0), /field 'status' \(u16\)/,
    'values are checked like an event\'s'));
});

test('root span types take no parent, and their spans parent what runs inside them', async () => {
  collect(session);
  const incoming = p.spanType('incoming', ['path:string'], { root: true });
  await p.withSpan('outer_work', async () => {
    await incoming.run(async () => {
      await new Promise((r) => setTimeout(r, 1));
      p.span('handler').end();
    }, '/a');
  });
  const ev = collect(session);
  const begin = (n: string) => ev.find((e) => e.cls.kind === 'span_begin' && e.cls.name === n)!;
  assert.equal(begin('incoming').fields['parent_id'], 0n, 'a root, though outer_work was current');
  assert.equal(begin('handler').fields['parent_id'], begin('incoming').fields['span_id']);
});

test('spans nest through sync and async code, and end once', async () => {
  collect(session);
  await p.withSpan('outer', async () => {
    p.withSpan('inner_sync', () => undefined);
    await new Promise((r) => setTimeout(r, 5));
    await p.withSpan('inner_async', async () => {
      const s = p.span('manual', { k: 1 });
      s.end({ done: true });
      s.end(); // ignored
      const circular: Record<string, unknown> = {};
      circular['self'] = circular;
      p.span('big', { n: 2n ** 64n - 1n, s: 'x' }).end(circular);
    });
  });
  assert.throws(() => p.withSpan('failing', () => { throw new Error('boom'); }), /boom/);
  await assert.rejects(p.withSpan('rejecting', async () => { throw new Error('late'); }), /late/);
  const ev = collect(session);
  const begins = new Map(ev.filter((e) => e.cls.kind === 'span_begin')
    .map((e) => [e.fields['span_id'] as bigint, e]));
  const ends = ev.filter((e) => e.cls.kind === 'span_end');
  const byName = (n: string) => [...begins.values()].find((e) => e.cls.name === n)!;
  const outer = byName('outer');
  assert.equal(outer.fields['parent_id'], 0n);
  for (const child of ['inner_sync', 'inner_async']) {
    assert.equal(byName(child).fields['parent_id'], outer.fields['span_id'], `${child} parent`);
  }
  assert.equal(byName('manual').fields['parent_id'], byName('inner_async').fields['span_id']);
  assert.equal(byName('manual').fields['args'], '{"k":1}');
  assert.equal(ends.length, begins.size, 'one end per begin');
  const endOf = (n: string) => ends.find((e) => e.fields['span_id'] === byName(n).fields['span_id'])!;
  assert.equal(endOf('manual').fields['args'], '{"done":true}');
  assert.equal(endOf('failing').fields['args'], '{"error":"Error: boom"}');
  assert.equal(endOf('rejecting').fields['args'], '{"error":"Error: late"}');
  assert.equal(byName('big').fields['args'], '{"n":"18446744073709551615","s":"x"}', 'bigints as strings');
  assert.match(endOf('big').fields['args'] as string, /^\{"unserializable":"TypeError: .*circular/i);
  // Begin before end in time, and outer encloses its children.
  assert.ok(outer.timestamp < endOf('outer').timestamp);
  assert.ok(byName('inner_async').timestamp > outer.timestamp &&
    endOf('inner_async').timestamp < endOf('outer').timestamp);
});

test('counters record set values and running sums', () => {
  const c = p.counter('depth');
  assert.equal(p.counter('depth'), c, 'one counter per name');
  c.set(10);
  c.add(5);
  c.add(-2.5);
  const got = collect(session).filter((e) => e.cls.kind === 'counter').map((e) => e.fields['value']);
  assert.deepEqual(got, [10, 15, 12.5]);
});

test('counters check a value before using it: a bad one changes nothing and is counted', () => {
  const c = p.counter('checked_depth');
  const set = c.set.bind(c) as (v: unknown) => void;
  const add = c.add.bind(c) as (v: unknown) => void;
  c.set(1);
  set('x');
  c.add(1);
  add(undefined);
  add(NaN);
  add(Infinity);
  c.add(2);
  const got = collect(session);
  assert.deepEqual(got.filter((e) => e.cls.kind === 'counter').map((e) => e.fields['value']), [1, 2, 4]);
  assert.deepEqual(got.filter((e) => e.cls.name === 'invalid_value').map((e) => e.fields['field']),
    ['value', 'value', 'value', 'value']);
  strictly(() => {
    assert.throws(() => set('x'), /field 'value' \(f64\) expects a number, got string "x"/);
    assert.throws(() => add(undefined), /add expects a finite number, got undefined/);
  });
  c.add(1);
  assert.deepEqual(collect(session).map((e) => e.fields['value']), [5], 'the running value survived');
});

test('timestamps never decrease along a ring', () => {
  const ev = p.event('seq', ['i:u32']);
  const got = [];
  for (let i = 0; i < 20000; i++) {
    ev.emit(i);
    if (i % 5000 === 4999) got.push(...collect(session, true)); // 5000 x 32 bytes fit the rings
  }
  assert.equal(got.length, 20000);
  const last = new Map<number, bigint>();
  for (const e of got) {
    assert.ok((last.get(e.ring) ?? 0n) <= e.timestamp, 'ordered per ring');
    last.set(e.ring, e.timestamp);
  }
  assert.equal(session.lostEvents(), 0);
});
