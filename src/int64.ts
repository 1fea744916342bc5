// 64-bit integers as two 32-bit words: how records store u64/i64 and how
// JavaScript numbers (exact below 2^53) are split into them and put back.

/** 2^32: a u64's high word times this, plus its low word. */
export const TWO32 = 4294967296;
/** 1 / 2^32: a multiply instead of a division when splitting off the high word. */
export const INV_TWO32 = 1 / TWO32;
