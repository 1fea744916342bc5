// Interning, per packet sequence (one per thread): event names, categories
// (the provider) and annotation names get small ids (iids) the first time a
// sequence uses them, and the packet that first uses an id carries its
// string (InternedData) before its track event. A sequence's first packet
// clears the incremental state, so its ids start again from 1.
import type { ThreadState } from './model';
import type { EventPlan } from './perfetto-plan';
import type { ProtoWriter } from './protowire';
import { WIRE_LEN, WIRE_VARINT } from './protowire';
import type { Tags } from './perfetto-schema';

/** A thread's packet sequence: its interning tables and its event plans. */
export interface Sequence {
  id: number;
  started: boolean;
  names: Map<string, number>;
  categories: Map<string, number>;
  keys: Map<string, number>;
  /** By class id below DENSE_IDS (trace/cursor.ts); the others in bigPlans. */
  plans: (EventPlan | undefined)[];
  bigPlans: Map<number, EventPlan>;
}

/** The sequence of a thread (made on first use, kept in its model state). */
export function sequenceOf(th: ThreadState): Sequence {
  let seq = th.sinkState as Sequence | undefined;
  if (!seq) {
    seq = { id: th.seq, started: false, names: new Map(), categories: new Map(), keys: new Map(), plans: [],
      bigPlans: new Map() };
    th.sinkState = seq;
  }
  return seq;
}

/** The ids given out since the last packet was written, which that packet must carry. */
export class Interning {
  private readonly newNames: [number, string][] = [];
  private readonly newCategories: [number, string][] = [];
  private readonly newKeys: [number, string][] = [];

  name(seq: Sequence, s: string): number {
    return iid(seq.names, s, this.newNames);
  }

  category(seq: Sequence, s: string): number {
    return iid(seq.categories, s, this.newCategories);
  }

  key(seq: Sequence, s: string): number {
    return iid(seq.keys, s, this.newKeys);
  }

  /** True if the next packet must carry interned data. */
  get pending(): boolean {
    return this.newNames.length > 0 || this.newCategories.length > 0 || this.newKeys.length > 0;
  }

  /** TracePacket.interned_data with the new entries, at w's position; they are then no longer new. */
  write(w: ProtoWriter, T: Tags): void {
    w.varint(T.interned);
    const m = w.begin();
    const entries = (tag: number, list: [number, string][]) => {
      for (const [id, s] of list) {
        w.varint(tag);
        const e = w.begin();
        w.tag(1, WIRE_VARINT); // EventCategory / EventName / DebugAnnotationName: iid = 1, name = 2
        w.varint(id);
        w.tag(2, WIRE_LEN);
        w.string(s);
        w.end(e);
      }
      list.length = 0;
    };
    entries(T.categories, this.newCategories);
    entries(T.names, this.newNames);
    entries(T.keys, this.newKeys);
    w.end(m);
  }
}

function iid(map: Map<string, number>, s: string, fresh: [number, string][]): number {
  let id = map.get(s);
  if (id === undefined) {
    id = map.size + 1;
    map.set(s, id);
    fresh.push([id, s]);
  }
  return id;
}
