// Node's own Buffer methods that its documented ones call after checking and
// normalizing their arguments (Buffer#toString(enc, start, end) calls
// utf8Slice/latin1Slice, Buffer#write calls utf8Write). They are not in the
// typings or the docs, so each is used through these functions, which fall
// back to the documented call where a runtime lacks it (both give the same
// results: test/buffer-internals.test.ts). Worth it on hot paths: short
// strings decoded from records cost ~100 ns through utf8Slice against ~200 ns
// through toString here.

interface Internals {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
  utf8Write(s: string, offset: number, length: number): number;
}

export interface BufferText {
  /** b[start, end) decoded as UTF-8 (invalid sequences as U+FFFD), as b.toString('utf8', start, end). */
  utf8Slice(b: Buffer, start: number, end: number): string;
  /** b[start, end) as Latin-1, as b.toString('latin1', start, end). */
  latin1Slice(b: Buffer, start: number, end: number): string;
  /** s encoded as UTF-8 into b at offset, at most length bytes (whole characters); bytes written, as b.write. */
  utf8Write(b: Buffer, s: string, offset: number, length: number): number;
}

/** The helpers for buffers whose prototype is `proto` (tests pass one without the internals). */
export function bufferText(proto: object = Buffer.prototype): BufferText {
  const has = (name: keyof Internals) => typeof (proto as Partial<Internals>)[name] === 'function';
  return {
    utf8Slice: has('utf8Slice')
      ? (b, start, end) => (b as Buffer & Internals).utf8Slice(start, end)
      : (b, start, end) => b.toString('utf8', start, end),
    latin1Slice: has('latin1Slice')
      ? (b, start, end) => (b as Buffer & Internals).latin1Slice(start, end)
      : (b, start, end) => b.toString('latin1', start, end),
    utf8Write: has('utf8Write')
      ? (b, s, offset, length) => (b as Buffer & Internals).utf8Write(s, offset, length)
      : (b, s, offset, length) => b.write(s, offset, length, 'utf8'),
  };
}

export const { utf8Slice, latin1Slice, utf8Write } = bufferText();
