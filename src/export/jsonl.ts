// JSON lines: one object per event, for jq and scripts. Timestamps are
// nanoseconds since the epoch as a decimal string (a JSON number would lose
// precision past 2^53); 64-bit integers are numbers when exact, else strings;
// bytes are hex; NaN and infinities are strings (JSON has none).
import type { FieldValue } from '../decode';
import type { ClassDescription } from '../schema';
import { DENSE_IDS, type StreamCursor } from '../trace/cursor';
import { u32 } from '../trace/le';
import { EVENT_HEADER } from '../layout';
import { type ByteOut, putNineDigits, putRaw } from './byteout';
import { compileFields, type FieldsWriter } from './jsonl-fields';


const values: FieldValue[] = [];
const keyCache = new WeakMap<object, string[]>(); // class -> '"name":' prefixes

function keysOf(cls: ClassDescription): string[] {
  let keys = keyCache.get(cls);
  if (!keys) {
    keys = cls.fields.map((f, i) => `${i ? ',' : ''}${JSON.stringify(f.name)}:`);
    keyCache.set(cls, keys);
  }
  return keys;
}

/** A field value as JSON text (see the header for the conventions). */
export function jsonValue(v: FieldValue): string {
  switch (typeof v) {
    case 'number': return Number.isFinite(v) ? String(v) : `"${v}"`;
    case 'string': return JSON.stringify(v);
    case 'boolean': return v ? 'true' : 'false';
    case 'bigint': return `"${v}"`;
    default: return `"${(v as Buffer).toString('hex')}"`;
  }
}

const headCache = new WeakMap<object, string>();

/** What follows tid in every line of class `cls`, up to the first field. */
function jsonLineHead(cls: ClassDescription): string {
  return `,"provider":${JSON.stringify(cls.provider)},"event":${JSON.stringify(cls.name)},` +
    `"kind":"${cls.kind}","fields":{`;
}

/** The current record of `c` as one JSON line (no newline). */
export function jsonLine(c: StreamCursor): string {
  let head = headCache.get(c.cls);
  if (!head) {
    head = jsonLineHead(c.cls);
    headCache.set(c.cls, head);
  }
  c.values(values, true);
  const keys = keysOf(c.cls);
  let f = '';
  for (let i = 0; i < keys.length; i++) f += keys[i]! + jsonValue(values[i]!);
  return `{"timestamp_ns":"${c.epochNsString()}","cpu":${c.cpu},"pid":${c.pid()},"tid":${c.tid()}${head}${f}}}`;
}

// ---- The export path: the same lines, written as bytes straight from the records ----

const MAX_VALUE_TEXT = 26; // longest number as JSON text ("-1.2345678901234567e-308", a quoted u64)
const LINE_FRAME = 96; // timestamp, cpu, pid, tid and punctuation

interface LinePlan {
  head: Buffer; // ,"provider":…,"fields":{ and the first field's key
  fields: FieldsWriter; // the rest
  fieldCount: number;
  constBytes: number;
}

interface LinePrefix {
  sec: number;
  fracAt: number; // where the nanoseconds go
  bytes: Buffer;
}

interface ThreadLines {
  cpu: number;
  pid: number;
  context: string;
  byClass: LinePrefix[]; // by class id
}

const ascii = (s: string) => Buffer.from(s, 'latin1');

/**
 * JSON lines for `export`: byte for byte what jsonLine() gives, formatted
 * from the record's bytes into a ByteOut. Anything off the common path (a
 * non-ASCII or escaped string, a damaged record, a huge one) is handed to
 * jsonLine(), which also raises the decoding errors.
 */
export class JsonlWriter {
  private readonly plans: (LinePlan | undefined)[] = []; // by class id below DENSE_IDS
  private readonly bigPlans = new Map<number, LinePlan>();
  private readonly parts = new Float64Array(2);
  private readonly threads = new Map<number, ThreadLines>();
  private lastTid = -1; // runs of one thread's records are the common case
  private lastThread: ThreadLines | undefined;

  constructor(private readonly out: ByteOut) {}

  /** Records [from, to) of c's current packet, one line each. */
  addRun(c: StreamCursor, from: number, to: number): void {
    for (let k = from; k < to; k++) this.add(c, k);
  }

  private add(c: StreamCursor, k: number): void {
    const id = c.ids[k]!;
    const plan = (id < DENSE_IDS ? this.plans[id] : this.bigPlans.get(id)) ?? this.plan(c, id);
    const out = this.out;
    const d = c.data;
    const start = c.at[k]! + EVENT_HEADER;
    const end = c.at[k]! + c.size[k]!;
    if (!out.reserve(plan.constBytes + 2 * (end - start) + MAX_VALUE_TEXT * plan.fieldCount)) {
      return this.slow(c, k);
    }
    const parts = this.parts;
    if (!c.epochParts(parts, k) || parts[0] === 0) return this.slow(c, k); // before 1970, or 1970's first second
    // The line up to its first value is one cached piece with a gap for the nanoseconds.
    const prefix = this.prefix(c, id, u32(d, start), u32(d, start + 4), plan, parts[0]!);
    const b = out.buf;
    const lineStart = out.pos;
    let p = putRaw(b, lineStart, prefix.bytes);
    putNineDigits(out.view, lineStart + prefix.fracAt, parts[1]!);
    p = plan.fields(b, out.view, p, d, start + 8, end);
    if (p < 0) return this.slow(c, k);
    b[p++] = 125; // }}\n
    b[p++] = 125;
    b[p++] = 10;
    out.pos = p;
  }

  flush(): void {
    this.out.flush();
  }

  private slow(c: StreamCursor, k: number): void {
    c.select(k);
    this.out.text(jsonLine(c) + '\n');
  }

  /**
   * '{"timestamp_ns":"<seconds>' + nine digits' room + '","cpu":…,"pid":…,"tid":…'
   * + the class's head, as one piece of bytes per thread, CPU and class, remade
   * when the second changes: one copy per line instead of five.
   */
  private prefix(c: StreamCursor, id: number, pid: number, tid: number, plan: LinePlan, sec: number): LinePrefix {
    let t = tid === this.lastTid ? this.lastThread : this.threads.get(tid);
    if (!t || t.cpu !== c.cpu || t.pid !== pid) {
      t = { cpu: c.cpu, pid, context: `","cpu":${c.cpu},"pid":${pid},"tid":${tid}`, byClass: [] };
      this.threads.set(tid, t);
    }
    this.lastTid = tid;
    this.lastThread = t;
    let p = t.byClass[id];
    if (!p || p.sec !== sec) {
      const head = `{"timestamp_ns":"${sec}`;
      p = { sec, fracAt: head.length, bytes: Buffer.concat([ascii(head + '000000000' + t.context), plan.head]) };
      t.byClass[id] = p;
    }
    return p;
  }

  private plan(c: StreamCursor, id: number): LinePlan {
    const cls = c.classOf(id);
    const keys = keysOf(cls).map((k) => Buffer.from(k, 'utf8'));
    const head = Buffer.from(jsonLineHead(cls) + (keysOf(cls)[0] ?? ''), 'utf8');
    const plan: LinePlan = {
      head, fields: compileFields(cls.fields, keys, jsonValue), fieldCount: cls.fields.length,
      constBytes: LINE_FRAME + head.length + keys.reduce((n, k) => n + k.length, 0),
    };
    if (id < DENSE_IDS) this.plans[id] = plan;
    else this.bigPlans.set(id, plan);
    return plan;
  }
}
