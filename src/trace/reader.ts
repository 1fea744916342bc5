// Reads a ringtrace CTF trace directory back, streaming: one packet per stream
// in memory at a time, streams merged by timestamp. Every header and length is
// validated before use; damage ends that stream with a TraceError naming the
// file and byte offset, after every valid event before it has been delivered.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TraceClock } from '../ctf/metadata';
import { parseRegistry } from '../decode';
import { withAttributeKeys } from '../otel/typed-classes';
import type { ClassDescription } from '../schema';
import { CLASSES_FILE, SIDECAR } from './writer';
import { PACKET_HEADER } from '../layout';

const MAGIC = 0xc1fc1fc1;
const MAX_PACKET = 1 << 30;

export class TraceError extends Error {
  /** Events of the stream the damage kept from being read, when the recorder's side file counts them. */
  missingEvents: number | undefined;

  constructor(readonly file: string, readonly offset: number, readonly problem: string) {
    super(`${file}: at byte ${offset}: ${problem}`);
    this.name = 'TraceError';
  }
}

/** The file ends inside a packet or its header: `declaredEnd` is where that packet should end, if known. */
export class TruncatedStream extends TraceError {
  constructor(file: string, readonly fileSize: number, message: string, readonly declaredEnd?: number) {
    super(file, fileSize, message);
  }
}

export interface PacketInfo {
  offset: number;
  cpu: number;
  ringKind: number;
  timestampBegin: bigint;
  timestampEnd: bigint;
  eventsDiscarded: number;
  contentSize: number;
  packetSize: number;
  /** packetSize, or less in the last packet of a file cut short (the bytes present). */
  bytesInFile: number;
}

export interface Trace {
  dir: string;
  clock: TraceClock;
  classes: Map<number, ClassDescription>;
  streams: string[];
  sidecar: Record<string, unknown> | undefined;
}

/** Open and validate a trace directory (metadata, class list, clock). */
export function openTrace(dir: string): Trace {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new Error(`${dir}: no such directory`);
  }
  if (!st.isDirectory()) throw new Error(`${dir}: not a directory`);
  const metaPath = path.join(dir, 'metadata');
  let meta: string;
  try {
    meta = fs.readFileSync(metaPath, 'utf8');
  } catch {
    throw new Error(`${dir}: not a trace directory (no metadata file)`);
  }
  if (!meta.startsWith('/* CTF 1.8 */')) throw new Error(`${metaPath}: not CTF 1.8 text metadata`);
  if (!/tracer_name = "ringtrace"/.test(meta)) {
    throw new Error(`${metaPath}: not written by ringtrace (other CTF traces: use babeltrace2)`);
  }
  const num = (key: string) => {
    const m = new RegExp(`clock \\{[^}]*\\b${key} = (-?\\d+);`).exec(meta);
    if (!m) throw new Error(`${metaPath}: clock block has no ${key}`);
    return BigInt(m[1]!);
  };
  const freq = num('freq');
  if (freq <= 0n) throw new Error(`${metaPath}: clock frequency ${freq}`);
  // Epoch instant of tick 0 from offset_s + offset; expressed as a reference pair.
  const zeroNs = num('offset_s') * 1_000_000_000n + (num('offset') * 1_000_000_000n) / freq;
  const clock: TraceClock = { freq, refTicks: 0n, refRealtimeNs: zeroNs };
  const classesPath = path.join(dir, CLASSES_FILE);
  let classes: Map<number, ClassDescription>;
  try {
    classes = parseRegistry(fs.readFileSync(classesPath, 'utf8'), classesPath);
    for (const [id, cls] of classes) classes.set(id, withAttributeKeys(cls)); // span events' attributes by their keys
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${dir}: no ${CLASSES_FILE} file (event classes)`);
    throw e;
  }
  let sidecar: Record<string, unknown> | undefined;
  try {
    sidecar = JSON.parse(fs.readFileSync(path.join(dir, SIDECAR), 'utf8')) as Record<string, unknown>;
  } catch {
    sidecar = undefined; // a consumer that died writes none; the streams are still readable
  }
  return { dir, clock, classes, streams: streamFiles(dir), sidecar };
}

/** The stream files of a trace directory: every regular file but the metadata and hidden ones. */
export function streamFiles(dir: string): string[] {
  return fs.readdirSync(dir)
    .filter((f) => !f.startsWith('.') && f !== 'metadata' && fs.statSync(path.join(dir, f), { throwIfNoEntry: false })?.isFile())
    .sort();
}

/** What the recorder wrote to a stream file, from the side file; undefined if it does not say. */
export function recordedStream(trace: Trace, stream: string): { events: number; bytes: number } | undefined {
  const rings = trace.sidecar?.['rings'];
  if (!Array.isArray(rings)) return undefined;
  const count = (v: unknown) => (Number.isSafeInteger(v) && (v as number) >= 0 ? v as number : undefined);
  const mine = rings.filter((r) => typeof r === 'object' && r !== null && (r as { file?: unknown }).file === stream);
  if (mine.length !== 1) return undefined;
  const { events, bytes } = mine[0] as { events?: unknown; bytes?: unknown };
  const e = count(events);
  const b = count(bytes);
  return e !== undefined && b !== undefined ? { events: e, bytes: b } : undefined;
}

/**
 * Part of a stream file still being written: whole packets from byte `from`
 * (a packet start) up to `upTo` (the file's size when its writer had just
 * written whole packets).
 */
export interface ByteRange {
  from: number;
  upTo: number;
}

/** A packet header's packet size in bytes, after checking its magic and sizes; damage is a TraceError. */
export function checkPacketHeader(head: Buffer, file: string, offset: number): number {
  if (head.readUInt32LE(0) !== MAGIC) {
    throw new TraceError(file, offset, `bad packet magic 0x${head.readUInt32LE(0).toString(16)}`);
  }
  const contentBits = head.readBigUInt64LE(48);
  const packetBits = head.readBigUInt64LE(56);
  if (packetBits % 64n !== 0n || packetBits / 8n < PACKET_HEADER || packetBits / 8n > MAX_PACKET ||
      contentBits > packetBits || contentBits / 8n < PACKET_HEADER || contentBits % 8n !== 0n) {
    throw new TraceError(file, offset, `bad packet sizes (content ${contentBits} bits, packet ${packetBits} bits)`);
  }
  return Number(packetBits / 8n);
}

/**
 * Packets of one stream file, validated; reads one packet at a time. With
 * `reuse`, every packet is read into the same buffer (grown when needed): the
 * caller must be done with one packet's data before asking for the next
 * (a fresh zero-filled buffer per 512 KiB packet is a measurable part of a
 * fast reader's time). A file cut inside a packet yields that packet's bytes
 * present (`bytesInFile` < `packetSize`) as its last: the caller reads the
 * whole records in it and reports the cut.
 */
export function* packets(file: string, reuse = false, range?: ByteRange): Generator<{ info: PacketInfo; data: Buffer }> {
  const fd = fs.openSync(file, 'r');
  try {
    const size = range ? range.upTo : fs.fstatSync(fd).size;
    const head = Buffer.alloc(PACKET_HEADER);
    const name = path.basename(file);
    let shared: Buffer | undefined;
    let off = range ? range.from : 0;
    while (off < size) {
      if (size - off < PACKET_HEADER) {
        throw new TruncatedStream(name, size, `truncated: the file ends ${size - off} bytes into the header of ` +
          `the packet at byte ${off}`);
      }
      fs.readSync(fd, head, 0, PACKET_HEADER, off);
      const packetSize = checkPacketHeader(head, name, off);
      const contentBits = head.readBigUInt64LE(48);
      const bytesInFile = Math.min(packetSize, size - off); // less: the file was cut inside this packet
      let data: Buffer;
      if (reuse) {
        if (!shared || shared.length < bytesInFile) shared = Buffer.allocUnsafeSlow(bytesInFile);
        data = shared.subarray(0, bytesInFile);
      } else {
        data = Buffer.alloc(bytesInFile);
      }
      if (fs.readSync(fd, data, 0, bytesInFile, off) !== bytesInFile) {
        throw new TraceError(name, off, 'the file shrank while it was read');
      }
      yield {
        info: {
          offset: off, cpu: head.readUInt32LE(80), ringKind: head.readUInt32LE(84),
          timestampBegin: head.readBigUInt64LE(32), timestampEnd: head.readBigUInt64LE(40),
          eventsDiscarded: Number(head.readBigUInt64LE(72)), contentSize: Number(contentBits / 8n), packetSize,
          bytesInFile,
        },
        data,
      };
      off += packetSize;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Nanoseconds since the epoch as an ISO-8601 UTC time with nanoseconds. */
export function isoNs(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const frac = (ns % 1_000_000_000n + 1_000_000_000n) % 1_000_000_000n;
  return new Date(Number(ms)).toISOString().replace(/\.\d{3}Z$/, `.${frac.toString().padStart(9, '0')}Z`);
}
