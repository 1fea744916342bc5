// The report's slowest-span trees (slowestSql): each descendant's level below
// its slow span comes from the tree itself, and a parent is listed before its
// children even when they start at the same nanosecond and the child's id
// sorts first (OpenTelemetry spans have random ids). Run on a hand-made spans
// table, so the ties are exact.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { duckdb } from '../src/query/duckdb';
import { slowestSql } from '../src/report/queries';

test('a slow span\'s descendants: parents before children on equal starts, each with its level', async () => {
  const { DuckDBInstance } = duckdb();
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  try {
    await con.run(`CREATE TABLE spans (pid UINTEGER, tid UINTEGER, id UBIGINT, parent UBIGINT, thread VARCHAR,
      provider VARCHAR, name VARCHAR, start_ts BIGINT, end_ts BIGINT, dur BIGINT, depth UINTEGER, fields JSON,
      end_fields JSON)`);
    // root 900 > child 500 (same start as the root) > grandchild 100 (same start again); a sibling 700 later.
    const spans: [number, number | null, string, number, number][] = [
      [900, null, 'root', 1000, 5000], [500, 900, 'child', 1000, 3000], [100, 500, 'grandchild', 1000, 1000],
      [700, 900, 'sibling', 4000, 500],
    ];
    for (const [id, parent, name, start, dur] of spans) {
      await con.run(`INSERT INTO spans VALUES (1, 1, ${id}, ${parent ?? 'NULL'}, 'main', 'app', '${name}', ${start},
        ${start + dur}, ${dur}, 0, NULL, NULL)`);
    }
    const rows = (await con.runAndReadAll(slowestSql(1, '0'))).getRowObjectsJson();
    assert.deepEqual(rows.map((r) => [r['name'], Number(r['level'])]),
      [['root', 0], ['child', 1], ['grandchild', 2], ['sibling', 1]]);
  } finally {
    con.closeSync();
    instance.closeSync();
  }
});
