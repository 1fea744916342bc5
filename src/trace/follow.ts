// Reading a trace directory while `trace-consume record` writes it. Each pass
// hands over, merged in time order, the whole packets written since the
// previous pass: a stream file grows by whole packets, but a reader can see
// one half-written, so only packets whose every byte is in the file are read
// (their headers validated before their sizes are used), and the rest waits
// for the next pass. The directory is complete once the recorder's side file
// exists (it is written last, after the final flush): the pass that sees it
// reads everything, and a packet still cut short then is damage, reported.
// While the recorder says how far its last flush wrote every stream
// (followers.ts), a pass reads no further: a flush half done is not read.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PACKET_HEADER } from '../layout';
import { StreamCursor, traceStart } from './cursor';
import { mergeCursors } from './merge';
import { checkPacketHeader, openTrace, streamFiles, TraceError, type ByteRange, type Trace } from './reader';
import { readFlushed } from './followers';
import { CLASSES_FILE, SIDECAR } from './writer';

export interface PassResult {
  /** The recording has ended: this pass read everything there will be. */
  complete: boolean;
  /** visit returned false. */
  stopped: boolean;
  /** Records handed over in this pass. */
  records: number;
}

/** Where the whole packets of a file end, from `from` (a packet start); `damaged`: a bad header there. */
function wholePacketsEnd(file: string, from: number, size: number): { end: number; damaged: boolean } {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(PACKET_HEADER);
    let off = from;
    while (size - off >= PACKET_HEADER) {
      if (fs.readSync(fd, head, 0, PACKET_HEADER, off) !== PACKET_HEADER) break; // shrank: read it next pass
      let packetSize: number;
      try {
        packetSize = checkPacketHeader(head, path.basename(file), off);
      } catch {
        return { end: off, damaged: true }; // bytes the file has: not a write in progress
      }
      if (off + packetSize > size) break; // still being written
      off += packetSize;
    }
    return { end: off, damaged: false };
  } finally {
    fs.closeSync(fd);
  }
}

export class TraceFollower {
  private trace: Trace;
  private classesStamp: string;
  private readonly offsets = new Map<string, number>(); // stream -> bytes read (a packet boundary)
  private readonly stopped = new Set<string>(); // damaged streams: not read further
  private start: ReturnType<typeof traceStart> | undefined; // the cursors' shared base, once there is data

  /**
   * While the recorder has not said how far its last flush wrote (followers.ts),
   * read nothing (true) or whole packets (false: a recorder that does not say).
   */
  waitForCut = false;
  private lastCut: Map<string, number> | undefined;

  /** Opens the directory (a trace's metadata must be there: the recorder writes it before anything else). */
  constructor(readonly dir: string) {
    this.classesStamp = this.stamp();
    this.trace = openTrace(dir);
  }

  /** The event classes known so far. */
  classes(): Trace['classes'] {
    return this.trace.classes;
  }

  /** The metadata's session name, if it names one. */
  sessionName(): string | undefined {
    const m = /\bsession = "((?:[^"\\]|\\.)*)";/.exec(this.metadata());
    return m ? m[1]!.replace(/\\(.)/g, '$1') : undefined;
  }

  /** The recording session's uuid (32 hex digits, as the session says it), if the metadata has one. */
  uuid(): string | undefined {
    const m = /\btrace \{[^}]*\buuid = "([0-9a-f-]{36})";/.exec(this.metadata());
    return m ? m[1]!.replace(/-/g, '') : undefined;
  }

  private metadata(): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'metadata'), 'utf8');
    } catch {
      return '';
    }
  }

  /**
   * Hand over the records of the packets written since the last pass, in time
   * order (see mergeCursors): `visit` returns false to stop. Damage ends that
   * stream, with the error to onError after its valid records.
   */
  pass(visit: (c: StreamCursor) => boolean | void, onError: (e: Error) => void): PassResult {
    // The side file first: if it is there, the sizes read after it are final.
    const complete = fs.existsSync(path.join(this.dir, SIDECAR));
    // The recorder's cut after its last flush, if it writes one for its followers: no further (followers.ts).
    const read = complete ? undefined : readFlushed(this.dir);
    if (read !== 'torn' && read !== undefined) this.lastCut = read;
    const cut = read === 'torn' ? this.lastCut ?? new Map<string, number>() : read; // torn: the previous one
    if (!complete && !cut && this.waitForCut) return { complete, stopped: false, records: 0 };
    const ranges: [string, ByteRange][] = [];
    for (const stream of streamFiles(this.dir)) {
      if (this.stopped.has(stream)) continue;
      const file = path.join(this.dir, stream);
      const inFile = fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
      const size = cut ? Math.min(inFile, cut.get(stream) ?? 0) : inFile;
      const from = this.offsets.get(stream) ?? 0;
      if (size <= from) continue;
      // Complete: everything is read, and a packet cut short is reported by the cursor.
      const { end, damaged } = complete ? { end: size, damaged: false } : wholePacketsEnd(file, from, size);
      const upTo = damaged ? size : end; // past a bad header: the cursor reports it after what precedes it
      if (upTo > from) ranges.push([stream, { from, upTo }]);
      this.offsets.set(stream, upTo);
    }
    // The classes after the sizes: the recorder describes a class before writing a packet that uses it.
    const stamp = this.stamp();
    if (stamp !== this.classesStamp || complete) {
      this.trace = openTrace(this.dir);
      this.classesStamp = stamp;
    }
    if (!ranges.length) return { complete, stopped: false, records: 0 };
    this.start ??= traceStart(this.trace);
    const { base, startNs } = this.start;
    const cursors = ranges.map(([s, range]) => new StreamCursor(this.trace, s, base, startNs, range));
    let stopped = false;
    const records = mergeCursors(cursors, (e) => {
      if (e instanceof TraceError) this.stopped.add(e.file);
      onError(e);
    }, (c) => {
      if (visit(c) !== false) return true;
      stopped = true;
      return false;
    });
    return { complete, stopped, records };
  }

  /** Identifies the class list's version: the recorder replaces the file (a rename) when classes are added. */
  private stamp(): string {
    const st = fs.statSync(path.join(this.dir, CLASSES_FILE), { throwIfNoEntry: false });
    return st ? `${st.ino}:${st.size}:${st.mtimeMs}` : '';
  }
}
