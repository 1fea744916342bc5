// The checks of `trace-consume doctor`, over the records the consumer
// delivered (ring by ring, each ring in order) and what the threads emitted.
// Pure: the doctor feeds them a real session's records, the tests feed them
// made-up sequences with known anomalies.
import { DecodeError, decodePayload, type FieldValue } from '../src/decode';
import type { ClassDescription } from '../src/schema';
import { doctorFields } from './doctor-emitter';

export interface DeliveredRecord {
  ring: number;
  id: number;
  timestamp: bigint;
  payload: Buffer;
}

export interface Expectation {
  /** The doctor event's class id, and the session's classes by id. */
  classId: number;
  classes: Map<number, ClassDescription>;
  /** Records each emitting thread (index = the `thread` field) emitted. */
  emitted: number[];
  /** The emitting process. */
  pid: number;
}

export interface CheckResult {
  delivered: number;
  /** Each a failure: time going backwards within a ring, records lost, missing, repeated or decoded wrong. */
  anomalies: string[];
  /** Rings each thread wrote into (more than one: it migrated between CPUs). */
  ringsPerThread: number[];
}

const SHOWN = 5; // of each kind of anomaly: the first few, then a count

/** Anomalies of one kind: the first few in full, the rest counted. */
class Kind {
  private readonly first: string[] = [];
  private n = 0;
  constructor(private readonly what: string) {}
  add(detail: string): void {
    if (this.n++ < SHOWN) this.first.push(detail);
  }
  report(out: string[]): void {
    if (!this.n) return;
    const more = this.n > SHOWN ? `; and ${this.n - SHOWN} more` : '';
    out.push(`${this.what} (${this.n}): ${this.first.join('; ')}${more}`);
  }
}

function same(a: FieldValue, b: FieldValue): boolean {
  return Object.is(a, b) || (Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b));
}

function show(v: FieldValue | undefined): string {
  return typeof v === 'bigint' ? `${v}n` : JSON.stringify(v);
}

/**
 * Feed records in delivery order with add(), then result(lost). Timestamps
 * are compared within a ring only: a thread that migrates writes into
 * several rings, and the consumer delivers ring after ring.
 */
export class DeliveryCheck {
  private readonly lastTs = new Map<number, bigint>(); // per ring
  private readonly lastSeq = new Map<string, number>(); // per ring and thread
  private readonly seen: Uint8Array[];
  private readonly rings: Set<number>[];
  private readonly tids: Set<number>[];
  private delivered = 0;
  private readonly backwards = new Kind('timestamps went backwards within a ring');
  private readonly reordered = new Kind("a thread's records out of order within a ring");
  private readonly foreign = new Kind('records of another class or process');
  private readonly undecodable = new Kind('records that do not decode');
  private readonly wrong = new Kind('records that decode to other values than were emitted');
  private readonly repeated = new Kind('records delivered twice');

  constructor(private readonly exp: Expectation) {
    this.seen = exp.emitted.map((n) => new Uint8Array(n));
    this.rings = exp.emitted.map(() => new Set());
    this.tids = exp.emitted.map(() => new Set());
  }

  add(r: DeliveredRecord): void {
    this.delivered++;
    const prev = this.lastTs.get(r.ring);
    if (prev !== undefined && r.timestamp < prev) this.backwards.add(`ring ${r.ring}: ${r.timestamp} after ${prev}`);
    this.lastTs.set(r.ring, r.timestamp);
    const cls = this.exp.classes.get(r.id);
    if (r.id !== this.exp.classId || !cls) {
      this.foreign.add(`ring ${r.ring}: class id ${r.id}`);
      return;
    }
    let fields: Record<string, FieldValue>;
    let pid: number;
    let tid: number;
    try {
      ({ fields, pid, tid } = decodePayload(cls, r.payload));
    } catch (e) {
      if (!(e instanceof DecodeError || e instanceof RangeError)) throw e;
      this.undecodable.add(`ring ${r.ring}: ${e.message}`);
      return;
    }
    const thread = fields['thread'];
    const seq = fields['seq'];
    if (pid !== this.exp.pid || typeof thread !== 'number' || thread >= this.exp.emitted.length) {
      this.foreign.add(`ring ${r.ring}: pid ${pid}, thread ${show(thread)}`);
      return;
    }
    if (typeof seq !== 'number' || seq >= this.exp.emitted[thread]!) {
      this.wrong.add(`thread ${thread}: seq ${show(seq)} was never emitted`);
      return;
    }
    const want = doctorFields(thread, seq);
    const bad = Object.keys(want).filter((k) => !same(fields[k]!, want[k]!));
    if (bad.length) {
      this.wrong.add(`thread ${thread} seq ${seq}: ${bad.map((k) => `${k} ${show(fields[k])}, emitted ${show(want[k])}`)
        .join(', ')}`);
    }
    if (this.seen[thread]![seq]) this.repeated.add(`thread ${thread} seq ${seq}`);
    this.seen[thread]![seq] = 1;
    const key = `${r.ring}/${thread}`;
    const last = this.lastSeq.get(key) ?? -1;
    if (seq <= last) this.reordered.add(`ring ${r.ring}, thread ${thread}: seq ${seq} after ${last}`);
    this.lastSeq.set(key, seq);
    this.rings[thread]!.add(r.ring);
    this.tids[thread]!.add(tid);
  }

  /** `lost`: the rings' lost counters. Nothing should be lost: the doctor drains before a ring can fill. */
  result(lost: number): CheckResult {
    const anomalies: string[] = [];
    for (const k of [this.backwards, this.reordered, this.foreign, this.undecodable, this.wrong, this.repeated]) {
      k.report(anomalies);
    }
    const emitted = this.exp.emitted.reduce((a, b) => a + b, 0);
    if (lost) anomalies.push(`${lost} events lost although the rings had room for every batch`);
    this.seen.forEach((s, thread) => {
      const missing = s.reduce((n, v) => n + (v ? 0 : 1), 0);
      if (missing) {
        const first = s.indexOf(0);
        anomalies.push(`thread ${thread}: ${missing} of its ${s.length} events never delivered (the first: seq ${first})`);
      }
      if (this.tids[thread]!.size > 1) anomalies.push(`thread ${thread}: records carry ${this.tids[thread]!.size} thread ids`);
    });
    if (this.delivered + lost !== emitted && !anomalies.length) {
      anomalies.push(`emitted ${emitted} but delivered ${this.delivered} + lost ${lost}`);
    }
    return { delivered: this.delivered, anomalies, ringsPerThread: this.rings.map((r) => r.size) };
  }
}

/** All checks over a whole delivery (see DeliveryCheck). */
export function checkRecords(records: Iterable<DeliveredRecord>, exp: Expectation, lost: number): CheckResult {
  const check = new DeliveryCheck(exp);
  for (const r of records) check.add(r);
  return check.result(lost);
}
