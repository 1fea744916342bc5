#!/usr/bin/env bash
# Builds the addons shipped inside the package, run by `npm pack` / `npm publish`
# (the `prepack` script): prebuilds/linux-x64 and prebuilds/linux-arm64. The
# addon uses Node-API only, so one build per platform serves every Node version
# (node-gyp-build picks it at run time). arm64 is cross-compiled with Debian's
# toolchain (apt-get install g++-aarch64-linux-gnu); it is checked to be an
# aarch64 ELF file but not run here.
#
# The builds run in a staging copy holding only the files the package ships
# (package.json "files"), so a source file missing from that list fails here,
# not on a user's machine that falls back to compiling, and this checkout's own
# development build in build/ is left as it was.
set -euo pipefail
cd "$(dirname "$0")/.."
# npm puts its node-gyp on PATH and passes its settings (nodedir) to scripts.
[ -n "${npm_lifecycle_event:-}" ] || exec npm run -s prepack
root=$PWD
stage=$root/build-prebuild
out=$root/prebuilds

for tool in aarch64-linux-gnu-gcc aarch64-linux-gnu-g++ aarch64-linux-gnu-strip; do
  command -v "$tool" >/dev/null || {
    echo "prebuild: $tool not found: apt-get install g++-aarch64-linux-gnu" >&2; exit 1; }
done

rm -rf "$stage" "$out"
mkdir -p "$stage"
# The packed file list, without running this script again (--ignore-scripts).
npm pack --dry-run --json --ignore-scripts 2>/dev/null |
  node -e 'for (const f of JSON.parse(require("fs").readFileSync(0, "utf8"))[0].files) console.log(f.path)' |
  grep -E '^(package\.json|binding\.gyp|native/)' |
  while IFS= read -r f; do mkdir -p "$stage/$(dirname "$f")" && cp "$f" "$stage/$f"; done

# Headers of the running Node (npm is set to use the local ones when nodedir is
# configured; otherwise node-gyp fetches these once). `--napi`: no ABI tag;
# `--tag-libc`: a musl system compiles from source instead of loading a glibc build.
target=$(node -p process.versions.node)
prebuildify() {
  "$root/node_modules/.bin/prebuildify" --napi --tag-libc --strip -t "$target" \
    --cwd "$stage" --out "$root" "$@"
}
prebuildify --arch x64
CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar \
  prebuildify --arch arm64 --strip-bin aarch64-linux-gnu-strip

# Each file is an ELF shared object for its CPU (e_machine: x86-64 62, aarch64 183).
node -e '
  const fs = require("fs"), path = require("path");
  for (const [dir, machine] of [["linux-x64", 62], ["linux-arm64", 183]]) {
    const files = fs.readdirSync(path.join(process.argv[1], dir)).filter((f) => f.endsWith(".node"));
    if (files.length !== 1) throw new Error(`prebuilds/${dir}: expected one .node file, found ${files}`);
    const b = fs.readFileSync(path.join(process.argv[1], dir, files[0]));
    if (b.readUInt32BE(0) !== 0x7f454c46 || b.readUInt16LE(18) !== machine)
      throw new Error(`prebuilds/${dir}/${files[0]} is not an ELF file for machine ${machine}`);
    console.log(`prebuild: prebuilds/${dir}/${files[0]} (${b.length} bytes)`);
  }' "$out"
rm -rf "$stage"
