// The `kind` column of the records table: what the loader writes (rows.ts)
// and what the views select on (tables.ts).
export const KIND_EVENT = 0;
export const KIND_BEGIN = 1;
export const KIND_END = 2;
export const KIND_COUNTER = 3;
