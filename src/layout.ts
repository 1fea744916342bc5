// Byte sizes of the native core's layout (native/ring/layout.h) that the
// TypeScript readers share: the same in the rings and in trace files (the
// addon's packetHeaderSize is checked against them in test/layout.test.ts).

/** A packet's CTF header and context, before its first record. */
export const PACKET_HEADER = 88;
/** A record's header: class id (u32), size (u32), timestamp (u64). */
export const EVENT_HEADER = 16;
