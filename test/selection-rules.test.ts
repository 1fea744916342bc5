// The selection's rules (src/selection/rules.ts): what a class gets, the file
// format both ways, and bad lines named by number.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Selection, SelectionError } from '../src/selection/rules';

test('the last matching enable/disable rule decides, else the default; levels; the library is always on', () => {
  const s = Selection.parse(['ringtrace-selection 1', 'default off', 'enable http:*', 'disable http:health',
    'enable db', 'disable db:cache_?et', 'level info'].join('\n'));
  const cases: [string, string, string | undefined, boolean][] = [
    ['http', 'request', undefined, true], ['http', 'health', undefined, false], ['db', 'query', undefined, true],
    ['db', 'cache_get', undefined, false], ['db', 'cache_gets', undefined, true], ['other', 'x', undefined, false],
    ['http', 'request', 'debug', false], ['http', 'request', 'warn', true], ['ringtrace', 'invalid_value', 'trace', true],
  ];
  for (const [p, n, level, want] of cases) {
    assert.equal(s.selects(p, n, level as never), want, `${p}:${n} at ${level ?? 'info'}`);
  }
  const later = s.with([{ kind: 'enable', pattern: 'http:health' }]);
  assert.equal(later.selects('http', 'health'), true, 'a later rule wins');
  assert.equal(Selection.ALL.selects('anything', 'at_all', 'trace'), true, 'no file: everything');
});

test('filters: the last matching rule applies, an empty one removes it', () => {
  const s = new Selection(true, undefined, [{ kind: 'filter', pattern: 'http:*', expression: 'status >= 500' },
    { kind: 'filter', pattern: 'http:health', expression: '' }]);
  assert.equal(s.filterFor('http', 'request'), 'status >= 500');
  assert.equal(s.filterFor('http', 'health'), null);
  assert.equal(s.filterFor('db', 'query'), null);
});

test('the file format round-trips, and a bad line is refused naming it', () => {
  const s = new Selection(false, 'debug', [{ kind: 'enable', pattern: 'a:*' }, { kind: 'disable', pattern: 'a:b' },
    { kind: 'filter', pattern: 'a:c', expression: 'x > 1 && y == "a b"' }]);
  assert.equal(Selection.parse(s.toText()).toText(), s.toText());
  const bad: [string, RegExp][] = [
    ['nothing', /line 1: expected 'ringtrace-selection 1'/],
    ['ringtrace-selection 1\ndefault maybe', /line 2: expected default on\|off/],
    ['ringtrace-selection 1\nenable http:re quest', /line 2: 'http:re quest' is not an event pattern/],
    ['ringtrace-selection 1\nenable a:b\nlevel loud', /line 3: level: "loud" is not a level; use one of trace, debug, info, warn, error/],
    ['ringtrace-selection 1\nenable a:(b)', /line 2: 'a:\(b\)' is not an event pattern/],
  ];
  for (const [text, message] of bad) assert.throws(() => Selection.parse(text), (e: unknown) => e instanceof SelectionError && message.test(e.message), text);
});
