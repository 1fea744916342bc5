// Stores a word (four bytes) at a time through a DataView, for the exporters'
// hot loops: a JS byte store costs ~1-2.5 ns on this host, and a word store
// about as much. Writers here, and the number writers of byteout.ts, may store
// up to WORD_SLACK bytes past the end of what they write; what is written
// next overwrites them (bytes past a buffer's filled length are never output).
// The room for them is kept by construction: ByteOut.reserve(n) and
// ProtoWriter.reserve(n) make n + WORD_SLACK bytes fit, so a caller reserves
// what it writes and nothing more (test/byte-slack.test.ts).

/** Bytes a word writer may store past the offset it returns. */
export const WORD_SLACK = 3;

/** Bytes as little-endian words, for putWords. */
export function wordsOf(bytes: Uint8Array): Uint32Array {
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  return new Uint32Array(padded.buffer);
}

/**
 * Source code for a generated writer (jsonl-fields.ts, otlp/field-plan.ts):
 * constant `bytes` stored at p through the DataView `v` a word at a time,
 * then p moved past them (up to WORD_SLACK bytes past them are stored too).
 */
export function wordStoresCode(bytes: Uint8Array): string {
  return [...wordsOf(bytes)].map((w, i) => `v.setUint32(p + ${4 * i}, ${w}, true);`).join(' ') + ` p += ${bytes.length};`;
}

/** Constant bytes given as wordsOf() words, `length` of them. */
export function putWords(v: DataView, p: number, words: Uint32Array, length: number): number {
  for (let i = 0; i < words.length; i++) v.setUint32(p + 4 * i, words[i]!, true);
  return p + length;
}

/**
 * Bytes [from, to) of the memory `src` views, copied to v at p. Reads up to
 * WORD_SLACK bytes past `to`: the caller makes sure they are inside `src`.
 */
export function putWordsFrom(v: DataView, p: number, src: DataView, from: number, to: number): number {
  for (let i = from; i < to; i += 4) v.setUint32(p + i - from, src.getUint32(i, true), true);
  return p + to - from;
}

/**
 * Bytes src[from, to) copied to b at p (`v` views b, `sv` views src): short
 * runs a word at a time when the over-read stays inside src, long ones with
 * one TypedArray.set (a call into C++, worth it past ~32 bytes for the
 * exporters' strings; past `setAbove` when a caller measured otherwise: the
 * view set() needs is a young-heap object per call), else by bytes.
 */
export function copyBytes(b: Uint8Array, v: DataView, p: number, src: Uint8Array, sv: DataView, from: number,
  to: number, setAbove = 32): number {
  const n = to - from;
  if (n > setAbove) {
    b.set(src.subarray(from, to), p);
    return p + n;
  }
  if (to + WORD_SLACK < sv.byteLength) return putWordsFrom(v, p, sv, from, to);
  for (let i = from; i < to; i++) b[p++] = src[i]!;
  return p;
}
