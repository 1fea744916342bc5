// ringtrace/otel: OpenTelemetry spans recorded into ringtrace's rings.
//   import { registerRingtrace } from 'ringtrace/otel';
//   registerRingtrace();   // before the instrumented modules are loaded
// Loaded only when imported: the main entry point never touches OpenTelemetry.
export { RingtraceTracerProvider, RingtraceTracer, type RingtraceTracerProviderOptions } from './tracer';
export { RingtraceSpanProcessor } from './processor';
export { registerRingtrace, type RegisterOptions } from './register';
export { AsyncContextManager } from './context';
export { OTEL_PROVIDER } from './typed-classes';
