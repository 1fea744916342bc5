#!/usr/bin/env bash
# Package check: what `npm pack` makes installs and traces in a fresh project
# on a machine without a C compiler, as a user's would.
#   npm run test:package                   pack this checkout, then check it
#   bash test/package/check.sh FILE.tgz    check a tarball made before
# It checks the tarball's file list (what runs, the LICENSE, both prebuilt
# addons, nothing of the tests, benchmarks or build directories), installs it
# into a CommonJS and an ES module project with a PATH that has no compiler,
# records a trace from each with the installed trace-consume, and compiles a
# TypeScript app against the shipped .d.ts files with tsc's defaults. Without a
# prebuild for this machine the install cannot compile the addon, the app runs
# untraced, and the check fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
here=$root/test/package
work=$(mktemp -d "${TMPDIR:-/tmp}/ringtrace-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "package check: FAIL: $*" >&2; exit 1; }
ok() { echo "package check: ok (${SECONDS}s): $*"; }
arch=$(node -p process.arch)

# --- the tarball -------------------------------------------------------------
if [ $# -ge 1 ]; then
  tgz=$(realpath "$1")
else
  npm pack --pack-destination "$work" >"$work/pack.log" 2>&1 || { cat "$work/pack.log" >&2; fail "npm pack"; }
  tgz=$(ls "$work"/ringtrace-*.tgz)
fi
tar tzf "$tgz" | sed 's|^package/||' | sort >"$work/files"
for f in LICENSE README.md package.json dist/src/index.js dist/src/index.d.ts dist/src/auto/index.js dist/cli/trace-consume.js \
    proto/perfetto_trace.proto binding.gyp native/Makefile native/include/ringtrace.h native/addon/addon.cc; do
  grep -qxF "$f" "$work/files" || fail "$f is not in the package"
done
if grep -E '^(test|bench|fixtures|examples|docs|scripts|\.ci|trace|build|build-prebuild|node_modules)/|^dist/(test|bench|fixtures)/|^native/(test|bench|build[^/]*)/|\.map$|^[^/]+\.tgz$' \
    "$work/files"; then
  fail "the files above are not needed at run time"
fi
grep -E '\.node$' "$work/files" | grep -vE '^prebuilds/linux-(x64|arm64)/ringtrace\.glibc\.node$' &&
  fail "an addon outside prebuilds/ (a test or development build must never ship)"
for a in x64 arm64; do
  grep -qxF "prebuilds/linux-$a/ringtrace.glibc.node" "$work/files" || fail "no prebuilt addon for linux-$a"
done
mkdir "$work/unpacked"
tar xzf "$tgz" -C "$work/unpacked"
# ELF e_machine: 62 x86-64, 183 aarch64 (the arm64 build is cross-compiled, not run here).
node -e '
  const fs = require("fs");
  for (const [a, m] of [["x64", 62], ["arm64", 183]]) {
    const b = fs.readFileSync(`${process.argv[1]}/linux-${a}/ringtrace.glibc.node`);
    if (b.readUInt32BE(0) !== 0x7f454c46 || b.readUInt16LE(18) !== m) { console.error(`linux-${a}: not an ELF file for machine ${m}`); process.exit(1); }
  }' "$work/unpacked/package/prebuilds" || fail "prebuilt addon of the wrong kind"
if command -v file >/dev/null; then file -b "$work"/unpacked/package/prebuilds/*/*.node | sed 's/^/  /'; fi
ok "$(wc -l <"$work/files") files in $(basename "$tgz"), prebuilds for linux-x64 and linux-arm64"

# What a C program needs is there: the public header stands alone, the library builds.
pkg=$work/unpacked/package
echo '#include "ringtrace.h"' | cc -std=gnu11 -Wall -Wextra -Werror -fsyntax-only -I"$pkg/native/include" -x c - ||
  fail "native/include/ringtrace.h does not compile on its own from the package"
make -s -C "$pkg/native" lib >"$work/make-lib.log" 2>&1 || { cat "$work/make-lib.log" >&2; fail "make -C native lib"; }
[ -f "$pkg/native/build/libringtrace.a" ] || fail "make -C native lib made no build/libringtrace.a"
ok "C: native/include/ringtrace.h compiles alone, make -C native lib builds libringtrace.a"

# --- a PATH without a C compiler ---------------------------------------------
# Only what npm, the apps and trace-consume need: node, npm, npx and a shell.
mkdir "$work/bin"
for t in node npm npx sh bash env; do ln -s "$(command -v "$t")" "$work/bin/$t"; done
nocc() { env -i HOME="$HOME" TMPDIR="${TMPDIR:-/tmp}" PATH="$work/bin" "$@"; }
for t in cc gcc g++ c++ clang make; do
  if nocc sh -c "command -v $t"; then fail "$t is on the no-compiler PATH"; fi
done
ok "no compiler on the apps' PATH (command -v cc gcc g++ c++ clang make: none)"

# --- install into fresh projects and record a trace from each -----------------
# $1: project kind, $2: app file, $3: more package.json fields.
consumer() {
  local kind=$1 app=$2 more=${3:-}
  local dir=$work/$kind
  mkdir "$dir"
  printf '{ "name": "app-%s", "version": "1.0.0", "private": true%s }\n' "$kind" "$more" >"$dir/package.json"
  cp "$here/$app" "$dir/"
  (cd "$dir" && nocc npm install --prefer-offline --no-audit --no-fund --loglevel=error "$tgz") \
    >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; fail "$kind: npm install of the tarball"; }
  [ ! -e "$dir/node_modules/ringtrace/build" ] || fail "$kind: the install compiled the addon"
  local loaded
  loaded=$(cd "$dir" && nocc node -e 'console.log(require("ringtrace/dist/src/native").addonPath())') ||
    fail "$kind: no addon found"
  [ "$loaded" = "$dir/node_modules/ringtrace/prebuilds/linux-$arch/ringtrace.glibc.node" ] ||
    fail "$kind: the addon found is $loaded, not the prebuild"
  # package.json "exports": the entry point, auto mode, and deep paths into dist/ (as above) resolve.
  (cd "$dir" && nocc node -e 'for (const m of ["ringtrace", "ringtrace/auto", "ringtrace/dist/src/native.js"]) require.resolve(m)') ||
    fail "$kind: a path the package exports does not resolve"
  (cd "$dir" && nocc npx --no-install trace-consume record -q -o "$dir/trace" -- node "$app") \
    >"$dir/record.log" 2>&1 || { cat "$dir/record.log" >&2; fail "$kind: record"; }
  grep -q RingtraceWarning "$dir/record.log" && { cat "$dir/record.log" >&2; fail "$kind: the app warned"; }
  (cd "$dir" && nocc npx --no-install trace-consume stats --json trace) >"$dir/stats.json" ||
    fail "$kind: stats"
  node -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const n = s.perClass["pkgcheck:tick"] ?? 0;
    if (n !== 1000 || s.lost !== 0 || s.errors.length) {
      console.error(`pkgcheck:tick events ${n} of 1000, lost ${s.lost}, errors ${JSON.stringify(s.errors)}`);
      process.exit(1);
    }' "$dir/stats.json" || fail "$kind: the trace does not hold the app's 1000 events"
  local last
  last=$(cd "$dir" && nocc npx --no-install trace-consume view trace --event pkgcheck:tick | tail -n 1)
  case $last in *"pkgcheck:tick n=999 from=\"$kind\""*) ;; *) fail "$kind: view's last event is: $last" ;; esac
  ok "$kind app ($app): installed without compiling, loaded $(basename "$(dirname "$loaded")")/$(basename "$loaded"), recorded 1000 events"
}
# npm runs a dependency's install script (node-gyp-build: use the prebuild if it
# loads, else compile) with a notice unless the project's "allowScripts" denies
# it (a tarball's entry is named by its path). The CommonJS project installs as
# npm does by default; the ES module project denies the script, as a cautious
# user does: the prebuild must serve both.
consumer commonjs app.cjs
consumer esm app.mjs ", \"allowScripts\": { \"file:$tgz\": false }"

# --- query and report from the installed package ------------------------------
# The optional dependency @duckdb/node-api (DuckDB's own binary: nothing to
# compile) and the report page's assets (src/report/page/) must come with it.
dir=$work/commonjs
n=$(cd "$dir" && nocc npx --no-install trace-consume query trace -q --csv \
  "SELECT count(*) FROM events WHERE name = 'tick'" | tail -n 1) || fail "query from the installed package"
[ "$n" = 1000 ] || fail "query counted $n ticks, not 1000"
(cd "$dir" && nocc npx --no-install trace-consume report trace -q -o report.html) || fail "report from the installed package"
grep -q '<div id="app">' "$dir/report.html" || fail "the report page has no app element"
ok "query and report work from the installed package (DuckDB's binary installed with it, the page's assets shipped)"

# --- the .d.ts files under tsc's defaults (target ES5, strict) -----------------
tsc=$root/node_modules/typescript/bin/tsc
cp "$here/app.ts" "$here/tsconfig.no-auto-types.json" "$work/commonjs/"
(cd "$work/commonjs" && nocc node "$tsc" --strict --noEmit app.ts) || fail "tsc --strict app.ts"
# With no automatic @types: the package's own .d.ts must bring the Node types.
(cd "$work/commonjs" && nocc node "$tsc" -p tsconfig.no-auto-types.json) || fail "tsc with \"types\": []"
ok "the .d.ts files compile under tsc --strict with its default target, and with no automatic @types"
echo "package check: passed"
