// registerRingtrace: a BasicTracerProvider whose spans ringtrace records,
// registered as the global tracer provider, with a context manager that
// follows async code (unless the app set its own).
import { context, trace } from '@opentelemetry/api';
import { BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AsyncContextManager } from './context';
import { RingtraceSpanProcessor } from './processor';

export interface RegisterOptions {
  /** The provider's other settings (resource, sampler, limits, id generator). */
  config?: ConstructorParameters<typeof BasicTracerProvider>[0];
  /** The ringtrace processor to use (to read its failure count); default a new one. */
  processor?: RingtraceSpanProcessor;
  /** More processors (exporters) after ringtrace's. */
  spanProcessors?: SpanProcessor[];
  /** Install the AsyncLocalStorage context manager (default true; kept if one is already set). */
  contextManager?: boolean;
  /** Register globally (default true): instrumentations then use this provider. */
  global?: boolean;
}

/** The provider, registered; its spans go through `options.processor` (or a new RingtraceSpanProcessor). */
export function registerRingtrace(options: RegisterOptions = {}): BasicTracerProvider {
  const processor = options.processor ?? new RingtraceSpanProcessor();
  const provider = new BasicTracerProvider({ ...options.config,
    spanProcessors: [processor, ...(options.config?.spanProcessors ?? []), ...(options.spanProcessors ?? [])] });
  if (options.contextManager !== false) context.setGlobalContextManager(new AsyncContextManager()); // false if set
  if (options.global !== false) trace.setGlobalTracerProvider(provider);
  return provider;
}
