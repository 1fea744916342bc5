// Which addon file the library loads (src/native.ts): RINGTRACE_ADDON, else the
// checkout's own build/Release/ringtrace.node, else the prebuild for this
// platform shipped in prebuilds/ — and never another .node file found in build/
// (a test build of the addon must not be picked up by accident).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const repo = path.join(__dirname, '..', '..');
const builtAddon = path.join(repo, 'build', 'Release', 'ringtrace.node');
const prebuildName = `prebuilds/${process.platform}-${process.arch}/ringtrace.glibc.node`;

/** A package laid out as installed: package.json, dist/src/native.js, and the given addon files. */
function fakePackage(addons: string[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ringtrace-loader-'));
  fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'ringtrace', version: '0.0.0' }));
  fs.mkdirSync(path.join(root, 'dist', 'src'), { recursive: true });
  fs.copyFileSync(path.join(repo, 'dist', 'src', 'native.js'), path.join(root, 'dist', 'src', 'native.js'));
  for (const a of addons) {
    fs.mkdirSync(path.dirname(path.join(root, a)), { recursive: true });
    fs.copyFileSync(builtAddon, path.join(root, a));
  }
  return root;
}

interface Resolved { path?: string; pathError?: string; loaded?: boolean; loadError?: string }

/** addonPath() and whether loadNative() worked, in a child process (the loader caches). */
function resolveIn(root: string, env: Record<string, string> = {}): Resolved {
  const script = `
    const n = require(${JSON.stringify(path.join(root, 'dist', 'src', 'native.js'))});
    const out = {};
    try { out.path = n.addonPath(); } catch (e) { out.pathError = e.message; }
    try { out.loaded = typeof n.loadNative().firstClassId === 'number'; } catch (e) { out.loadError = e.message; }
    console.log(JSON.stringify(out));`;
  const base = { ...process.env };
  delete base['RINGTRACE_ADDON'];
  // node-gyp-build comes from this checkout's node_modules, as from an app's.
  const r = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8', env: { ...base, NODE_PATH: path.join(repo, 'node_modules'), ...env },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Resolved;
}

test('an installed package without build/ loads the prebuild for this platform', () => {
  const root = fakePackage([prebuildName]);
  try {
    assert.deepEqual(resolveIn(root), { path: path.join(root, prebuildName), loaded: true });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a checkout (or an install that compiled) loads its own build before a prebuild', () => {
  const root = fakePackage([prebuildName, 'build/Release/ringtrace.node']);
  try {
    assert.deepEqual(resolveIn(root), { path: path.join(root, 'build', 'Release', 'ringtrace.node'), loaded: true });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('RINGTRACE_ADDON overrides both', () => {
  const root = fakePackage([prebuildName, 'build/Release/ringtrace.node', 'elsewhere/test-hooks.node']);
  try {
    const chosen = path.join(root, 'elsewhere', 'test-hooks.node');
    assert.deepEqual(resolveIn(root, { RINGTRACE_ADDON: chosen }), { path: chosen, loaded: true });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('another .node file in build/ is never loaded in place of the addon', () => {
  const root = fakePackage(['build/Release/ringtrace_test.node', 'build/Debug/ringtrace.node']);
  try {
    const r = resolveIn(root);
    assert.equal(r.path, undefined);
    assert.equal(r.loaded, undefined);
    assert.match(r.pathError!, new RegExp(`^no prebuilt addon for ${process.platform}-${process.arch} in ` +
      `${root}/prebuilds and no build/Release/ringtrace.node$`));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('no addon at all: a clear error saying how to build one', () => {
  const root = fakePackage([]);
  try {
    const r = resolveIn(root);
    assert.equal(r.loaded, undefined);
    assert.match(r.loadError!, /^ringtrace: cannot load the native addon .*\(no prebuilt addon for .* and no build\/Release\/ringtrace\.node\); build it from source .*npm rebuild ringtrace/);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
