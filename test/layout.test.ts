// The byte sizes the TypeScript readers take from src/layout.ts are the
// native core's (native/ring/layout.h, through the addon).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { loadNative } from '../src/native';
import { PACKET_HEADER } from '../src/layout';

test('the packet header size is the native core\'s', () => {
  assert.equal(loadNative().packetHeaderSize, PACKET_HEADER);
});
