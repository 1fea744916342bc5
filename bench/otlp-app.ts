// The traced side of bench/otlp.ts: N request spans like a service's (typed:
// method, path, status), each with E events inside (default 1), emitted in
// slices of 5 000 with a pause between, so the recorder loses nothing.
import { provider } from '../src/index';

const n = Number(process.argv[2] ?? 1_000_000);
const events = Number(process.argv[3] ?? 1);
const p = provider('bench');
const request = p.spanType('request', ['method:string', 'path:string', 'status:u16']);
const query = p.event('query', ['table:string', 'rows:u32']);
const paths = ['/items', '/items/42', '/cart', '/checkout', '/login'];
let made = 0;
function slice(): void {
  for (let i = 0; i < 5000 && made < n; i++, made++) {
    const s = request.start('GET', paths[made % paths.length]!, 200);
    for (let e = 0; e < events; e++) query.emit('items', made & 1023);
    s.end();
  }
  if (made < n) setTimeout(slice, 2);
}
slice();
