// The documentation's links between its own files resolve: every relative
// link in README.md and docs/*.md names a file that exists and, with a
// #fragment, a heading of that file (as GitHub makes heading anchors).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');
const pages = ['README.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/**
 * A file's anchors: explicit `<a id>`s, and GitHub's for each heading (lower case, punctuation but
 * '-' and '_' dropped, spaces to '-', repeats numbered).
 */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fenced = false;
  for (const id of text.matchAll(/<a id="([^"]+)"><\/a>/g)) out.add(id[1]!); // explicit anchors
  for (const line of text.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const m = fenced ? null : /^#{1,6} (.*)$/.exec(line);
    if (!m) continue;
    const slug = m[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

test('links between the docs resolve: files and heading anchors', () => {
  const broken: string[] = [];
  let checked = 0;
  for (const page of pages) {
    const text = fs.readFileSync(path.join(root, page), 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/i.test(target)) continue; // http:, https:, mailto:
      const [file, fragment] = target.split('#') as [string, string | undefined];
      const resolved = file === '' ? path.join(root, page) : path.join(root, path.dirname(page), file);
      checked++;
      if (!fs.existsSync(resolved)) {
        broken.push(`${page}: ${target} (no such file)`);
      } else if (fragment !== undefined && resolved.endsWith('.md') &&
        !anchorsOf(fs.readFileSync(resolved, 'utf8')).has(decodeURIComponent(fragment))) {
        broken.push(`${page}: ${target} (no such heading)`);
      }
    }
  }
  assert.ok(checked > 50, `links checked: ${checked}`);
  assert.deepEqual(broken, []);
});
