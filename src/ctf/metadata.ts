// CTF 1.8 metadata (TSDL) for a ringtrace trace: the packet and event headers
// exactly as native/ring/layout.h lays them out, the clock as the session
// calibrated it, and one event block per registered class (schema.ts types).
import { displayName, type ClassDescription, type Field } from '../schema';

export interface TraceClock {
  /** Ticks per second. */
  freq: bigint;
  /** A tick value and the CLOCK_REALTIME nanoseconds at that moment. */
  refTicks: bigint;
  refRealtimeNs: bigint;
}

export interface MetadataInput {
  uuid: string; // 32 hex digits
  clock: TraceClock;
  classes: Map<number, ClassDescription>;
  env: Record<string, string | number>;
}

const NS = 1_000_000_000n;

/** The clock's offset from the Unix epoch, as CTF wants it: whole seconds + ticks. */
export function clockOffset(c: TraceClock): { seconds: bigint; ticks: bigint } {
  // epoch_ns = refRealtimeNs - refTicks * 1e9 / freq (the instant the counter read 0)
  const zeroNs = c.refRealtimeNs - (c.refTicks * NS) / c.freq;
  let seconds = zeroNs / NS;
  let remNs = zeroNs % NS;
  if (remNs < 0n) {
    remNs += NS;
    seconds -= 1n;
  }
  return { seconds, ticks: (remNs * c.freq) / NS };
}

/** Convert a tick value to nanoseconds since the epoch. */
export function ticksToEpochNs(c: TraceClock, ticks: bigint): bigint {
  return c.refRealtimeNs + ((ticks - c.refTicks) * NS) / c.freq;
}

function uuidText(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const INT = (bits: number, signed: boolean, extra = '') =>
  `integer { size = ${bits}; align = 8; signed = ${signed}; byte_order = le;${extra} }`;
const CLOCKED = ` map = clock.ringtrace.value;`;

/** Field declarations; names get CTF's '_' prefix (readers strip one). */
function fieldDecl(f: Field): string {
  const n = `_${f.name}`;
  switch (f.type) {
    case 'i8': case 'i16': case 'i32': case 'i64':
      return `${INT(Number(f.type.slice(1)), true)} ${n};`;
    case 'u8': case 'u16': case 'u32': case 'u64':
      return `${INT(Number(f.type.slice(1)), false)} ${n};`;
    case 'f32':
      return `floating_point { exp_dig = 8; mant_dig = 24; align = 8; byte_order = le; } ${n};`;
    case 'f64':
      return `floating_point { exp_dig = 11; mant_dig = 53; align = 8; byte_order = le; } ${n};`;
    case 'bool':
      return `enum : ${INT(8, false)} { false = 0, true = 1 } ${n};`;
    case 'string':
      return `string { encoding = UTF8; } ${n};`;
    case 'bytes':
      return `${INT(32, false)} __${f.name}_length;\n\t\t${INT(8, false, ' encoding = none; base = 16;')} ${n}[__${f.name}_length];`;
  }
}

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function buildMetadata(m: MetadataInput): string {
  const off = clockOffset(m.clock);
  const env = Object.entries(m.env)
    .map(([k, v]) => `\t${k} = ${typeof v === 'number' ? String(v) : quote(v)};`).join('\n');
  const events = [...m.classes].sort(([a], [b]) => a - b).map(([id, c]) => {
    const fields = c.fields.map((f) => `\t\t${fieldDecl(f)}`).join('\n');
    return `event {\n\tname = ${quote(displayName(c))};\n\tid = ${id};\n\tstream_id = 0;\n` +
      `\tfields := struct {\n${fields}\n\t};\n};\n`;
  }).join('\n');
  return `/* CTF 1.8 */

trace {
\tmajor = 1;
\tminor = 8;
\tuuid = "${uuidText(m.uuid)}";
\tbyte_order = le;
\tpacket.header := struct {
\t\t${INT(32, false)} magic;
\t\t${INT(8, false)} uuid[16];
\t\t${INT(32, false)} stream_id;
\t\t${INT(64, false)} stream_instance_id;
\t};
};

env {
${env}
};

clock {
\tname = ringtrace;
\tuuid = "${uuidText(m.uuid)}";
\tdescription = "ringtrace session clock";
\tfreq = ${m.clock.freq};
\toffset_s = ${off.seconds};
\toffset = ${off.ticks};
\tabsolute = true;
};

stream {
\tid = 0;
\tpacket.context := struct {
\t\t${INT(64, false, CLOCKED)} timestamp_begin;
\t\t${INT(64, false, CLOCKED)} timestamp_end;
\t\t${INT(64, false)} content_size;
\t\t${INT(64, false)} packet_size;
\t\t${INT(64, false)} packet_seq_num;
\t\t${INT(64, false)} events_discarded;
\t\t${INT(32, false)} cpu_id;
\t\t${INT(32, false)} ring_kind;
\t};
\t/* The ring's record size sits in bytes 4..7: declared as alignment padding
\t * (timestamp aligned to 64 bits), since readers warn about extra fields. */
\tevent.header := struct {
\t\tinteger { size = 32; align = 64; signed = false; byte_order = le; } id;
\t\tinteger { size = 64; align = 64; signed = false; byte_order = le;${CLOCKED} } timestamp;
\t};
\tevent.context := struct {
\t\t${INT(32, false)} _pid;
\t\t${INT(32, false)} _tid;
\t};
};

${events}`;
}
