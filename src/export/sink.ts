// Synchronous, bounded output for readers that produce millions of lines:
// text is batched into ~64 KiB writes made with fs.writeSync, so memory stays
// flat whatever the consumer of a pipe does. A reader closing the pipe
// (`| head`) raises OutputClosed, which callers treat as a normal end.
import * as fs from 'node:fs';

export class OutputClosed extends Error {
  constructor() {
    super('output closed');
    this.name = 'OutputClosed';
  }
}

const BATCH = 1 << 16;
const pause = new Int32Array(new SharedArrayBuffer(4));

/** Write all of `data` to `fd`, waiting out EAGAIN (a non-blocking pipe that is full). */
export function writeAllSync(fd: number, data: Uint8Array, what: string): void {
  let off = 0;
  while (off < data.length) {
    try {
      off += fs.writeSync(fd, data, off, data.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(pause, 0, 0, 1); // the reader is behind: sleep 1 ms, then retry
        continue;
      }
      if (code === 'EPIPE') throw new OutputClosed();
      throw new Error(`cannot write ${what}: ${(e as Error).message}`);
    }
  }
}

export class TextSink {
  private pending = '';
  bytes = 0;

  private readonly out: (bytes: Buffer) => void;

  /** Output to a file descriptor (written here) or to a function that takes the bytes. */
  constructor(output: number | ((bytes: Buffer) => void), what: string) {
    this.out = typeof output === 'number' ? (b) => writeAllSync(output, b, what) : output;
  }

  write(text: string): void {
    this.pending += text;
    if (this.pending.length >= BATCH) this.flush();
  }

  line(text: string): void {
    this.write(text + '\n');
  }

  flush(): void {
    if (!this.pending) return;
    const buf = Buffer.from(this.pending, 'utf8');
    this.pending = '';
    this.bytes += buf.length;
    this.out(buf);
  }
}
