// JSON lines: one object per event, for jq and scripts. Timestamps are
// nanoseconds since the epoch as a decimal string (a JSON number would lose
// precision past 2^53); 64-bit integers are numbers when exact, else strings;
// bytes are hex; NaN and infinities are strings (JSON has none).
import type { FieldValue } from '../decode';
import type { ClassDescription } from '../schema';
import type { StreamCursor } from '../trace/cursor';
import { i32, u32 } from '../trace/le';
import type { ByteOut } from './byteout';

const TWO32 = 4294967296;

const values: FieldValue[] = [];
const keyCache = new WeakMap<object, string[]>(); // class -> '"name":' prefixes

function keysOf(c: StreamCursor): string[] {
  let keys = keyCache.get(c.cls);
  if (!keys) {
    keys = c.cls.fields.map((f, i) => `${i ? ',' : ''}${JSON.stringify(f.name)}:`);
    keyCache.set(c.cls, keys);
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
  const keys = keysOf(c);
  let f = '';
  for (let i = 0; i < keys.length; i++) f += keys[i]! + jsonValue(values[i]!);
  return `{"timestamp_ns":"${c.epochNsString()}","cpu":${c.cpu},"pid":${c.pid()},"tid":${c.tid()}${head}${f}}}`;
}

// ---- The export path: the same lines, written as bytes straight from the records ----

// Field types as small integers, so the per-field switch is a jump table.
const OP: Record<string, number> = { u8: 0, i8: 1, bool: 2, u16: 3, i16: 4, u32: 5, i32: 6, f32: 7, f64: 8,
  u64: 9, i64: 10, string: 11, bytes: 12 };
const FIXED_SIZE = [1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8, 1, 4]; // bytes a field needs at least, by op
const MAX_VALUE_TEXT = 26; // longest number as JSON text ("-1.2345678901234567e-308", a quoted u64)
const LINE_FRAME = 96; // timestamp, cpu, pid, tid and punctuation

interface LinePlan {
  head: Buffer; // ,"provider":…,"fields":{ and the first field's key
  keys: Buffer[]; // "name": (with the comma between fields); the first is in head
  ops: Uint8Array;
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
const TRUE = ascii('true');
const FALSE = ascii('false');
const HEX = ascii('0123456789abcdef');

/**
 * JSON lines for `export`: byte for byte what jsonLine() gives, formatted
 * from the record's bytes into a ByteOut. Anything off the common path (a
 * non-ASCII or escaped string, a damaged record, a huge one) is handed to
 * jsonLine(), which also raises the decoding errors.
 */
export class JsonlWriter {
  private readonly plans = new Map<number, LinePlan>();
  private readonly parts = new Float64Array(2);
  private readonly threads = new Map<number, ThreadLines>();

  constructor(private readonly out: ByteOut) {}

  add(c: StreamCursor): void {
    const plan = this.plans.get(c.id) ?? this.plan(c);
    const out = this.out;
    const d = c.recordData();
    const end = c.payloadEnd();
    if (!out.reserve(plan.constBytes + 2 * (end - c.payloadStart()) + MAX_VALUE_TEXT * plan.ops.length)) {
      return this.slow(c);
    }
    const parts = this.parts;
    if (!c.epochParts(parts) || parts[0] === 0) return this.slow(c); // before 1970, or 1970's first second
    const lineStart = out.pos;
    // The line up to its first value is one cached piece with a gap for the nanoseconds.
    const prefix = this.prefix(c, plan, parts[0]!);
    out.raw(prefix.bytes);
    const after = out.pos;
    out.pos = lineStart + prefix.fracAt;
    out.nineDigits(parts[1]!);
    out.pos = after;
    if (!this.fields(plan, d, c.payloadStart() + 8, end)) {
      out.pos = lineStart;
      return this.slow(c);
    }
    const b = out.buf;
    b[out.pos++] = 125; // }}\n
    b[out.pos++] = 125;
    b[out.pos++] = 10;
  }

  flush(): void {
    this.out.flush();
  }

  private slow(c: StreamCursor): void {
    this.out.text(jsonLine(c) + '\n');
  }

  /**
   * '{"timestamp_ns":"<seconds>' + nine digits' room + '","cpu":…,"pid":…,"tid":…'
   * + the class's head, as one piece of bytes per thread, CPU and class, remade
   * when the second changes: one copy per line instead of five.
   */
  private prefix(c: StreamCursor, plan: LinePlan, sec: number): LinePrefix {
    const tid = c.tid();
    const pid = c.pid();
    let t = this.threads.get(tid);
    if (!t || t.cpu !== c.cpu || t.pid !== pid) {
      t = { cpu: c.cpu, pid, context: `","cpu":${c.cpu},"pid":${pid},"tid":${tid}`, byClass: [] };
      this.threads.set(tid, t);
    }
    let p = t.byClass[c.id];
    if (!p || p.sec !== sec) {
      const head = `{"timestamp_ns":"${sec}`;
      p = { sec, fracAt: head.length, bytes: Buffer.concat([ascii(head + '000000000' + t.context), plan.head]) };
      t.byClass[c.id] = p;
    }
    return p;
  }

  /** The fields as JSON; false if the record needs the slow path. */
  private fields(plan: LinePlan, d: Buffer, o: number, end: number): boolean {
    const out = this.out;
    const { ops, keys } = plan;
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (o + FIXED_SIZE[op]! > end) return false;
      if (i > 0) out.raw(keys[i]!);
      switch (op) {
        case 0: out.uint(d[o]!); o += 1; break;
        case 1: out.int(d.readInt8(o)); o += 1; break;
        case 2: out.raw(d[o] !== 0 ? TRUE : FALSE); o += 1; break;
        case 3: out.uint(d.readUInt16LE(o)); o += 2; break;
        case 4: out.int(d.readInt16LE(o)); o += 2; break;
        case 5: out.uint(u32(d, o)); o += 4; break;
        case 6: out.int(i32(d, o)); o += 4; break;
        case 7: this.float(d.readFloatLE(o)); o += 4; break;
        case 8: this.float(d.readDoubleLE(o)); o += 8; break;
        case 9: {
          const hi = u32(d, o + 4);
          if (hi < 0x200000) out.uint(hi * TWO32 + u32(d, o));
          else out.ascii(`"${d.readBigUInt64LE(o)}"`);
          o += 8;
          break;
        }
        case 10: {
          const hi = i32(d, o + 4);
          if (hi < 0x200000 && hi >= -0x200000) out.int(hi * TWO32 + u32(d, o));
          else out.ascii(`"${d.readBigInt64LE(o)}"`);
          o += 8;
          break;
        }
        case 11: o = this.asciiString(d, o, end); if (o < 0) return false; break;
        default: o = this.hexBytes(d, o, end); if (o < 0) return false;
      }
    }
    return true;
  }

  /**
   * A NUL-terminated ASCII string as JSON, escaping '"' and '\\' (two bytes
   * each: within the reserved 2x); -1 for control characters and non-ASCII,
   * whose escaping and UTF-8 checking jsonLine does.
   */
  private asciiString(d: Buffer, o: number, end: number): number {
    const b = this.out.buf;
    let p = this.out.pos;
    b[p++] = 34;
    for (; o < end; o++) {
      const ch = d[o]!;
      if (ch === 0) {
        b[p++] = 34;
        this.out.pos = p;
        return o + 1;
      }
      if (ch < 0x20 || ch > 0x7f) return -1;
      if (ch === 34 || ch === 92) b[p++] = 92;
      b[p++] = ch;
    }
    return -1; // not terminated: jsonLine reports it
  }

  private float(v: number): void {
    // counters and measurements are mostly integers: print those without a string
    if (Number.isSafeInteger(v)) this.out.int(v);
    else this.out.ascii(jsonValue(v));
  }

  private hexBytes(d: Buffer, o: number, end: number): number {
    const n = u32(d, o);
    if (n > end - o - 4) return -1;
    const b = this.out.buf;
    let p = this.out.pos;
    b[p++] = 34;
    for (let i = o + 4; i < o + 4 + n; i++) {
      b[p++] = HEX[d[i]! >> 4]!;
      b[p++] = HEX[d[i]! & 15]!;
    }
    b[p++] = 34;
    this.out.pos = p;
    return o + 4 + n;
  }

  private plan(c: StreamCursor): LinePlan {
    const cls = c.cls;
    const keys = keysOf(c).map((k) => Buffer.from(k, 'utf8'));
    const head = Buffer.from(jsonLineHead(cls) + (keysOf(c)[0] ?? ''), 'utf8');
    const plan: LinePlan = {
      head, keys, ops: Uint8Array.from(cls.fields, (f) => OP[f.type]!),
      constBytes: LINE_FRAME + head.length + keys.reduce((n, k) => n + k.length, 0),
    };
    this.plans.set(c.id, plan);
    return plan;
  }
}
