// The reader corpus (test/corpus/, written by fixtures/make-corpus.ts): a
// small valid trace and damaged copies, each with the error every reader
// must report (.expect) and, for some, the number of events every reader
// must still deliver (.events). Each entry also seeds a few random damages,
// as the property test does on a fresh recording (fuzz-readers.test.ts).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { computeStats } from '../cli/stats';
import { runView } from '../cli/view';
import { parseRegistry } from '../src/decode';
import { runExport } from '../src/export/export';
import { damage, rng } from '../fixtures/damage';

const corpus = path.join(__dirname, '..', '..', 'test', 'corpus');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-corpus-'));
test.after(() => fs.rmSync(work, { recursive: true, force: true }));

/**
 * Every reader's errors for `dir`: thrown (whole trace refused) or reported
 * per stream; and the events each reader delivered (stats, view, 3 exports).
 */
function readerResults(dir: string): { errors: string[]; delivered: number[] } {
  const errors: string[] = [];
  const delivered: number[] = [];
  const attempt = (what: string, fn: () => string[]) => {
    try {
      errors.push(...fn().map((m) => `${what}: ${m}`));
    } catch (e) {
      assert.ok(e instanceof Error && !(e instanceof TypeError) && !(e instanceof RangeError),
        `${what} threw ${String(e)}`);
      errors.push(`${what}: ${e.message}`);
    }
  };
  attempt('stats', () => {
    const s = computeStats(dir);
    delivered.push(s.events);
    return s.errors;
  });
  attempt('view', () => {
    const seen: string[] = [];
    let lines = 0;
    runView(dir, { json: true }, () => { lines++; }, (m) => seen.push(m));
    delivered.push(lines);
    return seen;
  });
  for (const format of ['jsonl', 'perfetto', 'chrome'] as const) {
    attempt(`export ${format}`, () => {
      const r = runExport(dir, { format, output: path.join(work, 'out') });
      delivered.push(r.events);
      return r.errors;
    });
  }
  return { errors, delivered };
}

const entries = fs.readdirSync(corpus).filter((e) => fs.statSync(path.join(corpus, e)).isDirectory());

test('the corpus has its entries', () => {
  assert.ok(entries.includes('valid') && entries.length >= 8, entries.join(' '));
});

for (const entry of entries) {
  test(`corpus ${entry}: every reader reports what is expected`, () => {
    const expect = fs.readFileSync(path.join(corpus, entry, '.expect'), 'utf8').trim();
    const { errors, delivered } = readerResults(path.join(corpus, entry));
    const eventsFile = path.join(corpus, entry, '.events');
    if (fs.existsSync(eventsFile)) {
      const events = Number(fs.readFileSync(eventsFile, 'utf8'));
      assert.deepEqual(delivered, [events, events, events, events, events], 'every reader delivers the events it should');
    }
    if (!expect) {
      assert.deepEqual(errors, []);
      return;
    }
    assert.equal(errors.length, 5, `each of the 5 readers reports it once: ${errors.join(' | ')}`);
    for (const e of errors) assert.match(e, new RegExp(expect));
  });
}

test('random damage on every corpus entry: clear errors only', () => {
  entries.forEach((entry, i) => {
    for (let round = 0; round < 10; round++) {
      const dir = path.join(work, `${entry}-${round}`);
      fs.cpSync(path.join(corpus, entry), dir, { recursive: true });
      damage(dir, rng((i + 1) * 7919 + round * 104729));
      readerResults(dir); // asserts that nothing but a clear Error escapes
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('a class description whose field is not {name, type} is refused, not read as a field named "undefined"', () => {
  const line = '16 {"v":1,"provider":"p","name":"e","kind":"event","fields":[{"neme":"args","type":"string"}]}\n';
  assert.throws(() => parseRegistry(line, '.classes'), /\.classes: line 1: not a ringtrace class description: a field is not \{name, type\}/);
  const good = parseRegistry(line.replace('neme', 'name'), '.classes');
  assert.deepEqual(good.get(16)!.fields, [{ name: 'args', type: 'string' }]);
});
