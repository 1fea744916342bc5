// OpenTelemetry ids as the provider keeps them: lists of 32-bit words (a
// span id two, high word first; a trace id four, in the order of its hex
// digits), never all zeros (invalid). Records take the words as they are
// (the serializer's 'u64words' and 'hexwords'): no hex string is made and
// parsed back per span. The API's hex strings are made only when something
// asks for a span's context (hexOfWords), and a parent from elsewhere (a
// remote caller's traceparent) is read into words once (wordsOfHex).
// The words come from a pool filled by the OS's random source.
import type { SpanContext, TraceState } from '@opentelemetry/api';
import { randomFillSync } from 'node:crypto';

const POOL_WORDS = 1024;
const pool = new Int32Array(POOL_WORDS);
let poolAt = POOL_WORDS;

/** Where the next `words` random words start in the pool (refilled when they would not fit). */
function take(words: number): number {
  if (poolAt + words > POOL_WORDS) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const at = poolAt;
  poolAt += words;
  return at;
}

/** A random span id: [high word, low word], not both zero. */
export function randomSpanWords(): number[] {
  const i = take(2);
  const hi = pool[i]!;
  const lo = pool[i + 1]!;
  return [hi, (hi | lo) === 0 ? 1 : lo];
}

/** A random trace id: four words, not all zero. */
export function randomTraceWords(): number[] {
  const i = take(4);
  const w0 = pool[i]!;
  const w1 = pool[i + 1]!;
  const w2 = pool[i + 2]!;
  const w3 = pool[i + 3]!;
  return [w0, w1, w2, (w0 | w1 | w2 | w3) === 0 ? 1 : w3];
}

const DIGITS = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** Character codes of a span id's and a trace id's digits (reused: one String.fromCharCode makes the string). */
const codesOf = [new Array<number>(16).fill(0), new Array<number>(32).fill(0)];

/**
 * The lower-case hex digits of `words` (8 per word), one flat string (~60 ns
 * for a trace id; Number#toString(16) costs ~200 ns a word).
 */
export function hexOfWords(words: readonly number[]): string {
  const n = words.length;
  const codes = n === 2 ? codesOf[0]! : n === 4 ? codesOf[1]! : new Array<number>(8 * n);
  for (let i = 0; i < n; i++) {
    const w = words[i]!;
    for (let k = 0; k < 8; k++) codes[8 * i + k] = DIGITS[(w >>> (28 - 4 * k)) & 15]!;
  }
  return String.fromCharCode.apply(null, codes);
}

/** A span context of ids given as words. */
export function contextOfWords(traceWords: readonly number[], spanWords: readonly number[], traceFlags: number,
  traceState: TraceState | undefined): SpanContext {
  const context: SpanContext = { traceId: hexOfWords(traceWords), spanId: hexOfWords(spanWords), traceFlags };
  if (traceState) context.traceState = traceState;
  return context;
}

/** The words of a hex id already checked as such (isSpanContextValid): 8 digits per word. */
export function wordsOfHex(hex: string): number[] {
  const words = new Array<number>(hex.length >> 3);
  for (let i = 0; i < words.length; i++) words[i] = parseInt(hex.slice(8 * i, 8 * i + 8), 16) | 0;
  return words;
}
