// ringtrace: public entry point.
export { provider, configure, Provider, TracedEvent, Counter, SpanType, type SpanHandle, type EventOptions,
  type Configuration } from './provider';
export { FIELD_TYPES, type FieldType, type FieldSpec, type ArgsOf, type ClassDescription } from './schema';
export { currentTracer, DEFAULT_SESSION } from './tracer';
export { Session, Consumer, type SessionOptions, type ConsumedRecord } from './session';
export { records, RecordFormatError, type RawRecord } from './records';
export { decodePayload, readRegistry, parseRegistry, DecodeError, type DecodedEvent,
  type FieldValue } from './decode';
export { loadNative } from './native';
