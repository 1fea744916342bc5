// Emitters: one function generated per schema that checks each value and
// writes it into the thread's staging buffer after the control words (record
// end, class id) and the 8-byte context (pid, tid) the addon wrote there once;
// layout in native/addon/producer_binding.c. Generated code keeps the hot path free of
// loops over field descriptors and of allocation. Record layout (little-endian,
// packed, byte-aligned as the CTF metadata declares it):
//   i8/u8/bool 1 byte, i16/u16 2, i32/u32/f32 4, i64/u64/f64 8,
//   string: UTF-8 bytes then NUL, bytes: u32 length then the bytes.
import type { InvalidValues } from './invalid-values';
import type { Field } from './schema';
import { writeString } from './string-writer';
import { writeJson } from './json-writer';
import { asRecorded, putAscii, putHexId, putHexWords, putHrtime, putU64Words } from './trusted-values';

export const CTL_BYTES = 8;
export const CONTEXT_BYTES = 8;
/** Where the first field goes in the staging buffer. */
export const FIELDS_OFFSET = CTL_BYTES + CONTEXT_BYTES;
export const STAGING_BYTES = 64 * 1024;
export const DEFAULT_MAX_STRING_BYTES = 1024;

export interface Staging {
  u8: Buffer; // a Buffer, for its UTF-8 writer; indexed like any Uint8Array
  dv: DataView;
  ctl: Uint32Array; // [end, class id]
}

export interface SerializerOptions {
  /** Longest string field in UTF-8 bytes (longer ones are cut, ending in '…'). */
  maxStringBytes: number;
  /**
   * Leading u64 fields whose values the library itself makes, written
   * without checks: 'seq', a span's number in its thread, recorded as
   * `seqBase + seq` (the span id); 'id', a span id (below 2^53). Passing the
   * small number instead of the id keeps a heap-allocated double per call
   * out of the hot path. Two more for spans recorded from OpenTelemetry
   * (any u64 field): 'hex', an id as a string of 16 hex digits (a BigInt of
   * it costs ~0.5 us); 'hrtime', a time as [seconds, nanoseconds] or as a
   * number of nanoseconds since HRTIME_BASE_S, recorded in nanoseconds (null:
   * 0, the record's own time). And
   * for their JSON fields (string fields): 'json', a value written as
   * JSON.stringify's text would be (json-writer.ts: no text made),
   * or a string written as it is; 'ascii', a string known to be ASCII without
   * NUL (a trace id's hex digits), copied without a string field's checks.
   * And for the provider's ids, kept as 32-bit words (otel/ids.ts):
   * 'u64words', [high, low] as a u64 field; 'hexwords', a string field of
   * the words' lower-case hex digits, 8 per word.
   * Malformed trusted values are recorded as garbage, never thrown. Their
   * writers, and the values as recorded that a filter compares, are in
   * trusted-values.ts.
   */
  trustedIds?: readonly (TrustedValue | undefined)[];
  seqBase?: number;
}

export type TrustedValue = 'seq' | 'id' | 'hex' | 'hrtime' | 'json' | 'ascii' | 'u64words' | 'hexwords';

/** Room kept free at the end of the staging buffer. */
export const STAGING_SLACK = 8;

// One statement block per type; `v` is the value, `f` the field index.
function fieldCode(type: Field['type'], v: string, f: number): string {
  const bad = `return invalid.value(${f}, ${v});`;
  const int = (check: string, store: string, size: number) =>
    `if (${check} !== ${v}) ${bad}\ndv.${store}(o, ${v}, true); o += ${size};`;
  switch (type) {
    case 'i8': return `if (((${v} << 24) >> 24) !== ${v}) ${bad}\ndv.setInt8(o, ${v}); o += 1;`;
    case 'u8': return `if ((${v} & 0xff) !== ${v}) ${bad}\nu8[o] = ${v}; o += 1;`;
    case 'i16': return int(`((${v} << 16) >> 16)`, 'setInt16', 2);
    case 'u16': return int(`(${v} & 0xffff)`, 'setUint16', 2);
    case 'i32': return int(`(${v} | 0)`, 'setInt32', 4);
    case 'u32': return int(`(${v} >>> 0)`, 'setUint32', 4);
    case 'f32':
      return `if (typeof ${v} !== 'number') ${bad}\ndv.setFloat32(o, ${v}, true); o += 4;`;
    case 'f64':
      return `if (typeof ${v} !== 'number') ${bad}\ndv.setFloat64(o, ${v}, true); o += 8;`;
    case 'bool':
      return `if (${v} === true) u8[o] = 1; else if (${v} === false) u8[o] = 0; else ${bad}\no += 1;`;
    case 'u64':
    case 'i64': {
      const [lo, hi, big] = type === 'u64'
        ? ['0', '18446744073709551616', `BigInt.asUintN(64, ${v}) === ${v}`]
        : ['-9223372036854775808', '9223372036854775808', `BigInt.asIntN(64, ${v}) === ${v}`];
      // Numbers: exact for every integer double (a multiply by 2^-32 only shifts the exponent,
      // and costs a few cycles where a division costs ~20: a span writes three u64s).
      return `if (typeof ${v} === 'number') {
  if (!(${v} >= ${lo} && ${v} < ${hi} && Math.floor(${v}) === ${v})) ${bad}
  ${u64Stores(v)}
} else if (typeof ${v} === 'bigint' && ${big}) {
  dv.${type === 'u64' ? 'setBigUint64' : 'setBigInt64'}(o, ${v}, true);
} else ${bad}
o += 8;`;
    }
    case 'string':
      // '' (an optional field left empty: a trace id, a status message) is
      // its NUL alone, before any of the cache's code runs. Repeated strings
      // (a route, a method) are copied from their cached bytes as 32-bit
      // words; see stringCacheCode.
      return `if (typeof ${v} !== 'string') ${bad}
if (${v} === '') {
  u8[o++] = 0;
} else {
const same${f} = ${v} === last${f};
if (same${f} && words${f} !== 0) {
  for (let w = 0; w < words${f}; w++) dv.setUint32(o + 4 * w, cache${f}[w], true);
  o += size${f};
} else {
  const start = o;
  o = writeString(u8, o, ${v}, maxString);
  if (!same${f}) {
    if (misses${f} < 8 || (misses${f} & 63) === 0) { last${f} = ${v}; words${f} = 0; }
    misses${f} = (misses${f} + 1) & 0x3fffffff; // (wraps within V8's small integers: never a heap number)
  } else if (o - start <= ${CACHED_STRING_BYTES}) {
    size${f} = o - start; words${f} = (size${f} + 3) >> 2; misses${f} = 0;
    for (let w = 0; w < words${f}; w++) cache${f}[w] = dv.getUint32(start + 4 * w, true);
  }
}
}`;
    case 'bytes':
      return `if (!(${v} instanceof Uint8Array)) ${bad}
if (${v}.length > u8.length - o - 4) return invalid.bytes(${f}, ${v}.length, u8.length - o - 4);
dv.setUint32(o, ${v}.length, true); u8.set(${v}, o + 4); o += 4 + ${v}.length;`;
  }
}

/** An integer number (|v| < 2^64) as a 64-bit little-endian word pair (setUint32 wraps negatives). */
function u64Stores(v: string): string {
  return `dv.setUint32(o, ${v} >>> 0, true); dv.setUint32(o + 4, Math.floor(${v} * 2.3283064365386963e-10) >>> 0, true);`;
}

/** A span id: the library's own integer below 2^53, as u64 (see SerializerOptions.trustedIds). */
function trustedIdCode(v: string): string {
  return `{ const id = ${v}; ${u64Stores('id')} }\no += 8;`;
}

/** Strings whose encoding (with its NUL) fits here are cached per field. */
const CACHED_STRING_BYTES = 32;

/**
 * Per string field, the last string written and, once it came twice in a row,
 * its bytes: a 10-character string costs ~22 ns through the charCodeAt loop
 * here and ~5 ns as three word stores. A string that changes every event pays
 * one failed compare; after 8 misses in a row it is kept as the last one only
 * every 64th time, as storing a fresh string into this closure is a write
 * barrier (~50 instructions); a value that then repeats is cached within 64
 * events. The copy may write up to 3 bytes past the string's NUL: later
 * fields overwrite them, or they lie past the record's end, within STAGING_SLACK.
 */
function stringCacheCode(fields: Field[]): string[] {
  return fields.flatMap((f, i) => f.type !== 'string' ? [] :
    [`let last${i} = '', words${i} = 0, size${i} = 0, misses${i} = 0; ` +
      `const cache${i} = new Uint32Array(${CACHED_STRING_BYTES / 4});`]);
}

/**
 * The filter's arguments: emit's, except that a trusted value is given as
 * its record holds it (a span id as the u64 written, a trace id's words as
 * their hex digits, a time as its nanoseconds), so an expression on such a
 * field means what it says in the trace. The conversion runs only for
 * classes with a filter.
 */
function filterArguments(fields: Field[], opts: SerializerOptions): string {
  return fields.map((_, i) => {
    const trusted = opts.trustedIds?.[i];
    if (trusted === undefined || trusted === 'id') return `v${i}`;
    if (trusted === 'seq') return `(seqBase + v${i})`;
    return `asRecorded('${trusted}', v${i}, maxString)`;
  }).join(', ');
}

/** Upper bound of a record's payload, strings and bytes excluded. */
export function fixedSize(fields: Field[]): number {
  const size: Record<string, number> = { i8: 1, u8: 1, bool: 1, i16: 2, u16: 2, i32: 4, u32: 4,
    f32: 4, i64: 8, u64: 8, f64: 8, string: 1, bytes: 4 };
  return FIELDS_OFFSET + fields.reduce((n, f) => n + (size[f.type] ?? 0), 0);
}

/** What a generated emit function reads on each call (and `filtered`, which it counts). */
export interface EmitTarget {
  enabled: boolean;
  id: number;
  filtered: number;
}
/**
 * A session's filter on an event's field values, given emit's arguments (a
 * trusted value as its record holds it: filterArguments); never throws.
 */
export type EventFilter = (...values: unknown[]) => boolean;
export interface EmitSink {
  emitStaged(): void;
}

/**
 * Build the emit function of a schema. It returns true if it recorded the
 * event. By default it returns at once when the event is disabled; otherwise
 * it checks arity and every value while writing into staging, and only then
 * makes the one native call, so a bad value never produces a record: `invalid`
 * decides what happens instead (dropped and counted, or thrown in strict mode).
 * `strict`: check values even while disabled (the record is then skipped).
 * `filter`: the session's filter on field values; an event it refuses is not
 * written, only counted in `target.filtered`.
 */
export function buildEmitter(fields: Field[], opts: SerializerOptions, target: EmitTarget, st: Staging,
  sink: EmitSink, invalid: InvalidValues, strict: boolean, filter: EventFilter | null): (...values: unknown[]) => boolean {
  const params = fields.map((_, i) => `v${i}`).join(', ');
  // Two functions: a tiny `emit` that V8 inlines into call sites (a disabled
  // event then costs a property check), and `record`, the checking writer.
  const body = [
    ...stringCacheCode(fields),
    `function record(${params}) {`,
    'const u8 = st.u8, dv = st.dv, ctl = st.ctl;',
    `let o = ${FIELDS_OFFSET};`,
    ...fields.map((f, i) => {
      const trusted = opts.trustedIds?.[i];
      if (trusted === 'hex') return `putHexId(dv, o, v${i}); o += 8;`;
      if (trusted === 'hrtime') return `putHrtime(dv, o, v${i}); o += 8;`;
      if (trusted === 'json') return `o = writeJson(u8, o, v${i}, maxString);`;
      if (trusted === 'ascii') return `o = putAscii(u8, o, v${i}, maxString);`;
      if (trusted === 'u64words') return `putU64Words(dv, o, v${i}); o += 8;`;
      if (trusted === 'hexwords') return `o = putHexWords(dv, o, v${i}, maxString);`;
      return trusted ? trustedIdCode(trusted === 'seq' ? `(seqBase + v${i})` : `v${i}`) : fieldCode(f.type, `v${i}`, i);
    }),
    ...(strict ? ['if (!target.enabled) return false;'] : []),
    'ctl[0] = o;',
    'ctl[1] = target.id;',
    'sink.emitStaged();',
    'return true;',
    '}',
    `return function emit(${params}) {`,
    ...(strict ? [] : ['if (!target.enabled) return false;']),
    `if (arguments.length !== ${fields.length}) return invalid.arity(${fields.length}, arguments.length);`,
    // The session's filter on field values: after the enabled check, before anything is written.
    ...(filter ? [`if (${strict ? 'target.enabled && ' : ''}!filter(${filterArguments(fields, opts)})) ` +
      '{ target.filtered++; return false; }'] : []),
    `return record(${params});`,
    '};',
  ].join('\n');
  const make = new Function('maxString', 'target', 'st', 'sink', 'invalid', 'writeString', 'seqBase', 'filter',
    'putHexId', 'putHrtime', 'writeJson', 'putAscii', 'putU64Words', 'putHexWords', 'asRecorded', body) as
    (...a: unknown[]) => (...v: unknown[]) => boolean;
  return make(opts.maxStringBytes, target, st, sink, invalid, writeString, opts.seqBase ?? 0, filter, putHexId,
    putHrtime, writeJson, putAscii, putU64Words, putHexWords, asRecorded);
}
