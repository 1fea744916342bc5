// Output through a second thread: the exporting thread fills a buffer, moves
// it to the writer thread (write-worker.ts; an ArrayBuffer transfer, no
// copy), and goes on formatting into the next one while the writer hands the
// full one to the kernel and sends it back for reuse. Writing 350 MB/s into
// the page cache costs a CPU's worth of copying on its own on these
// machines; this way formatting and copying overlap, and the bytes are never
// copied in JS (copying each buffer into shared memory cost ~7 % of a JSON
// lines export). Memory is bounded by BUFFERS x BUFFER_SIZE. Everything stays
// synchronous for the caller: with every buffer queued, it waits
// (Atomics.wait) for one to come back.
import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { OutputClosed } from './sink';

const BUFFERS = 16;
// 256 KiB buffers stay in cache between uses (4 % faster than 1 MiB ones); 16 of them, as with
// 4 x 1 MiB the exporting thread waited for a free one ~4 % of the time.
export const BUFFER_SIZE = 1 << 18;
// ctrl words (shared with write-worker.ts)
const RETURNED = 0; // buffers sent back so far: a wait target
const DONE = 1;
const STARTED = 2;
const CTRL_WORDS = 3;

/** Where formatted bytes go: fill a buffer from buffer(), then submit() it. */
export interface OutputBuffers {
  buffer(min?: number): Buffer;
  submit(buf: Buffer, n: number): void;
}

interface FromWriter {
  buffer?: ArrayBuffer;
  error?: { closed: boolean; message: string };
}

export class BackgroundWriter implements OutputBuffers {
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(4 * CTRL_WORDS));
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private readonly free: ArrayBuffer[] = [];
  private error: FromWriter['error'];
  /** Bytes queued so far. */
  bytes = 0;
  private ended = false;

  constructor(fd: number, what: string) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1 as unknown as MessagePort;
    this.worker = new Worker(path.join(__dirname, 'write-worker.js'), {
      workerData: { fd, what, ctrl: this.ctrl.buffer, port: port2 },
      transferList: [port2],
    });
    this.worker.unref();
    for (let i = 0; i < BUFFERS; i++) this.free.push(new ArrayBuffer(BUFFER_SIZE));
  }

  /** A buffer of at least `min` bytes to fill (its contents are stale); waits while every buffer is queued. */
  buffer(min = BUFFER_SIZE): Buffer {
    this.checkError();
    let ab = this.free.pop();
    const started = Date.now();
    while (!ab) {
      const seen = Atomics.load(this.ctrl, RETURNED);
      ab = this.receive();
      if (ab) break;
      this.checkError();
      if (Atomics.load(this.ctrl, DONE) === 1) throw new Error('the output writer thread stopped');
      if (Atomics.load(this.ctrl, STARTED) === 0 && Date.now() - started > 30_000) {
        throw new Error('the output writer thread did not start');
      }
      Atomics.wait(this.ctrl, RETURNED, seen, 1000);
    }
    return Buffer.from(ab.byteLength >= min ? ab : new ArrayBuffer(min));
  }

  /**
   * Queue buf[0, n) for writing. A buffer from buffer() (or any Buffer that
   * is the whole of its ArrayBuffer) moves to the writer thread: do not touch
   * it afterwards. Others are copied.
   */
  submit(buf: Buffer, n: number): void {
    if (n === 0) return;
    this.checkError();
    if (buf.byteOffset !== 0 || buf.length !== buf.buffer.byteLength || !(buf.buffer instanceof ArrayBuffer)) {
      return this.write(buf.subarray(0, n));
    }
    this.bytes += n;
    this.port.postMessage({ buffer: buf.buffer, n }, [buf.buffer]);
  }

  /** Queue a copy of `bytes`. */
  write(bytes: Uint8Array): void {
    for (let off = 0; off < bytes.length; off += BUFFER_SIZE) {
      const n = Math.min(BUFFER_SIZE, bytes.length - off);
      const b = this.buffer();
      b.set(bytes.subarray(off, off + n));
      this.submit(b, n);
    }
  }

  /** Write what was submitted and stop the thread; throws the writer's error if it had one. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.port.postMessage({ end: true });
    while (Atomics.load(this.ctrl, DONE) === 0) Atomics.wait(this.ctrl, DONE, 0, 1000);
    while (this.receive()) {
      // drain returned buffers, and an error if one came
    }
    void this.worker.terminate();
    this.checkError();
  }

  /** Take what the writer sent: a returned buffer, or its error (kept for checkError). */
  private receive(): ArrayBuffer | undefined {
    const msg = receiveMessageOnPort(this.port as never) as { message: FromWriter } | undefined;
    if (!msg) return undefined;
    if (msg.message.error) this.error = msg.message.error;
    return msg.message.buffer;
  }

  private checkError(): void {
    if (!this.error) {
      if (Atomics.load(this.ctrl, DONE) === 0) return;
      while (this.receive()) {
        // the writer stopped: its error, if any, is queued before DONE was set
      }
      if (!this.error) return;
    }
    if (this.error.closed) throw new OutputClosed();
    throw new Error(this.error.message);
  }
}
