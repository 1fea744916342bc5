// Spans that begin in one diagnostics-channel message and end in another:
// no handle can be passed between the two, so auto mode keeps each span's
// number (its sequence in this thread, a small integer) in a WeakMap keyed by
// the request object. A small integer is stored there as is; a span handle (an
// object, young when stored into the long-lived map) went through V8's
// ephemeron write barrier and remembered-set work at every collection:
// measured ~3 µs of server CPU per request (bench:http at a fixed rate), for a
// begin and an end record that cost ~0.1 µs.
import { SPAN_ID_BASE, TracedEvent } from '../event';
import { type ArgsOf, type FieldSpec, parseFields } from '../schema';
import { currentParent, nextSpanSeq, SPAN_BEGIN_IDS, SPAN_END_IDS } from '../spans';

export class NumberedSpans<Args extends unknown[]> {
  private readonly begin: TracedEvent<[number, number, ...Args]>;
  private readonly end: TracedEvent<[number]>;

  /** Span records like spanType's: `root` spans take parent 0, the others the current span. */
  constructor(provider: string, name: string, fields: readonly FieldSpec[], private readonly root: boolean) {
    const where = `${provider}:${name}`;
    this.begin = new TracedEvent(provider, name, 'span_begin',
      parseFields(where, ['span_id:u64', 'parent_id:u64', ...fields]), {}, SPAN_BEGIN_IDS);
    this.end = new TracedEvent(provider, name, 'span_end', parseFields(where, ['span_id:u64']), {}, SPAN_END_IDS);
  }

  get enabled(): boolean {
    return this.begin.enabled;
  }

  /** Record the begin; the span's number, or 0 if nothing was recorded (then no end either). */
  start(...values: Args): number {
    const seq = nextSpanSeq();
    return this.begin.record(seq, this.root ? 0 : currentParent(), ...values) ? seq : 0;
  }

  finish(seq: number): void {
    this.end.emit(seq);
  }
}

/** The span id of span number `seq` of this thread (what span records carry). */
export const spanId = (seq: number): number => SPAN_ID_BASE + seq;

export function numberedSpans<const S extends readonly FieldSpec[]>(provider: string, name: string, fields: S,
  options: { root: boolean }): NumberedSpans<ArgsOf<S>> {
  return new NumberedSpans<ArgsOf<S>>(provider, name, fields, options.root);
}
