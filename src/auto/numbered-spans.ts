// Spans that begin in one diagnostics-channel message and end in another:
// no handle can be passed between the two, so auto mode keeps each span's
// number (its sequence in this thread, a small integer) on the request object
// the two messages share, under a symbol (spanOf/setSpanOf). Not in a WeakMap
// or Map keyed by it: a key needs the object's identity hash, which V8 makes
// on first use, and for an object with as many properties as a ServerResponse
// that cost 200-400 ns per request, with spikes to 3 µs while a WeakMap's
// deleted entries piled up (a loop making and answering ServerResponses:
// 550 ns each bare, 730-3 750 with a WeakMap, 830 with a Map, 520-550 with
// the symbol property).
import { SPAN_ID_BASE, type TracedEvent } from '../event';
import type { ArgsOf, FieldSpec } from '../schema';
import { currentParent, spanBeginClass, spanEndClass } from '../spans';

/**
 * A span class whose spans are numbers: start one with
 * `begin.record(seq = nextSpanSeq(), spans.parent(), ...fields)`, end it with
 * `end.emit(seq, ...endFields)` (the fields passed as they are: a rest
 * parameter and its spread cost ~300 instructions a call). What is known only
 * at the end (a response's status and size) goes in the end record itself:
 * one record fewer per span than an event beside it.
 */
export class NumberedSpans<Args extends unknown[], EndArgs extends unknown[]> {
  readonly begin: TracedEvent<[number, number, ...Args]>;
  readonly end: TracedEvent<[number, ...EndArgs]>;

  /** Span records like spanType's: `root` spans take parent 0, the others the current span. */
  constructor(provider: string, name: string, fields: readonly FieldSpec[], endFields: readonly FieldSpec[],
    private readonly root: boolean) {
    this.begin = spanBeginClass(provider, name, fields, {});
    this.end = spanEndClass(provider, name, endFields, {});
  }

  get enabled(): boolean {
    return this.begin.enabled;
  }

  /** The parent of a span started now: 0 for a root, else the current span. */
  parent(): number {
    return this.root ? 0 : currentParent();
  }
}

const SPAN = Symbol('ringtrace.span');

/** The span number kept on `request` (0: none). */
export function spanOf(request: object): number {
  const seq = (request as Record<symbol, unknown>)[SPAN];
  return typeof seq === 'number' ? seq : 0;
}

/** Keep span number `seq` on `request` (0 clears it; never deleted: deleting a property slows an object). */
export function setSpanOf(request: object, seq: number): void {
  (request as Record<symbol, unknown>)[SPAN] = seq;
}

/** The span id of span number `seq` of this thread (what span records carry). */
export const spanId = (seq: number): number => SPAN_ID_BASE + seq;

export function numberedSpans<const S extends readonly FieldSpec[], const E extends readonly FieldSpec[]>(
  provider: string, name: string, fields: S, endFields: E, options: { root: boolean }): NumberedSpans<ArgsOf<S>, ArgsOf<E>> {
  return new NumberedSpans<ArgsOf<S>, ArgsOf<E>>(provider, name, fields, endFields, options.root);
}
