// Spans: handles whose end is recorded once, the async-context parent (an
// AsyncLocalStorage), running a function inside a span, and typed span classes
// (Provider.spanType) whose start is generated per field count.
import { AsyncLocalStorage } from 'node:async_hooks';
import { type EventOptions, SPAN_ID_BASE, rebuildable, TracedEvent } from './event';
import { type FieldSpec, parseFields } from './schema';
import { describeValue, isStrict } from './invalid-values';

/** A span in progress. end() records its end once; later calls do nothing. */
export interface SpanHandle {
  readonly id: number;
  end(fields?: Record<string, unknown>): void;
}

export const NOOP_SPAN: SpanHandle = { id: 0, end() {} };
const currentSpan = new AsyncLocalStorage<number>();
// This thread's spans so far: a span's id is SPAN_ID_BASE + its number (event.ts).
let spanCounter = 0;

export function argsJson(fields: Record<string, unknown> | undefined): string {
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
export interface SpanEnds {
  withFields: TracedEvent<[number, string]>;
  bare: TracedEvent<[number]>;
}

/**
 * Two fields, both small: the span's number in this thread (a small integer,
 * where the id itself, above 2^32, would be a heap-allocated double) and its
 * end records until it has ended. A span cost 70 bytes of garbage before.
 */
export class ActiveSpan implements SpanHandle {
  constructor(private readonly seq: number, private ends: SpanEnds | null) {}
  get id(): number {
    return SPAN_ID_BASE + this.seq;
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
export function checkFunction(call: string, fn: unknown): void {
  if (typeof fn !== 'function') {
    throw new TypeError(`ringtrace: ${call}: fn must be a function, got ${describeValue(fn)}`);
  }
}

/** Run fn inside `span` (sync or async); a throw or rejection ends it with `error`. */
export function runInSpan<T>(span: SpanHandle, fn: () => T): T {
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
export const SPAN_BEGIN_IDS = ['seq', 'id'] as const;
export const SPAN_END_IDS = ['seq'] as const;

/** A span's begin record class: span_id, parent_id, then `fields` (typed, or ['args:string']). */
export function spanBeginClass<Args extends unknown[]>(provider: string, name: string, fields: readonly FieldSpec[],
  options: EventOptions): TracedEvent<[number, number, ...Args]> {
  return new TracedEvent(provider, name, 'span_begin',
    parseFields(`${provider}:${name}`, ['span_id:u64', 'parent_id:u64', ...fields]), options, SPAN_BEGIN_IDS);
}

/** A span's end record class: span_id, then `fields` (none, or ['args:string']). */
export function spanEndClass<Args extends unknown[]>(provider: string, name: string, fields: readonly FieldSpec[],
  options: EventOptions): TracedEvent<[number, ...Args]> {
  return new TracedEvent(provider, name, 'span_end', parseFields(`${provider}:${name}`, ['span_id:u64', ...fields]),
    options, SPAN_END_IDS);
}

export function nextSpanSeq(): number {
  return ++spanCounter;
}

let firstParentRead: (() => void) | null = null;
let parentWasRead = false;

/**
 * Run `hook` the first time anything in this thread reads the current span
 * (now, if something already has; null: none). Auto mode keeps no async
 * context until then, and enters it from then on: the context costs every
 * async operation of the app, and an app whose spans never read it need not
 * pay. The hook runs before that first read returns, so it can still make the
 * span it should find current.
 */
export function onFirstParentRead(hook: (() => void) | null): void {
  firstParentRead = hook;
  if (hook !== null && parentWasRead) hook();
}

export function currentParent(): number {
  if (!parentWasRead) {
    parentWasRead = true;
    firstParentRead?.();
  }
  return currentSpan.getStore() ?? 0;
}

/**
 * Make span `id` (0: none) current for the rest of this synchronous execution
 * and everything it starts (AsyncLocalStorage.enterWith): for code that cannot
 * wrap a callback, such as a diagnostics_channel subscriber (src/auto/).
 */
export function enterSpan(id: number): void {
  currentSpan.enterWith(id);
}

/** No current span anywhere until the next run or enterSpan (AsyncLocalStorage.disable: its hooks go too). */
export function leaveSpanContext(): void {
  currentSpan.disable();
}

/**
 * SpanType's start for n fields, generated with n named parameters: a rest
 * parameter and a spread into the begin record's emit cost an array per span.
 * A begin record that was not recorded (disabled, or an invalid value) makes
 * no span: no end record without its begin. Strict mode checks values while
 * disabled too (begin's emit does).
 */
function buildStart(n: number, begin: TracedEvent<unknown[]>, ends: SpanEnds,
  strict: boolean, root: boolean): (...values: unknown[]) => SpanHandle {
  const params = Array.from({ length: n }, (_, i) => `v${i}`);
  const body = `return function start(${params.join(', ')}) {
  ${strict ? '' : 'if (!begin.enabled) return NOOP_SPAN;'}
  if (arguments.length !== ${n}) return begin.invalid.arity(${n}, arguments.length, 'start') || NOOP_SPAN;
  const seq = nextSpanSeq();
  if (!begin.record(${['seq', root ? '0' : 'currentParent()', ...params].join(', ')})) return NOOP_SPAN; // span_id: spanBase + seq
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

  /** `root`: its spans' parent is 0, not the current span (SpanTypeOptions.root). */
  constructor(private readonly begin: TracedEvent<[number, number, ...Args]>, private readonly ends: SpanEnds,
    private readonly root = false) {
    this.start = this.buildStart();
    rebuildable.push(this);
  }

  /** Generate start again (strict mode changed). */
  rebuild(): void {
    (this as { start: (...values: Args) => SpanHandle }).start = this.buildStart();
  }

  private buildStart(): (...values: Args) => SpanHandle {
    return buildStart(this.begin.fields.length - 2, this.begin as unknown as TracedEvent<unknown[]>, this.ends,
      isStrict(), this.root) as (...values: Args) => SpanHandle;
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

export interface SpanClass {
  /** span()'s begin record, made on its first use. */
  begin: TracedEvent<[number, number, string]> | undefined;
  ends: SpanEnds;
  /** Its classes' options (level). */
  options: EventOptions;
}
