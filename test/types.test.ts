// emit's parameters are inferred from the schema: a wrong type or arity is a
// compile error. Each @ts-expect-error below fails `tsc` (run by `npm test`
// before any test) if the error it expects does not occur; the runtime part
// checks the inference matches what the serializer accepts.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { provider, type ArgsOf } from '../src/index';

process.env['RINGTRACE_SESSION'] = 'off'; // types only: nothing is recorded
const http = provider('types');
const request = http.event('request', ['method:string', 'status:u16', 'bytes:u64', 'ok:bool', 'body:bytes']);

function compileTimeChecks(): void {
  request.emit('GET', 200, 1234, true, Buffer.alloc(0));
  request.emit('GET', 200, 1234n, false, new Uint8Array(1)); // u64 takes bigint too
  // @ts-expect-error status is a number, not a string
  request.emit('GET', '200', 1234, true, Buffer.alloc(0));
  // @ts-expect-error missing arguments
  request.emit('GET', 200);
  // @ts-expect-error one argument too many
  request.emit('GET', 200, 1, true, Buffer.alloc(0), 'extra');
  // @ts-expect-error bool field given a number
  request.emit('GET', 200, 1, 1, Buffer.alloc(0));
  // @ts-expect-error bytes field given a string
  request.emit('GET', 200, 1, true, 'body');
  // @ts-expect-error unknown field type in a schema
  http.event('bad', ['x:int']);
  // @ts-expect-error u16 does not take bigint
  http.event('narrow', ['s:u16']).emit(1n);
  const span = http.spanType('handle', ['route:string', 'status:u16']);
  span.start('/x', 200).end();
  // @ts-expect-error typed span fields are checked like emit's
  span.start(200, '/x');
}

test('emit parameter types follow the schema', () => {
  type Expected = [string, number, number | bigint, boolean, Uint8Array];
  const same: ArgsOf<['method:string', 'status:u16', 'bytes:u64', 'ok:bool', 'body:bytes']> extends Expected
    ? Expected extends ArgsOf<['method:string', 'status:u16', 'bytes:u64', 'ok:bool', 'body:bytes']> ? true : false
    : false = true;
  assert.equal(same, true);
  assert.equal(typeof compileTimeChecks, 'function');
  assert.equal(request.enabled, false, 'RINGTRACE_SESSION=off disables everything');
  compileTimeChecks.length; // referenced, not run: its bad calls would throw at run time
});
