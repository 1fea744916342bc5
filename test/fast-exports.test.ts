// A module's functions reach other modules' functions and classes through
// their exports objects (TypeScript compiles `import { f }` to `m_1.f`).
// V8 turns an exports object that re-exports (`export { x } from`, a getter
// defined at run time) into a dictionary, and optimized code then looks
// every name up through an inline cache call instead of a constant: the
// bridge paid two such calls per span (~160 instructions, ~10 instruction-cache
// misses) for reaching its span class. Only the modules whose job is to
// re-export (the package's entry points) may be dictionaries.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const SRC = path.join(__dirname, '..', 'src');
/** Entry points and barrels: loaded once by the app, never read per record. */
const REEXPORTING = new Set(['index.js', 'auto/index.js', 'filter/index.js', 'otel/index.js', 'provider.js',
  'export/export.js', 'export/perfetto.js']);
/** Worker entry points: they run when loaded, and need their worker's data. */
const WORKERS = /-worker\.js$/;

function modules(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return modules(p);
    return e.name.endsWith('.js') ? [path.relative(SRC, p)] : [];
  });
}

test('every module but the entry points keeps its exports object in fast mode', () => {
  const checked = modules(SRC).filter((m) => !REEXPORTING.has(m) && !WORKERS.test(m));
  assert.ok(checked.length > 50, `found only ${checked.length} modules under ${SRC}`);
  const script = `const slow = [];
for (const m of ${JSON.stringify(checked)}) if (!%HasFastProperties(require(${JSON.stringify(SRC)} + '/' + m))) slow.push(m);
process.stdout.write(JSON.stringify(slow));`;
  const r = spawnSync(process.execPath, ['--allow-natives-syntax', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), [], 'these modules re-export (or define exports at run time): ' +
    'import what they re-export from where it is defined instead');
});
