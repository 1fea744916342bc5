// Prints one list of the root binding.gyp's addon target (sources, include_dirs,
// defines, cflags...), space-separated, with paths made relative to this
// directory: the test build of the addon compiles exactly what the real one does.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', '..', '..');
const text = fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8').replace(/^\s*#.*$/gm, '');
// A .gyp file is a Python literal; without comments, a JavaScript expression.
const gyp = new Function(`return (${text});`)();
const target = gyp.targets.find((t) => t.target_name === 'ringtrace') ?? gyp.targets[0];
const field = process.argv[2];
const rel = (p) => path.relative(__dirname, path.join(root, p));
const values = (target[field] ?? []).map((v) => {
  if (field === 'sources') return rel(v);
  if (field === 'include_dirs') {
    if (v.includes('node-addon-api')) return path.relative(__dirname, require('node-addon-api').include_dir);
    return rel(v);
  }
  return v;
});
process.stdout.write(values.join(' '));
