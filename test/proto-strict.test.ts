// The tests' strict protobuf walk (fixtures/proto-strict.ts) refuses what
// protobufjs decodes leniently, and takes what protobufjs itself encodes.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { checkWireStructure } from '../fixtures/proto-strict';

const root = new protobuf.Root().loadSync(path.join(__dirname, '..', '..', 'proto', 'otlp.proto'), { keepCase: true });
const Resource = root.lookupType('ringtrace.otlp.Resource');
const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');

test('the strict walk takes protobufjs\' own bytes and refuses bad lengths, wire types and UTF-8', () => {
  const good = Resource.encode(Resource.fromObject({ attributes: [{ key: 's', value: { string_value: 'abc' } },
    { key: 'n', value: { int_value: 300 } }, { key: 'd', value: { double_value: 1.5 } }] })).finish();
  checkWireStructure(Resource, good);
  // KeyValue{key "s", value{string_value "abc"}} twice, the first string's length one too many: protobufjs reads it
  const overrun = hex('0a0a 0a0173 1205 0a04616263  0a0a 0a0174 1205 0a03616263');
  assert.doesNotThrow(() => Resource.decode(overrun));
  assert.throws(() => checkWireStructure(Resource, overrun), /string_value at byte \d+: length 4 runs 1 bytes past/);
  assert.throws(() => checkWireStructure(Resource, hex('0a0b 0a0173 1205 0a03616263 00')), /runs|field number 0/);
  assert.throws(() => checkWireStructure(Resource, hex('0a0a 0a0173 1005 0a03616263')), /wire type 0/); // value as a varint
  assert.throws(() => checkWireStructure(Resource, hex('0a0a 0a0173 1205 0a03ff4141')), /not valid UTF-8/);
  assert.throws(() => checkWireStructure(Resource, hex('0a09 0a0173 1205 0a03')), /past|cut/);
});
