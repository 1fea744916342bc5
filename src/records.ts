// Walks the records of a chunk copied out of a ring. Every length is checked
// before use: a malformed record ends the walk with an error naming its offset,
// after the valid records before it have been returned.
import { EVENT_HEADER } from './layout';

export const RECORD_ALIGN = 8;

export interface RawRecord {
  id: number;
  timestamp: bigint;
  payload: Buffer;
  /** Offset of the record within its sub-buffer. */
  offset: number;
}

export class RecordFormatError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = 'RecordFormatError';
  }
}

/** Yields each record of `data`, which starts at `firstOffset` in its sub-buffer. */
/** RT_HOLE_ID (native/ring/layout.h). */
export const HOLE_ID = 0xffffffff;

/** Bytes from the record at `pos` to the next one, after checking its size fits `data`. */
function strideAt(data: Buffer, pos: number, firstOffset: number, where: string): number {
  const at = firstOffset + pos;
  if (data.length - pos < EVENT_HEADER) {
    throw new RecordFormatError(`${where}: truncated record at offset ${at}`, at);
  }
  const size = data.readUInt32LE(pos + 4);
  const stride = Math.ceil(size / RECORD_ALIGN) * RECORD_ALIGN;
  if (size < EVENT_HEADER || stride > data.length - pos) {
    throw new RecordFormatError(`${where}: record at offset ${at} has bad size ${size}`, at);
  }
  return stride;
}

/** How many records records() would yield, without building them. */
export function countRecords(data: Buffer, firstOffset: number, where: string): number {
  let n = 0;
  for (let pos = 0; pos < data.length; pos += strideAt(data, pos, firstOffset, where)) {
    if (data.readUInt32LE(pos) !== HOLE_ID) n++;
  }
  return n;
}

export function* records(data: Buffer, firstOffset: number, where: string): Generator<RawRecord> {
  let pos = 0;
  while (pos < data.length) {
    const at = firstOffset + pos;
    const stride = strideAt(data, pos, firstOffset, where);
    const size = data.readUInt32LE(pos + 4);
    const id = data.readUInt32LE(pos);
    if (id === HOLE_ID) { // a dead writer's record, made padding by the consumer (counted lost)
      pos += stride;
      continue;
    }
    yield {
      id,
      timestamp: data.readBigUInt64LE(pos + 8),
      payload: data.subarray(pos + EVENT_HEADER, pos + size),
      offset: at,
    };
    pos += stride;
  }
}
