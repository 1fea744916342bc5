// ringtrace: public entry point. The typed instrumentation API (providers,
// events, spans) is built on Session in later work; see docs/design.md.
export { Session, Consumer, type SessionOptions, type ConsumedRecord } from './session';
export { records, RecordFormatError, type RawRecord } from './records';
export { loadNative } from './native';
