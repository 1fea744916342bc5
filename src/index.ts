// ringtrace: public entry point.
// The public types use Node's (Buffer) and ES2020's (Map, Generator, bigint):
// these directives stay in the emitted index.d.ts (preserve), so a consumer
// compiles them under any target and with no automatic @types (`"types": []`).
/// <reference types="node" preserve="true" />
/// <reference lib="es2020" preserve="true" />
export { provider, configure, Provider, TracedEvent, Counter, SpanType, type SpanHandle, type EventOptions,
  type SpanTypeOptions, type Configuration, type ProviderOptions, LEVELS, type Level } from './provider';
export { FIELD_TYPES, type FieldType, type FieldSpec, type ArgsOf, type ClassDescription } from './schema';
export { currentTracer, DEFAULT_SESSION } from './tracer';
export { Session, Consumer, type SessionOptions, type ConsumedRecord, type LoopHeartbeat } from './session';
export { Snapshot, type PacketSource } from './snapshot';
export { snapshot } from './snapshot-request';
import './uncaught'; // records uncaught exceptions in every thread whose tracer started
export { Peeker } from './peeker';
export type { RingMode, NativeSnapshotRing } from './native';
export { records, RecordFormatError, type RawRecord } from './records';
export { decodePayload, readRegistry, parseRegistry, DecodeError, type DecodedEvent,
  type FieldValue } from './decode';
export { loadNative } from './native';
