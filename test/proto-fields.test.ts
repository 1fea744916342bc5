// The .proto reader the encoders take their tags from (src/export/proto-fields.ts)
// against protobufjs, field by field, on both shipped schemas; and what it
// refuses.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { readProtoFields } from '../src/export/proto-fields';

const PROTOS = ['otlp.proto', 'perfetto_trace.proto'].map((f) => path.join(__dirname, '..', '..', 'proto', f));

/** Every message type under `ns`, by full name without the leading dot. */
function messagesOf(ns: protobuf.NamespaceBase, out = new Map<string, protobuf.Type>()): Map<string, protobuf.Type> {
  for (const nested of ns.nestedArray) {
    if (nested instanceof protobuf.Type) out.set(nested.fullName.slice(1), nested);
    if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) messagesOf(nested, out);
  }
  return out;
}

for (const file of PROTOS) {
  test(`${path.basename(file)}: every message and field as protobufjs reads it`, () => {
    const root = new protobuf.Root().loadSync(file, { keepCase: true });
    root.resolveAll();
    const ours = readProtoFields(fs.readFileSync(file, 'utf8'), file);
    const theirs = messagesOf(root);
    assert.deepEqual([...ours.keys()].sort(), [...theirs.keys()].sort(), 'the same messages');
    let fields = 0;
    for (const [name, type] of theirs) {
      const mine = ours.get(name)!;
      assert.deepEqual([...mine.keys()].sort(), Object.keys(type.fields).sort(), `${name}: the same fields`);
      for (const f of type.fieldsArray) {
        const m = mine.get(f.name)!;
        const kind = f.resolvedType instanceof protobuf.Type ? 'message' : f.resolvedType ? 'enum' : 'scalar';
        // (protobufjs's `packed` is true for any repeated proto3 field; it packs only numbers and enums)
        const packable = kind === 'enum' || (protobuf.types.packed as Record<string, unknown>)[f.type] !== undefined;
        assert.deepEqual([m.number, m.kind, m.repeated, m.packed], [f.id, kind, f.repeated, f.repeated && f.packed && packable],
          `${name}.${f.name}`);
        if (kind !== 'scalar') assert.equal(`.${m.type}`, f.resolvedType!.fullName, `${name}.${f.name}: its type`);
        else assert.equal(m.type, f.type);
        fields++;
      }
    }
    assert.ok(fields > 30, `${fields} fields compared`);
  });
}

test('packed: proto3 repeated numbers by default, proto2 only when asked; [packed = false] is heard', () => {
  const p3 = readProtoFields('syntax = "proto3"; package p; message M { repeated int32 a = 1; repeated string s = 2;' +
    ' repeated int32 b = 3 [packed = false]; }', 't3');
  assert.deepEqual([...p3.get('p.M')!.values()].map((f) => f.packed), [true, false, false]);
  const p2 = readProtoFields('syntax = "proto2"; message M { repeated int32 a = 1; repeated int32 b = 2 [packed=true]; }',
    't2');
  assert.deepEqual([...p2.get('M')!.values()].map((f) => f.packed), [false, true]);
});

test('what it does not understand is an error naming the file, never a guess', () => {
  const bad: [string, RegExp][] = [
    ['syntax = "proto3"; message M { map<string, int32> m = 1; }', /f\.proto: /],
    ['syntax = "proto3"; option java_package = "x"; message M {}', /f\.proto: 'option' is not something/],
    ['syntax = "proto3"; message M { Missing m = 1; }', /f\.proto: M\.m has type Missing, which is not defined/],
    ['syntax = "proto3"; message M { int32 a = 0; }', /f\.proto: field a has no valid number/],
    ['syntax = "proto3"; message M { int32 a = 1;', /f\.proto: a block is not closed/],
    ['syntax = "proto3"; message M { int32 a = 1; } }', /f\.proto: unbalanced \}/],
  ];
  for (const [text, want] of bad) assert.throws(() => readProtoFields(text, 'f.proto'), want, text);
});

test('comments: a line comment holding /* does not open a block comment', () => {
  const fields = readProtoFields('// see collector/*/v1\nsyntax = "proto3";\npackage p; /* a\n block */ message M {' +
    ' int64 a = 2; // trailing\n}', 'c');
  assert.equal(fields.get('p.M')!.get('a')!.number, 2);
});
