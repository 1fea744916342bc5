// Auto mode: the outgoing calls a request handler makes are client spans
// under that request's span (http.get from the handler's synchronous part,
// fetch after an await), a call made outside any request is a root, and a
// call that fails ends its span with status 0 and the error; a Chrome export
// draws the calls on their request's track, inside its slice.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cli, type Line, recordAuto, spans } from '../fixtures/auto-trace';
import { runCommand } from '../fixtures/trace-helpers';

let recorded: { lines: Line[]; stdout: string; out: string };
test.before(async () => { recorded = await recordAuto('calls', [], true); });
test.after(() => fs.rmSync(path.dirname(recorded.out), { recursive: true, force: true }));

test("a handler's outgoing calls nest under its request span; failed calls end with status 0 and the error", async () => {
  const { lines, stdout } = recorded;
  assert.match(stdout, /^done 200 2 2$/m);
  const server = spans(lines, 'node.http', 'server');
  const client = spans(lines, 'node.http', 'client');
  const fetched = spans(lines, 'node.fetch', 'request');
  const byPath = <T extends { begin: { fields: Record<string, string | number> } }>(list: T[], p: string) => {
    const found = list.filter((s) => s.begin.fields['path'] === p);
    assert.equal(found.length, 1, `one span for ${p}`);
    return found[0]!;
  };
  const request = byPath(server, '/items/5');
  for (const call of [byPath(client, '/backend/5'), byPath(fetched, '/backend-fetch/5')]) {
    assert.equal(call.begin.fields['parent_id'], request.begin.fields['span_id'],
      `${call.begin.fields['path']} is a child of the request span`);
    assert.ok(request.beginAt < call.beginAt && call.endAt < request.endAt, 'and within it');
    assert.equal(call.end!.fields['status'], 200);
  }
  assert.equal(byPath(client, '/items/5').begin.fields['parent_id'], 0, 'a call outside any request is a root');
  for (const p of ['/backend/5', '/backend-fetch/5']) assert.equal(byPath(server, p).begin.fields['parent_id'], 0);

  const refused = byPath(client, '/refused');
  assert.equal(refused.end!.fields['status'], 0);
  assert.match(String(refused.end!.fields['error']), /^Error: connect ECONNREFUSED 127\.0\.0\.1:2$/);
  const refusedFetch = byPath(fetched, '/refused-fetch');
  assert.equal(refusedFetch.end!.fields['status'], 0);
  assert.match(String(refusedFetch.end!.fields['error']), /^Error: connect ECONNREFUSED 127\.0\.0\.1:2$/);
});

interface ChromeEvent { ph: string; pid: number; tid: number; ts: number; cat?: string; name?: string;
  args?: Record<string, unknown> }

test('in a Chrome trace the call lies on its request\'s track, inside its slice, with its fields as args', async () => {
  const file = path.join(path.dirname(recorded.out), 'trace.json');
  const r = await runCommand(process.execPath, [cli, 'export', recorded.out, '-f', 'chrome', '-o', file]);
  assert.equal(r.code, 0, r.stderr);
  const events = (JSON.parse(fs.readFileSync(file, 'utf8')) as { traceEvents: ChromeEvent[] }).traceEvents;
  const begin = (cat: string, name: string, p: string) => {
    const found = events.filter((e) => e.ph === 'B' && e.cat === cat && e.name === name && e.args?.['path'] === p);
    assert.equal(found.length, 1, `${cat}:${name} ${p}`);
    return found[0]!;
  };
  /** The E closing `b` on its track (slices nest on a track: the first E after b at depth 0). */
  const endOf = (b: ChromeEvent) => {
    let depth = 0;
    for (const e of events.slice(events.indexOf(b) + 1)
      .filter((x) => x.tid === b.tid && x.pid === b.pid && (x.ph === 'B' || x.ph === 'E'))) {
      if (e.ph === 'B') depth++;
      else if (depth-- === 0) return e;
    }
    throw new Error('no end');
  };
  const request = begin('node.http', 'server', '/items/5');
  assert.equal(endOf(request).args?.['status'], 200);
  for (const call of [begin('node.http', 'client', '/backend/5'), begin('node.fetch', 'request', '/backend-fetch/5')]) {
    assert.equal(call.tid, request.tid, `${String(call.args?.['path'])} on the request's track`);
    assert.ok(request.ts <= call.ts && endOf(call).ts <= endOf(request).ts, 'inside its slice');
    assert.equal(endOf(call).args?.['status'], 200);
  }
  assert.equal(endOf(begin('node.http', 'client', '/refused')).args?.['status'], 0);
});
