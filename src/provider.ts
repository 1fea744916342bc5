// The instrumentation API: providers own typed events, spans and counters.
//   const http = provider('http');
//   const request = http.event('request', ['method:string', 'status:u16', 'bytes:u64']);
//   request.emit('GET', 200, 1234);             // positional, checked, no allocation
//   if (request.enabled) request.emit(costly(), 200, 0);
//   await http.withSpan('handle', async () => { ... });
import { AsyncLocalStorage } from 'node:async_hooks';
import { threadId } from 'node:worker_threads';
import { type ArgsOf, checkEventName, checkProviderName, describe, type Field, type FieldSpec,
  parseFields, type RecordKind } from './schema';
import { describeValue, InvalidValues, isStrict, setInvalidRecorder, setStrict } from './invalid-values';
import { buildEmitter, DEFAULT_MAX_STRING_BYTES, fixedSize, STAGING_BYTES, STAGING_SLACK,
  type SerializerOptions } from './serializer';
import { currentTracer, type Attachable } from './tracer';

export interface EventOptions {
  /** Longest string field, in UTF-8 bytes; longer strings are cut and end in '…'. Default 1024. */
  maxStringBytes?: number;
}

/** A typed event class. `enabled` is a plain property: check it before costly arguments. */
export class TracedEvent<Args extends unknown[]> implements Attachable {
  enabled = false;
  id = 0;
  readonly description: string;
  readonly fields: readonly Field[];
  /**
   * Record one event. A value the schema cannot take drops the event, counted
   * in the trace as ringtrace:invalid_value (strict mode throws instead).
   */
  readonly emit: (...values: Args) => void;
  /** What happens to values emit cannot record (see invalid-values.ts). */
  readonly invalid: InvalidValues;
  private readonly serializer: SerializerOptions;

  /** `trustedIds`: the library's own span records, see SerializerOptions. */
  constructor(readonly provider: string, readonly name: string, kind: RecordKind, fields: Field[],
    options: EventOptions = {}, trustedIds: readonly ('seq' | 'id')[] = []) {
    const where = `${provider}:${name}`;
    const maxString = options.maxStringBytes ?? DEFAULT_MAX_STRING_BYTES;
    const strings = fields.filter((f) => f.type === 'string').length;
    if (!Number.isInteger(maxString) || maxString < 4 ||
        fixedSize(fields) + strings * (maxString + 1) > STAGING_BYTES - STAGING_SLACK) {
      throw new TypeError(`ringtrace: ${where}: maxStringBytes ${maxString} must be an integer >= 4 ` +
        `and all ${strings} string field(s) must fit in ${STAGING_BYTES} bytes`);
    }
    this.fields = fields;
    this.description = describe(provider, name, kind, fields);
    this.invalid = new InvalidValues(where, fields, this);
    this.serializer = { maxStringBytes: maxString, trustedIds, seqBase: spanBase };
    this.emit = this.buildEmit();
    rebuildable.push(this);
    currentTracer().add(this);
  }

  /** emit, typed for the library's own use: true if the event was recorded. */
  get record(): (...values: Args) => boolean {
    return this.emit as unknown as (...values: Args) => boolean;
  }

  /** Generate emit again (strict mode changed). */
  rebuild(): void {
    (this as { emit: (...values: Args) => void }).emit = this.buildEmit();
  }

  private buildEmit(): (...values: Args) => void {
    const tracer = currentTracer();
    return buildEmitter(this.fields as Field[], this.serializer, this, tracer.staging, tracer, this.invalid,
      isStrict()) as unknown as (...values: Args) => void;
  }
}

/** Everything whose generated code depends on strict mode. */
const rebuildable: { rebuild(): void }[] = [];

export interface Configuration {
  /**
   * Throw a TypeError/RangeError from emit (and span starts, counters) for a
   * value its schema cannot take, whether or not a session is attached. For
   * tests and development; default false (RINGTRACE_STRICT=1 sets it): the
   * event is dropped and counted in the trace, never thrown.
   */
  strict?: boolean;
}

/** Change settings for this thread (each worker thread has its own). */
export function configure(options: Configuration): void {
  if (options.strict !== undefined && options.strict !== isStrict()) {
    setStrict(options.strict);
    for (const r of rebuildable) r.rebuild();
  }
}

/** A span in progress. end() records its end once; later calls do nothing. */
export interface SpanHandle {
  readonly id: number;
  end(fields?: Record<string, unknown>): void;
}

const NOOP_SPAN: SpanHandle = { id: 0, end() {} };
const currentSpan = new AsyncLocalStorage<number>();
// Span ids: unique per process across threads (thread id in the high bits), < 2^53.
let spanCounter = 0;
const spanBase = (threadId + 1) * 2 ** 32;

function argsJson(fields: Record<string, unknown> | undefined): string {
  if (fields === undefined) return '';
  try {
    // Without a replacer first: V8's fast path; a replacer function makes every key a call back into JS
    // (measured 2-3 us for 4 fields vs ~0.2 us). BigInts throw here, then take the replacer.
    return JSON.stringify(fields);
  } catch {
    try {
      return JSON.stringify(fields, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    } catch (e) {
      return JSON.stringify({ unserializable: String(e) });
    }
  }
}

/**
 * A span name's end records: with fields (their JSON), or bare (the common
 * end(): no string to write, one field fewer to copy).
 */
interface SpanEnds {
  withFields: TracedEvent<[number, string]>;
  bare: TracedEvent<[number]>;
}

/**
 * Two fields, both small: the span's number in this thread (a small integer,
 * where the id itself, above 2^32, would be a heap-allocated double) and its
 * end records until it has ended. A span cost 70 bytes of garbage before.
 */
class ActiveSpan implements SpanHandle {
  constructor(private readonly seq: number, private ends: SpanEnds | null) {}
  get id(): number {
    return spanBase + this.seq;
  }
  end(fields?: Record<string, unknown>): void {
    const ends = this.ends;
    if (ends === null) return;
    this.ends = null;
    if (fields === undefined) ends.bare.emit(this.seq); // span_id is recorded as spanBase + seq
    else ends.withFields.emit(this.seq, argsJson(fields));
  }
}

/** A span's function is checked before the span starts: no begin without its end. */
function checkFunction(call: string, fn: unknown): void {
  if (typeof fn !== 'function') {
    throw new TypeError(`ringtrace: ${call}: fn must be a function, got ${describeValue(fn)}`);
  }
}

/** Run fn inside `span` (sync or async); a throw or rejection ends it with `error`. */
function runInSpan<T>(span: SpanHandle, fn: () => T): T {
  if (span === NOOP_SPAN) return fn();
  return currentSpan.run(span.id, () => {
    let result: T;
    try {
      result = fn();
    } catch (e) {
      span.end({ error: String(e) });
      throw e;
    }
    if (result instanceof Promise) {
      return result.then((v: unknown) => {
        span.end();
        return v;
      }, (e: unknown) => {
        span.end({ error: String(e) });
        throw e;
      }) as T;
    }
    span.end();
    return result;
  });
}

// Span records' leading fields: span_id given as the span's seq, parent_id as an id.
const SPAN_BEGIN_IDS = ['seq', 'id'] as const;
const SPAN_END_IDS = ['seq'] as const;

function nextSpanSeq(): number {
  return ++spanCounter;
}

function currentParent(): number {
  return currentSpan.getStore() ?? 0;
}

/**
 * SpanType's start for n fields, generated with n named parameters: a rest
 * parameter and a spread into the begin record's emit cost an array per span.
 * A begin record that was not recorded (disabled, or an invalid value) makes
 * no span: no end record without its begin. Strict mode checks values while
 * disabled too (begin's emit does).
 */
function buildStart(n: number, begin: TracedEvent<unknown[]>, ends: SpanEnds,
  strict: boolean): (...values: unknown[]) => SpanHandle {
  const params = Array.from({ length: n }, (_, i) => `v${i}`);
  const body = `return function start(${params.join(', ')}) {
  ${strict ? '' : 'if (!begin.enabled) return NOOP_SPAN;'}
  if (arguments.length !== ${n}) return begin.invalid.arity(${n}, arguments.length, 'start') || NOOP_SPAN;
  const seq = nextSpanSeq();
  if (!begin.record(${['seq', 'currentParent()', ...params].join(', ')})) return NOOP_SPAN; // span_id: spanBase + seq
  return new ActiveSpan(seq, ends);
};`;
  const make = new Function('begin', 'ends', 'NOOP_SPAN', 'ActiveSpan', 'nextSpanSeq', 'currentParent',
    body) as (...a: unknown[]) => (...values: unknown[]) => SpanHandle;
  return make(begin, ends, NOOP_SPAN, ActiveSpan, nextSpanSeq, currentParent);
}

/** Spans with typed fields: Provider.spanType. */
export class SpanType<Args extends unknown[]> {
  /** Start a span with these field values; its parent is the span current in the async context. */
  readonly start: (...values: Args) => SpanHandle;

  constructor(private readonly begin: TracedEvent<[number, number, ...Args]>, private readonly ends: SpanEnds) {
    this.start = this.buildStart();
    rebuildable.push(this);
  }

  /** Generate start again (strict mode changed). */
  rebuild(): void {
    (this as { start: (...values: Args) => SpanHandle }).start = this.buildStart();
  }

  private buildStart(): (...values: Args) => SpanHandle {
    return buildStart(this.begin.fields.length - 2, this.begin as unknown as TracedEvent<unknown[]>, this.ends,
      isStrict()) as (...values: Args) => SpanHandle;
  }

  get enabled(): boolean {
    return this.begin.enabled;
  }

  /** Run fn inside a span started with these values (as Provider.withSpan). */
  run<T>(fn: () => T, ...values: Args): T {
    checkFunction(`${this.begin.provider}:${this.begin.name}.run(fn, ...)`, fn);
    return runInSpan(this.start(...values), fn);
  }
}

interface SpanClass {
  begin: TracedEvent<[number, number, string]>;
  ends: SpanEnds;
}

export class Provider {
  private readonly spans = new Map<string, SpanClass>();
  // Most call sites pass the same literal name: a pointer compare skips the Map.
  private lastSpanName = '';
  private lastSpanClass: SpanClass | undefined;
  private readonly counters = new Map<string, Counter>();

  constructor(readonly name: string) {
    checkProviderName(name);
  }

  /** Define an event class: fields are 'name:type' specs, in emit's argument order. */
  event<const S extends readonly FieldSpec[]>(name: string, fields: S,
    options?: EventOptions): TracedEvent<ArgsOf<S>> {
    checkEventName(this.name, name);
    return new TracedEvent<ArgsOf<S>>(this.name, name, 'event',
      parseFields(`${this.name}:${name}`, fields), options);
  }

  /** Start a span; its parent is the span current in this async context. */
  span(name: string, fields?: Record<string, unknown>): SpanHandle {
    const cls = this.spanClass(name);
    if (!cls.begin.enabled) return NOOP_SPAN;
    const seq = nextSpanSeq();
    cls.begin.emit(seq, currentParent(), argsJson(fields)); // span_id: spanBase + seq
    return new ActiveSpan(seq, cls.ends);
  }

  /**
   * Run fn inside a span (sync or async); spans started within it, also after
   * awaits, are its children. A throw or rejection ends the span with `error`.
   */
  withSpan<T>(name: string, fn: () => T, fields?: Record<string, unknown>): T {
    checkFunction(`${this.name}.withSpan('${name}', fn)`, fn);
    return runInSpan(this.span(name, fields), fn);
  }

  /**
   * A span class whose start records typed fields, like an event's (no JSON:
   * ~10x cheaper than span(name, fields) with four fields). The fields follow
   * span_id and parent_id in the begin record; `span_id`, `parent_id` and
   * `args` are the span's own names.
   */
  spanType<const S extends readonly FieldSpec[]>(name: string, fields: S, options?: EventOptions):
    SpanType<ArgsOf<S>> {
    checkEventName(this.name, name);
    const where = `${this.name}:${name}`;
    const own = parseFields(where, fields).find((f) => ['span_id', 'parent_id', 'args'].includes(f.name));
    if (own) throw new TypeError(`ringtrace: ${where}: field '${own.name}' is a span's own field; choose another name`);
    return new SpanType<ArgsOf<S>>(
      new TracedEvent(this.name, name, 'span_begin', parseFields(where, ['span_id:u64', 'parent_id:u64', ...fields]),
        options, SPAN_BEGIN_IDS),
      this.spanClass(name).ends);
  }

  /** A counter track; values are f64. */
  counter(name: string): Counter {
    let c = this.counters.get(name);
    if (!c) {
      checkEventName(this.name, name);
      c = new Counter(new TracedEvent<[number]>(this.name, name, 'counter',
        parseFields(`${this.name}:${name}`, ['value:f64'])));
      this.counters.set(name, c);
    }
    return c;
  }

  private spanClass(name: string): SpanClass {
    if (name === this.lastSpanName && this.lastSpanClass) return this.lastSpanClass;
    let cls = this.spans.get(name);
    if (!cls) {
      checkEventName(this.name, name);
      const where = `${this.name}:${name}`;
      cls = {
        begin: new TracedEvent(this.name, name, 'span_begin',
          parseFields(where, ['span_id:u64', 'parent_id:u64', 'args:string']), {}, SPAN_BEGIN_IDS),
        ends: {
          withFields: new TracedEvent(this.name, name, 'span_end', parseFields(where, ['span_id:u64', 'args:string']),
            {}, SPAN_END_IDS),
          bare: new TracedEvent(this.name, name, 'span_end', parseFields(where, ['span_id:u64']), {}, SPAN_END_IDS),
        },
      };
      this.spans.set(name, cls);
    }
    this.lastSpanName = name;
    this.lastSpanClass = cls;
    return cls;
  }
}

/**
 * set(v) records v; add(d) adds to this thread's running value and records it.
 * A value that is not a number (or a delta that is not finite, which would
 * poison the running value) changes nothing and is handled like an invalid
 * emit value: dropped and counted, or thrown in strict mode.
 */
export class Counter {
  private value = 0;
  constructor(private readonly event: TracedEvent<[number]>) {}
  get enabled(): boolean {
    return this.event.enabled;
  }
  set(v: number): void {
    if (typeof v !== 'number') {
      this.event.invalid.value(0, v);
      return;
    }
    this.value = v;
    if (this.event.enabled) this.event.emit(v);
  }
  add(d: number): void {
    if (typeof d !== 'number' || !Number.isFinite(d)) {
      this.event.invalid.other('value', () => new TypeError(`ringtrace: ${this.event.provider}:${this.event.name}: ` +
        `add expects a finite number, got ${describeValue(d)}; nothing was recorded`));
      return;
    }
    this.value += d;
    if (this.event.enabled) this.event.emit(this.value);
  }
}

const providers = new Map<string, Provider>();

/** The library's own records (ringtrace:invalid_value); users cannot define this provider. */
const OWN_PROVIDER = 'ringtrace';
let invalidValue: TracedEvent<[string, string, string]> | undefined;
setInvalidRecorder((event, field, problem) => {
  invalidValue ??= new TracedEvent(OWN_PROVIDER, 'invalid_value', 'event',
    parseFields(`${OWN_PROVIDER}:invalid_value`, ['event:string', 'field:string', 'problem:string']));
  invalidValue.emit(event, field, problem);
});

/** The provider of that name (one per name per thread). */
export function provider(name: string): Provider {
  let p = providers.get(name);
  if (!p) {
    if (name === OWN_PROVIDER) throw new TypeError(`ringtrace: provider name '${OWN_PROVIDER}' is reserved for the library's own records`);
    p = new Provider(name);
    providers.set(name, p);
  }
  return p;
}
