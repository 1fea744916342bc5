// JSON lines: one object per event, for jq and scripts. Timestamps are
// nanoseconds since the epoch as a decimal string (a JSON number would lose
// precision past 2^53); 64-bit integers are numbers when exact, else strings;
// bytes are hex; NaN and infinities are strings (JSON has none).
import type { FieldValue } from '../decode';
import type { StreamCursor } from '../trace/cursor';

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

/** The current record of `c` as one JSON line (no newline). */
export function jsonLine(c: StreamCursor): string {
  let head = headCache.get(c.cls);
  if (!head) {
    head = `,"provider":${JSON.stringify(c.cls.provider)},"event":${JSON.stringify(c.cls.name)},` +
      `"kind":"${c.cls.kind}","fields":{`;
    headCache.set(c.cls, head);
  }
  c.values(values, true);
  const keys = keysOf(c);
  let f = '';
  for (let i = 0; i < keys.length; i++) f += keys[i]! + jsonValue(values[i]!);
  return `{"timestamp_ns":"${c.epochNsString()}","cpu":${c.cpu},"pid":${c.pid()},"tid":${c.tid()}${head}${f}}}`;
}
