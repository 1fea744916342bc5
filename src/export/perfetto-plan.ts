// Event plans: how one class's records are written on one packet sequence,
// made once (the first record of the class on that sequence): the track
// event's constant bytes (type, interned category and name) and, per typed
// argument, its value op and its annotation name field, so each record is
// encoded straight from its bytes (perfetto-args.ts).
import type { ClassDescription } from '../schema';
import { DENSE_IDS } from '../trace/cursor';
import { fieldOps } from './field-ops';
import type { Interning, Sequence } from './perfetto-interning';
import { ANNOTATION_MAX, PACKET_FIXED_MAX, type Tags, TYPE_SLICE_END } from './perfetto-schema';
import { tagAndVarint } from './protowire';
import { argsFrom, hasJsonArgs, spanNameAt } from './record-args';
import { wordsOf } from './words';

export interface EventPlan {
  head: Uint8Array; // TrackEvent fields after the track: type, and category and name where they belong
  headWords: Uint32Array; // the same as words (putWords)
  from: number; // index of the first argument field
  argsAt: number; // its offset in the payload (after pid, tid and the span ids: all fixed-size)
  json: boolean; // the arguments are one JSON text (span(name, fields))
  named: boolean; // a span named by its record (record-args.ts): written by the general path
  ops: Uint8Array; // typed arguments: one value op each
  keys: Uint8Array[]; // typed arguments: each annotation's name_iid field, as bytes
  keyWords: Uint32Array[]; // the same as words
  bound: number; // encoded size at most, beyond the record's own bytes
  jsonKeys: Uint8Array[]; // JSON arguments: the member names seen last at each position
  jsonKeyFields: Uint8Array[]; // and their name_iid fields
}

/** The plan of class `id` for records of TrackEvent `type` on `seq` (made now, then kept on seq). */
export function makePlan(seq: Sequence, cls: ClassDescription, id: number, type: number, T: Tags,
  interning: Interning): EventPlan {
  const head = [T.type, type];
  if (type !== TYPE_SLICE_END) {
    head.push(...tagAndVarint(T.category, interning.category(seq, cls.provider)));
    head.push(...tagAndVarint(T.name, interning.name(seq, cls.name)));
  }
  const from = argsFrom(cls);
  const json = hasJsonArgs(cls);
  const fields = json ? [] : cls.fields.slice(from);
  const keys = fields.map((f) => tagAndVarint(T.aName, interning.key(seq, f.name)));
  const headBytes = Uint8Array.from(head);
  const plan: EventPlan = {
    head: headBytes, headWords: wordsOf(headBytes), from, argsAt: 8 + 8 * from, json, named: spanNameAt(cls) >= 0,
    ops: fieldOps(fields), keys, keyWords: keys.map(wordsOf),
    bound: PACKET_FIXED_MAX + head.length + fields.length * ANNOTATION_MAX, jsonKeys: [], jsonKeyFields: [],
  };
  if (id < DENSE_IDS) seq.plans[id] = plan;
  else seq.bigPlans.set(id, plan);
  return plan;
}
