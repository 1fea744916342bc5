// The reader corpus (test/corpus/, written by fixtures/make-corpus.ts): a
// small valid trace and damaged copies, each with the error every reader
// must report (.expect). Each entry also seeds a few random damages, as the
// property test does on a fresh recording (fuzz-readers.test.ts).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { computeStats } from '../cli/stats';
import { runView } from '../cli/view';
import { runExport } from '../src/export/export';
import { damage, rng } from '../fixtures/damage';

const corpus = path.join(__dirname, '..', '..', 'test', 'corpus');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-corpus-'));
test.after(() => fs.rmSync(work, { recursive: true, force: true }));

/** Every reader's errors for `dir`: thrown (whole trace refused) or reported per stream. */
function readerErrors(dir: string): string[] {
  const errors: string[] = [];
  const attempt = (what: string, fn: () => string[]) => {
    try {
      errors.push(...fn().map((m) => `${what}: ${m}`));
    } catch (e) {
      assert.ok(e instanceof Error && !(e instanceof TypeError) && !(e instanceof RangeError),
        `${what} threw ${String(e)}`);
      errors.push(`${what}: ${e.message}`);
    }
  };
  attempt('stats', () => computeStats(dir).errors);
  attempt('view', () => {
    const seen: string[] = [];
    runView(dir, { json: true }, () => undefined, (m) => seen.push(m));
    return seen;
  });
  for (const format of ['jsonl', 'perfetto', 'chrome'] as const) {
    attempt(`export ${format}`, () => runExport(dir, { format, output: path.join(work, 'out') }).errors);
  }
  return errors;
}

const entries = fs.readdirSync(corpus).filter((e) => fs.statSync(path.join(corpus, e)).isDirectory());

test('the corpus has its entries', () => {
  assert.ok(entries.includes('valid') && entries.length >= 8, entries.join(' '));
});

for (const entry of entries) {
  test(`corpus ${entry}: every reader reports what is expected`, () => {
    const expect = fs.readFileSync(path.join(corpus, entry, '.expect'), 'utf8').trim();
    const errors = readerErrors(path.join(corpus, entry));
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
      readerErrors(dir); // asserts that nothing but a clear Error escapes
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
