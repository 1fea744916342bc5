// Little-endian integer reads for the per-record paths. Buffer's own
// readUInt32LE validates its offset argument on every call (about a tenth of
// a reader's time at millions of records a second); these callers have
// already checked the record's bounds. Out of range they give NaN, never throw.

export function u32(d: Uint8Array, o: number): number {
  return d[o]! + d[o + 1]! * 0x100 + d[o + 2]! * 0x10000 + d[o + 3]! * 0x1000000;
}

export function i32(d: Uint8Array, o: number): number {
  return d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24);
}

/** A DataView of exactly a Buffer's bytes (for word-at-a-time copies; little-endian access). */
export function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.length);
}
