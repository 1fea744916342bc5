// The C API (native/include/ringtrace.h) as a C user meets it: examples/shop.c
// is built with the system C compiler and native/build/libringtrace.a, as
// docs/c-api.md shows, and recorded together with examples/quickstart.js into
// one trace. Its events must decode with their values, its pid and tids,
// side by side with the JavaScript ones, under the same class where the
// schemas agree; babeltrace2 must read them too (when installed:
// `apt-get install babeltrace2`). Also: the compile-time checks the docs
// promise (wrong types, arity, reserved or unknown fields are errors).
import { test, before } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCommand } from '../fixtures/trace-helpers';
import { loadNative } from '../src/native';
import { describe, parseFields } from '../src/schema';
import { Session } from '../src/session';

const root = path.join(__dirname, '..', '..');
const nativeDir = path.join(root, 'native');
const include = path.join(nativeDir, 'include');
const lib = path.join(nativeDir, 'build', 'libringtrace.a');
const cli = path.join(__dirname, '..', 'cli', 'trace-consume.js');
const quickstart = path.join(root, 'examples', 'quickstart.js');
const CC = process.env['CC'] ?? 'cc';
const CXX = process.env['CXX'] ?? 'c++';
const hasCxx = spawnSync(CXX, ['--version']).status === 0;
const hasBabeltrace = spawnSync('babeltrace2', ['--version']).status === 0;
const BT_SKIP = hasBabeltrace ? false : 'babeltrace2 not installed (apt-get install babeltrace2)';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-capi-'));
const shop = path.join(work, 'shop');
const REQUESTS = 200; // per thread: examples/shop.c runs two

/** Compile a C file against the public header and the library; the compiler's result. */
function compile(src: string, out: string, flags: string[] = []): { status: number | null; stderr: string } {
  const r = spawnSync(CC, ['-O2', '-Wall', '-Wextra', '-Werror', ...flags, '-I', include, src, lib, '-lpthread',
    '-o', out], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

before(() => {
  execFileSync('make', ['-s', '-C', nativeDir, 'lib'], { stdio: 'inherit' });
  const r = compile(path.join(root, 'examples', 'shop.c'), shop);
  assert.equal(r.status, 0, `examples/shop.c must build as docs/c-api.md shows:\n${r.stderr}`);
});

const run = runCommand;
const tc = (...args: string[]) => run(process.execPath, [cli, ...args]);

interface Line {
  pid: number; tid: number; provider: string; event: string; kind: string; timestamp_ns: string;
  fields: Record<string, unknown>;
}

/** What examples/shop.c emits per thread, in order (see the file). */
function expectedShop(): { requests: Record<string, unknown>[]; restocks: Record<string, unknown>[] } {
  const requests = [];
  const restocks = [];
  for (let i = 0; i < REQUESTS; i++) {
    requests.push({ method: 'GET', path: `/items/${i % 17}`, status: i % 50 === 0 ? 500 : 200, bytes: 512 + i });
    if (i % 10 === 0) {
      const hex = (b: number) => (b & 0xff).toString(16).padStart(2, '0');
      restocks.push({ sku: 1000 + i, delta: 0 - (i % 7), price: 9.5 + i, urgent: i % 20 === 0,
        batch: `ba7c${hex(i >> 8)}${hex(i)}` });
    }
  }
  return { requests, restocks };
}

let recorded: { dir: string; pid: number; tids: number[] } | undefined;

/** Record shop.c and quickstart.js running at once into one trace (once). */
async function recordBoth(): Promise<{ dir: string; pid: number; tids: number[] }> {
  if (recorded) return recorded;
  const dir = path.join(work, 'trace');
  const both = `"$0" ${REQUESTS} & c=$!; "$1" "$2" || exit 1; wait $c`;
  const r = await tc('record', '-q', '-o', dir, '--', '/bin/sh', '-c', both, shop, process.execPath, quickstart);
  assert.equal(r.code, 0, r.stderr);
  const m = /shop: pid (\d+) threads (\d+) (\d+) handled (\d+) requests\n/.exec(r.stdout);
  assert.ok(m, `shop.c reports its pid and threads, traced: ${r.stdout}`);
  assert.match(r.stdout, /quickstart: handled 400 requests/);
  recorded = { dir, pid: Number(m[1]), tids: [Number(m[2]), Number(m[3])] };
  return recorded;
}

test('a C program and a JavaScript app record into one trace; the C events decode with values, pid and tid', async () => {
  const { dir, pid, tids } = await recordBoth();
  const stats = JSON.parse((await tc('stats', dir, '--json')).stdout) as { events: number; lost: number;
    perClass: Record<string, number> };
  assert.equal(stats.lost, 0);
  assert.equal(stats.perClass['shop:request'], 2 * REQUESTS + 400, 'C and JavaScript requests');
  assert.equal(stats.perClass['shop:restock'], 2 * REQUESTS / 10);

  // One class for both programs' shop:request: the C description is the JavaScript one, byte for byte.
  const classes = fs.readFileSync(path.join(dir, '.classes'), 'utf8').trim().split('\n');
  const request = classes.filter((l) => l.includes('"provider":"shop","name":"request"'));
  const want = describe('shop', 'request', 'event',
    parseFields('shop:request', ['method:string', 'path:string', 'status:u16', 'bytes:u64']));
  assert.deepEqual(request.map((l) => l.replace(/^\d+ /, '')), [want]);
  const restock = describe('shop', 'restock', 'event', parseFields('shop:restock',
    ['sku:u32', 'delta:i32', 'price:f64', 'urgent:bool', 'batch:bytes']));
  assert.equal(classes.filter((l) => l.endsWith(` ${restock}`)).length, 1, 'restock described as JavaScript would');

  const view = await tc('view', dir, '--json');
  assert.equal(view.code, 0, view.stderr);
  const lines = view.stdout.trim().split('\n').map((l) => JSON.parse(l) as Line);
  const c = lines.filter((l) => l.pid === pid);
  const js = lines.filter((l) => l.pid !== pid);
  assert.equal(c.length, 2 * REQUESTS + 2 * REQUESTS / 10, 'every C event, nothing else under its pid');
  const { requests, restocks } = expectedShop();
  for (const tid of tids) {
    const mine = c.filter((l) => l.tid === tid);
    assert.deepEqual(mine.filter((l) => l.event === 'request').map((l) => l.fields), requests, `thread ${tid}`);
    assert.deepEqual(mine.filter((l) => l.event === 'restock').map((l) => l.fields), restocks, `thread ${tid}`);
  }
  assert.equal(c.filter((l) => !tids.includes(l.tid)).length, 0, 'C events carry the tids shop.c reported');
  assert.equal(js.filter((l) => l.event === 'request').length, 400, 'the JavaScript requests are there too');
  assert.ok(js.every((l) => l.provider === 'shop' && l.pid > 0), 'JavaScript events under their own pid');
});

test('babeltrace2 reads the C events with their values and context', { skip: BT_SKIP }, async () => {
  const { dir, pid, tids } = await recordBoth();
  const bt = spawnSync('babeltrace2', [dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(bt.status, 0, bt.stderr);
  assert.equal(bt.stderr, '', 'no warning from babeltrace2');
  const lines = bt.stdout.trim().split('\n');
  const c = lines.filter((l) => l.includes(`{ pid = ${pid}, `));
  assert.equal(c.length, 2 * REQUESTS + 2 * REQUESTS / 10);
  assert.equal(lines.filter((l) => / shop:request: /.test(l)).length, 2 * REQUESTS + 400);
  for (const tid of tids) {
    const mine = c.filter((l) => l.includes(`{ pid = ${pid}, tid = ${tid} }`));
    assert.match(mine.find((l) => l.includes('shop:request'))!,
      /\{ method = "GET", path = "\/items\/0", status = 500, bytes = 512 \}/);
    assert.match(mine.find((l) => l.includes('shop:restock'))!,
      /\{ sku = 1000, delta = 0, price = 9\.5, urgent = \( "true" : container = 1 \), _batch_length = 4, batch = \[ \[0\] = 0xBA, \[1\] = 0x7C, \[2\] = 0x0, \[3\] = 0x0 \] \}/i);
  }
});

test('the C programs in README.md and docs/c-api.md compile as shown and record what they say', async () => {
  const programs = ['README.md', 'docs/c-api.md'].flatMap((doc) =>
    [...fs.readFileSync(path.join(root, doc), 'utf8').matchAll(/```c\n([\s\S]*?)```/g)]
      .map((m) => ({ doc, code: m[1]! })).filter((p) => p.code.includes('int main')));
  assert.ok(programs.length >= 3, `found ${programs.length} complete programs`);
  for (const [i, { doc, code }] of programs.entries()) {
    const src = path.join(work, `doc${i}.c`);
    const exe = path.join(work, `doc${i}`);
    fs.writeFileSync(src, code);
    const built = compile(src, exe);
    assert.equal(built.status, 0, `${doc}, program ${i}:\n${built.stderr}`);
    const dir = path.join(work, `doc${i}-trace`);
    const r = await tc('record', '-q', '-o', dir, '--', exe);
    assert.equal(r.code, 0, r.stderr);
    const stats = JSON.parse((await tc('stats', dir, '--json')).stdout) as { events: number; lost: number };
    assert.deepEqual([stats.events, stats.lost], [1, 0], `${doc}, program ${i}: one event recorded`);
    if (hasCxx) { // docs/c-api.md says C++ works too
      const cxx = spawnSync(CXX, ['-O2', '-Wall', '-Wextra', '-Werror', '-I', include, '-x', 'c++', src, '-x', 'none',
        lib, '-lpthread', '-o', `${exe}-cxx`], { encoding: 'utf8' });
      assert.equal(cxx.status, 0, `${doc}, program ${i} as C++:\n${cxx.stderr}`);
    }
  }
});

test('examples/shop.c records only the classes its session\'s selection selects: rules, levels, filters', () => {
  const name = `capi-select-${process.pid}`;
  const session = Session.create(name, { subBufferSize: 1 << 16, subBuffers: 8 });
  const native = loadNative();
  const file = native.selectionPath(session.handle);
  assert.ok(file);
  /** Put a selection in place as docs/selection.md says: write, rename, bump. */
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`); // not a session name for `list`
  const select = (rules: string) => {
    fs.writeFileSync(tmp, `ringtrace-selection 1\n${rules}`, { mode: 0o600 });
    fs.renameSync(tmp, file);
    native.selectionBump(session.handle);
  };
  /** Run shop.c (50 requests per thread) in the session; what it recorded, per class. */
  const runShop = (): { out: string; perClass: Record<string, number> } => {
    const r = spawnSync(shop, ['50'], { env: { ...process.env, RINGTRACE_SESSION: name }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '', 'nothing printed');
    const classes = session.classes();
    const perClass: Record<string, number> = {};
    for (const rec of session.consumer().drain(true)) {
      const c = classes.get(rec.id);
      const key = c ? `${c.provider}:${c.name}` : `#${rec.id}`;
      perClass[key] = (perClass[key] ?? 0) + 1;
    }
    assert.equal(session.lostEvents(), 0);
    return { out: r.stdout, perClass };
  };
  try {
    assert.deepEqual(runShop().perClass, { 'shop:request': 100, 'shop:restock': 10 }, 'no selection: everything');
    select('default on\ndisable shop:restock\n');
    assert.deepEqual(runShop().perClass, { 'shop:request': 100 });
    select('default off\nenable shop:rest*\n');
    const restockOnly = runShop();
    assert.deepEqual(restockOnly.perClass, { 'shop:restock': 10 });
    assert.match(restockOnly.out, /handled 100 requests \(untraced\)/, 'rt_enabled(shop, request) follows it');
    select('level warn\n'); // RT_EVENT's classes are info
    assert.deepEqual(runShop().perClass, {});
    select('level info\nfilter shop:request status >= 500\n'); // filters are for JavaScript events
    assert.deepEqual(runShop().perClass, { 'shop:request': 100, 'shop:restock': 10 });
  } finally {
    session.remove();
    session.close();
  }
});

test('the compiler refuses wrong values, unknown events and reserved or unknown fields', () => {
  const cases: [string, string, RegExp][] = [
    ['a string for a number', 'rt_trace(t, e, "GET", "200");', /makes integer from pointer|invalid conversion/],
    ['a number for a string', 'rt_trace(t, e, 200, 200);', /makes pointer from integer|invalid conversion/],
    ['a fraction for an integer', 'rt_trace(t, e, "GET", 2.5);', /float-conversion|changes value/],
    ['a constant out of range', 'rt_trace(t, e, "GET", 70000);', /overflow|changes value/],
    ['too few values', 'rt_trace(t, e, "GET");', /too few arguments/],
    ['too many values', 'rt_trace(t, e, "GET", 200, 1);', /too many arguments/],
    ['an undeclared event', 'rt_trace(t, nosuch, "GET", 200);', /undeclared|not declared/],
  ];
  const decl = 'RT_EVENT(t, e, RT_FIELD(string, method), RT_FIELD(u16, status))';
  const good = path.join(work, 'good.c');
  fs.writeFileSync(good, `#include "ringtrace.h"\n${decl}\nRT_EVENT(t, none)\n` +
    'RT_EVENT_LEVEL(t, dbg, debug, RT_FIELD(u32, n))\n' +
    'int main(void) { rt_trace(t, e, "GET", 200); rt_trace(t, none); rt_trace(t, dbg, 1); return 0; }\n');
  assert.equal(compile(good, path.join(work, 'good')).status, 0, 'the correct program builds');
  for (const [what, call, message] of cases) {
    const src = path.join(work, 'bad.c');
    fs.writeFileSync(src, `#include "ringtrace.h"\n${decl}\nint main(void) { ${call} return 0; }\n`);
    const r = compile(src, path.join(work, 'bad'), ['-Wno-error']); // the errors are the header's, not -Werror's
    assert.notEqual(r.status, 0, `${what}: must not compile`);
    assert.match(r.stderr, message, what);
  }
  for (const [what, fields, message] of [
    ['a reserved field name', 'RT_FIELD(u32, pid)', /duplicate member .pid_/],
    ['a field twice', 'RT_FIELD(u32, a), RT_FIELD(u8, a)', /duplicate member .a_/],
    ['an unknown type', 'RT_FIELD(uint32_t, a)', /RT__PARAM_uint32_t_/],
    ['an unknown level', null, /RT__LEVEL_verbose/],
  ] as const) {
    const src = path.join(work, 'bad.c');
    const event = fields === null ? 'RT_EVENT_LEVEL(t, e, verbose, RT_FIELD(u32, a))' : `RT_EVENT(t, e, ${fields})`;
    fs.writeFileSync(src, `#include "ringtrace.h"\n${event}\nint main(void) { return 0; }\n`);
    const r = compile(src, path.join(work, 'bad'), ['-Wno-error']);
    assert.notEqual(r.status, 0, `${what}: must not compile`);
    assert.match(r.stderr, message, what);
  }
});
