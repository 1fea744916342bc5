// The provider's span when nothing is recorded (no session, a parent that is
// not sampled, a begin the session's filter left out): valid ids for
// propagation, every other method a no-op, as the API's non-recording span.
// Its ids stay words (ids.ts) until something asks for its context, which
// most such spans never are: with tracing off, a span costs its ids' words
// and this object, not two hex strings.
import type { Span, SpanContext, TraceState } from '@opentelemetry/api';
import { contextOfWords } from './ids';

export class UnrecordedSpan implements Span {
  private context: SpanContext | null = null;

  constructor(readonly traceWords: readonly number[], readonly spanWords: readonly number[],
    readonly traceFlags: number, readonly traceState: TraceState | undefined) {}

  spanContext(): SpanContext {
    return this.context ??= contextOfWords(this.traceWords, this.spanWords, this.traceFlags, this.traceState);
  }

  setAttribute(): this {
    return this;
  }

  setAttributes(): this {
    return this;
  }

  addEvent(): this {
    return this;
  }

  addLink(): this {
    return this;
  }

  addLinks(): this {
    return this;
  }

  setStatus(): this {
    return this;
  }

  updateName(): this {
    return this;
  }

  end(): void {}

  isRecording(): boolean {
    return false;
  }

  recordException(): void {}
}
