// A trace's records as rows of tab-separated text for the query database's
// `records` table, formatted straight from the records' bytes (the JSON
// lines export's field writers) — the database's own CSV reader then parses
// them on its threads, far faster than values handed over one call each.
//
// Columns: ts (ns since the trace's start: the loader adds the start),
// cpu, thread (an index into the threads table: pid and tid once per thread,
// not in every row), class id, kind (0 event, 1 span begin, 2 span end,
// 3 counter), span_id (spans, and events about a span: their first field),
// parent_id, depth (span begins), value (counters),
// fields (a JSON object of the other fields). Empty columns are NULL. No
// column can hold a tab or a newline: numbers are digits, and JSON escapes
// control characters inside strings. Fewer bytes per row is what loads
// faster: the database's parsing is the slower half.
import type { ClassDescription } from '../schema';
import { BEGIN, ClassRoles, COUNTER, END } from '../export/model';
import { type ByteOut, putAscii, putInt, putRaw, putUint } from '../export/byteout';
import { compileFields, type FieldsWriter } from '../export/jsonl-fields';
import { jsonValue } from '../export/jsonl';
import { hasJsonArgs, jsonObject } from '../export/record-args';
import type { FieldValue } from '../decode';
import { DENSE_IDS, type StreamCursor } from '../trace/cursor';
import { EVENT_HEADER } from '../layout';
import { TWO32 } from '../int64';
import { WORD_SLACK } from '../export/words';
import { SpanDepths } from './depths';
import { isAsciiJsonObject } from './json-check';
import { KIND_BEGIN, KIND_COUNTER, KIND_END, KIND_EVENT } from './kinds';


const TAB = 9;
const NEWLINE = 10;
const MAX_NUMBER_TEXT = 26; // the longest number as text
const ROW_FRAME = 160; // every column but the fields, with their tabs

interface RowPlan {
  kind: number;
  /** "<class>\t<kind>\t": constant per class. */
  mid: Buffer;
  /** Fields after the ones in columns (span ids, a counter's value), from this one. */
  from: number;
  /** '{' and the first key: the rest is written by `fields`. */
  open: Buffer;
  /** The fields' writer; none when there are no fields (NULL) or they are a span's `args` (argsFields). */
  fields: FieldsWriter | undefined;
  keys: string[];
  /** A span(name, fields) record: its one field `args` is the fields' JSON, whose members are the fields. */
  args: boolean;
}

interface ThreadPrefix {
  cpu: number;
  /** The thread's index in threadRows (kept when its CPU changes). */
  index: number;
  /** "\t<cpu>\t<thread>\t" */
  bytes: Buffer;
}

/** A thread of the trace, by its index in the threads table. */
export interface ThreadRow {
  pid: number;
  tid: number;
}

const ascii = (s: string) => Buffer.from(s, 'latin1');
const utf8 = (s: string) => Buffer.from(s, 'utf8');
const numberText = (x: number) => (Number.isFinite(x) ? String(x) : Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf');

/** A u64 at word w of a packet as digits. */
function putU64(b: Uint8Array, v: DataView, p: number, words: Uint32Array, w: number): number {
  const hi = words[w + 1]!;
  if (hi < 0x200000) return putUint(v, p, hi * TWO32 + words[w]!);
  return putAscii(b, p, ((BigInt(hi) << 32n) | BigInt(words[w]!)).toString());
}

export class RecordRows {
  rows = 0;
  /** The longest row written since the caller last reset it (bytes, without its newline). */
  longest = 0;
  private readonly roles = new ClassRoles();
  private readonly plans: (RowPlan | undefined)[] = [];
  private readonly bigPlans = new Map<number, RowPlan>();
  private readonly threads = new Map<number, ThreadPrefix>(); // by pid * 2^22 + tid
  private lastKey = -1;
  private lastThread: ThreadPrefix | undefined;
  private readonly values: FieldValue[] = [];
  readonly depths = new SpanDepths();
  /** The threads seen, in the order their index was given. */
  readonly threadRows: ThreadRow[] = [];

  constructor(private readonly out: ByteOut) {}

  /** Records [from, to) of c's current packet, one row each (see mergeRuns). */
  addRun(c: StreamCursor, from: number, to: number): void {
    for (let k = from; k < to; k++) this.add(c, k);
    this.rows += to - from;
  }

  private add(c: StreamCursor, k: number): void {
    const id = c.ids[k]!;
    const plan = (id < DENSE_IDS ? this.plans[id] : this.bigPlans.get(id)) ?? this.plan(c, id);
    const out = this.out;
    const at = c.at[k]!;
    const start = at + EVENT_HEADER;
    const end = at + c.size[k]!;
    if (!out.reserve(ROW_FRAME + plan.mid.length + plan.open.length + 2 * (end - start) +
      MAX_NUMBER_TEXT * plan.keys.length)) {
      throw new Error(`a record of ${end - start} bytes does not fit a row buffer`);
    }
    const words = c.words;
    const w = start >> 2; // records are 8-aligned: pid, tid and span ids are whole words
    const pid = words[w]!;
    const tid = words[w + 1]!;
    const b = out.buf;
    const v = out.view;
    let p = out.pos;
    p = putInt(v, p, c.sinceStartNs(k));
    p = putRaw(b, p, this.prefix(c.cpu, pid, tid).bytes);
    p = putRaw(b, p, plan.mid);
    const kind = plan.kind;
    if (kind === KIND_BEGIN || kind === KIND_END) {
      const idsEnd = start + 8 + (kind === KIND_BEGIN ? 16 : 8);
      if (idsEnd > end) return this.damaged(c, k);
      p = putU64(b, v, p, words, w + 2);
      b[p++] = TAB;
      if (kind === KIND_BEGIN) {
        const hi = words[w + 5]!;
        const lo = words[w + 4]!;
        if (hi !== 0 || lo !== 0) p = putU64(b, v, p, words, w + 4);
        b[p++] = TAB;
        p = putUint(v, p, this.depths.begin(pid, words[w + 3]!, words[w + 2]!, hi, lo));
        b[p++] = TAB;
      } else {
        this.depths.end(pid, words[w + 3]!, words[w + 2]!);
        b[p++] = TAB;
        b[p++] = TAB;
      }
      b[p++] = TAB;
    } else if (kind === KIND_COUNTER) {
      if (start + 16 > end) return this.damaged(c, k);
      b[p++] = TAB;
      b[p++] = TAB;
      b[p++] = TAB;
      const x = c.data.readDoubleLE(start + 8);
      p = Number.isSafeInteger(x) ? putInt(v, p, x) : putAscii(b, p, numberText(x));
      b[p++] = TAB;
    } else if (plan.from === 1) { // an event about a span: its span id in the column
      if (start + 16 > end) return this.damaged(c, k);
      p = putU64(b, v, p, words, w + 2);
      b[p++] = TAB;
      b[p++] = TAB;
      b[p++] = TAB;
      b[p++] = TAB;
    } else {
      b[p++] = TAB;
      b[p++] = TAB;
      b[p++] = TAB;
      b[p++] = TAB;
    }
    if (plan.args) {
      p = this.argsFields(c, k, start + 8 + 8 * plan.from, end, p);
    } else if (plan.fields) {
      const q = plan.fields(b, v, putRaw(b, p, plan.open), c.data, start + 8 + 8 * plan.from, end);
      if (q < 0) { // a string to escape or of non-ASCII text, or a damaged record: through decoded values
        p = this.slowFields(c, k, plan, p);
      } else {
        p = q;
        b[p++] = 125; // }
      }
    }
    if (p - out.pos > this.longest) this.longest = p - out.pos;
    out.buf[p++] = NEWLINE; // (the slow path may have moved the row to a fresh buffer)
    out.pos = p;
  }

  /** The fields as JSON through decoded values (which raise a damaged record's TraceError). */
  private slowFields(c: StreamCursor, k: number, plan: RowPlan, p: number): number {
    c.select(k);
    const vals = c.values(this.values, true);
    let json = '{';
    for (let i = 0; i < plan.keys.length; i++) json += plan.keys[i]! + jsonValue(vals[plan.from + i]!);
    json += '}';
    return this.putFieldsText(p, json);
  }

  /** Fields' JSON made as text, at p of the row being written; returns the offset after it. */
  private putFieldsText(p: number, json: string): number {
    const bytes = utf8(json);
    const out = this.out;
    if (p + bytes.length + 1 + WORD_SLACK <= out.buf.length) return putRaw(out.buf, p, bytes);
    // Escaped text can outgrow the room reserved: the row so far moves to a fresh buffer.
    const row = Buffer.from(out.buf.subarray(out.pos, p));
    if (!out.reserve(row.length + bytes.length + 1)) throw new Error(`a record's fields do not fit a row buffer`);
    return putRaw(out.buf, putRaw(out.buf, out.pos, row), bytes);
  }

  /**
   * A span's `args` JSON as its fields: as recorded when it is a JSON object
   * in printable ASCII (what the JS API writes), else parsed and written
   * again (no control characters, valid UTF-8, no lone surrogates: what the
   * database's JSON reader takes); text that is not a JSON object becomes
   * {"args": text}. Empty: NULL.
   */
  private argsFields(c: StreamCursor, k: number, o: number, end: number, p: number): number {
    const d = c.data;
    let to = o;
    while (to < end && d[to] !== 0) to++;
    if (to >= end) return this.damaged(c, k);
    if (to === o) return p;
    if (isAsciiJsonObject(d, o, to)) { // as recorded (the room reserved covers the record)
      const b = this.out.buf;
      for (let i = o; i < to; i++) b[p++] = d[i]!;
      return p;
    }
    const text = d.toString('utf8', o, to);
    const object = jsonObject(text);
    return this.putFieldsText(p, object ? JSON.stringify(wellFormed(object)) : JSON.stringify({ args: text }));
  }

  /** A record too short for its class: decoding it raises the TraceError that names it. */
  private damaged(c: StreamCursor, k: number): never {
    c.select(k);
    c.values([]);
    throw new Error(`${c.stream}: record ${k} of a packet does not match its class`); // not reached
  }

  private prefix(cpu: number, pid: number, tid: number): ThreadPrefix {
    const key = pid * 4194304 + tid;
    let t = key === this.lastKey ? this.lastThread : this.threads.get(key);
    if (!t || t.cpu !== cpu) {
      const index = t ? t.index : this.threadRows.push({ pid, tid }) - 1; // a thread's first record
      t = { cpu, index, bytes: ascii(`\t${cpu}\t${index}\t`) };
      this.threads.set(key, t);
    }
    this.lastKey = key;
    this.lastThread = t;
    return t;
  }

  private plan(c: StreamCursor, id: number): RowPlan {
    const cls: ClassDescription = c.classOf(id);
    const role = this.roles.of(c, id);
    const kind = role === BEGIN ? KIND_BEGIN : role === END ? KIND_END : role === COUNTER ? KIND_COUNTER : KIND_EVENT;
    // An event whose first field is a u64 `span_id` is about that span (auto mode's response status
    // and size): the id goes in span_id, and the spans view adds its fields to the span's end_fields.
    const about = kind === KIND_EVENT && cls.fields[0]?.name === 'span_id' && cls.fields[0].type === 'u64';
    const from = kind === KIND_BEGIN ? 2 : kind === KIND_END || kind === KIND_COUNTER || about ? 1 : 0;
    const rest = cls.fields.slice(from);
    const keys = rest.map((f, i) => `${i ? ',' : ''}${JSON.stringify(f.name)}:`);
    const args = (kind === KIND_BEGIN || kind === KIND_END) && hasJsonArgs(cls);
    const plan: RowPlan = {
      kind, mid: ascii(`${id}\t${kind}\t`), from, keys, args, open: utf8(`{${keys[0] ?? ''}`),
      fields: rest.length && !args ? compileFields(rest, keys.map(utf8), jsonValue) : undefined,
    };
    if (id < DENSE_IDS) this.plans[id] = plan;
    else this.bigPlans.set(id, plan);
    return plan;
  }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const wellFormedText = (s: string) => s.replace(LONE_SURROGATE, '\ufffd');

/** A parsed JSON value with every string and key well-formed (a lone surrogate becomes U+FFFD). */
function wellFormed(v: unknown): unknown {
  if (typeof v === 'string') return wellFormedText(v);
  if (Array.isArray(v)) return v.map(wellFormed);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [wellFormedText(k), wellFormed(x)]));
  }
  return v;
}
