// A small traced program: a pretend server handling requests on the main
// thread and in a worker, with spans, typed events and a counter.
//   t=$(mktemp -d)/trace && npx trace-consume record -o "$t" -- node examples/quickstart.js
//   npx trace-consume view "$t" | head; npx trace-consume stats "$t"
'use strict';
const { isMainThread, Worker } = require('node:worker_threads');
const { provider } = require('..'); // the ringtrace package (this repository)

const app = provider('shop');
const request = app.event('request', ['method:string', 'path:string', 'status:u16', 'bytes:u64']);
const cacheMiss = app.event('cache_miss', ['key:string']);
const queueDepth = app.counter('queue_depth');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function handle(i, who) {
  await app.withSpan('handle', async () => {
    const path = `/items/${i % 17}`;
    if (i % 5 === 0) {
      cacheMiss.emit(path);
      await app.withSpan('db_query', () => sleep(1), { table: 'items', who });
    }
    request.emit('GET', path, i % 50 === 0 ? 500 : 200, 512 + i);
  }, { request: i });
}

async function serve(who, count) {
  for (let i = 0; i < count; i++) {
    queueDepth.set(count - i);
    await handle(i, who);
  }
}

if (isMainThread) {
  const worker = new Worker(__filename);
  serve('main', 200).then(() => new Promise((resolve) => worker.once('exit', resolve)))
    .then(() => console.log('quickstart: handled 400 requests on 2 threads'));
} else {
  serve('worker', 200);
}
