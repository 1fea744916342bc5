// Field types as small integers for the exporters that format records
// straight from their bytes (JSON lines, Perfetto): a per-field switch on
// these compiles to a jump table.
import type { Field } from '../schema';

export const OP_U8 = 0;
export const OP_I8 = 1;
export const OP_BOOL = 2;
export const OP_U16 = 3;
export const OP_I16 = 4;
export const OP_U32 = 5;
export const OP_I32 = 6;
export const OP_F32 = 7;
export const OP_F64 = 8;
export const OP_U64 = 9;
export const OP_I64 = 10;
export const OP_STRING = 11;
export const OP_BYTES = 12;

const OP: Record<string, number> = { u8: OP_U8, i8: OP_I8, bool: OP_BOOL, u16: OP_U16, i16: OP_I16, u32: OP_U32,
  i32: OP_I32, f32: OP_F32, f64: OP_F64, u64: OP_U64, i64: OP_I64, string: OP_STRING, bytes: OP_BYTES };

/** Bytes a field needs at least, by op (a string its NUL, bytes their length word). */
export const FIXED_SIZE = [1, 1, 1, 2, 2, 4, 4, 4, 8, 8, 8, 1, 4];

export function fieldOps(fields: readonly Field[]): Uint8Array {
  return Uint8Array.from(fields, (f) => OP[f.type]!);
}
