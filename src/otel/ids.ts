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
import { latin1Slice } from '../buffer-internals';
import { hexWord, putHexWords } from '../trusted-values';

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

// Room for a trace id's digits (hexOfWords).
const hexScratch = Buffer.alloc(8 * 4 + 1);
const hexView = new DataView(hexScratch.buffer, hexScratch.byteOffset, hexScratch.length);

/** The lower-case hex digits of a span's or a trace's words (8 per word), as its records hold them. */
export function hexOfWords(words: readonly number[]): string {
  return latin1Slice(hexScratch, 0, putHexWords(hexView, 0, words, hexScratch.length - 1) - 1);
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
  for (let i = 0; i < words.length; i++) words[i] = hexWord(hex, 8 * i) | 0;
  return words;
}
