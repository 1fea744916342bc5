// Auto mode: the outgoing calls a request handler makes are client spans
// under that request's span (http.get from the handler's synchronous part,
// fetch after an await), a call made outside any request is a root, and a
// call that fails ends its span with status 0 and the error.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { recordAuto, spans } from '../fixtures/auto-trace';

test("a handler's outgoing calls nest under its request span; failed calls end with status 0 and the error", async () => {
  const { lines, stdout } = await recordAuto('calls');
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
  assert.match(String(refused.end!.fields['error']), /^Error: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  const refusedFetch = byPath(fetched, '/refused-fetch');
  assert.equal(refusedFetch.end!.fields['status'], 0);
  assert.match(String(refusedFetch.end!.fields['error']), /^Error: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
});
