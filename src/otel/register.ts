// registerRingtrace: ringtrace's own TracerProvider (tracer.ts) registered as
// the global one, with a context manager that follows async code (unless the
// app set its own), so every OpenTelemetry instrumentation records into the
// rings. Needs only @opentelemetry/api; apps that also export to another
// backend keep the SDK and add RingtraceSpanProcessor to it instead.
import { type Attributes, context, trace } from '@opentelemetry/api';
import { AsyncContextManager } from './context';
import { RingtraceTracerProvider } from './tracer';

export interface RegisterOptions {
  /** Resource attributes over the defaults (service.name, process.pid, telemetry.sdk.*). */
  resource?: Attributes;
  /** Install the AsyncLocalStorage context manager (default true; kept if one is already set). */
  contextManager?: boolean;
  /** Register globally (default true): instrumentations then use this provider. */
  global?: boolean;
}

/** A RingtraceTracerProvider, registered as the global tracer provider. */
export function registerRingtrace(options: RegisterOptions = {}): RingtraceTracerProvider {
  const provider = new RingtraceTracerProvider({ resource: options.resource });
  if (options.contextManager !== false) context.setGlobalContextManager(new AsyncContextManager()); // false if set
  if (options.global !== false) trace.setGlobalTracerProvider(provider);
  return provider;
}
