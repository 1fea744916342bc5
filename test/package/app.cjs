// A CommonJS app using the installed package (test/package/check.sh).
'use strict';
const { provider } = require('ringtrace');

const tick = provider('pkgcheck').event('tick', ['n:u32', 'from:string']);
for (let n = 0; n < 1000; n++) tick.emit(n, 'commonjs');
