// Random OpenTelemetry ids as the lower-case hex strings the API hands
// around: 8 bytes for a span, 16 for a trace, never all zeros (invalid).
// Math.random is what the SDK uses too: ids must be unique, not secret.
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** 4 random bytes as 8 hex digits. */
function word(): string {
  const w = (Math.random() * 0x100000000) >>> 0;
  return HEX[w >>> 24]! + HEX[(w >>> 16) & 0xff]! + HEX[(w >>> 8) & 0xff]! + HEX[w & 0xff]!;
}

const ZERO_WORD = '00000000';

export function randomSpanId(): string {
  const hi = word();
  const lo = word();
  return hi === ZERO_WORD && lo === ZERO_WORD ? '0000000000000001' : hi + lo;
}

export function randomTraceId(): string {
  const id = word() + word() + word() + word();
  return id === '00000000000000000000000000000000' ? '00000000000000000000000000000001' : id;
}
