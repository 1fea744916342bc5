// Output through a second thread: the exporting thread copies each full
// buffer into one of a few shared slots and goes on formatting while the
// writer thread (write-worker.ts) hands the slots to the kernel. Writing 350 MB/s into the page cache costs a
// CPU's worth of copying on its own on these machines; this way formatting
// and copying overlap. Memory is bounded by slots x slotSize. Everything
// stays synchronous for the caller: a full ring waits (Atomics.wait).
import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { OutputClosed } from './sink';

const SLOTS = 4;
const SLOT_SIZE = 1 << 20;
const ERROR = SLOTS; // ctrl indexes after the slots' (see write-worker.ts)
const DONE = SLOTS + 1;
const STARTED = SLOTS + 2;

export class BackgroundWriter {
  private readonly data = new SharedArrayBuffer(SLOTS * SLOT_SIZE);
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(4 * (SLOTS + 3)));
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private slot = 0; // the slot being filled
  /** Bytes queued so far. */
  bytes = 0;
  private ended = false;

  constructor(fd: number, what: string) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1 as unknown as MessagePort;
    this.worker = new Worker(path.join(__dirname, 'write-worker.js'), {
      workerData: { fd, what, data: this.data, ctrl: this.ctrl.buffer, slots: SLOTS, slotSize: SLOT_SIZE, port: port2 },
      transferList: [port2],
    });
    this.worker.unref();
  }

  /** Queue a copy of `bytes` for writing (waits while every slot is queued). */
  write(bytes: Uint8Array): void {
    this.bytes += bytes.length;
    for (let off = 0; off < bytes.length; off += SLOT_SIZE) {
      const n = Math.min(SLOT_SIZE, bytes.length - off);
      this.waitFree(this.slot);
      new Uint8Array(this.data, this.slot * SLOT_SIZE, n).set(bytes.subarray(off, off + n));
      // The store publishes the slot's bytes to the writer thread (Atomics are sequentially consistent).
      Atomics.store(this.ctrl, this.slot, n);
      Atomics.notify(this.ctrl, this.slot);
      this.slot = (this.slot + 1) % SLOTS;
    }
    this.checkError();
  }

  /** Write what was submitted and stop the thread; throws the writer's error if it had one. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.waitFree(this.slot);
    Atomics.store(this.ctrl, this.slot, -1);
    Atomics.notify(this.ctrl, this.slot);
    while (Atomics.load(this.ctrl, DONE) === 0) Atomics.wait(this.ctrl, DONE, 0, 1000);
    void this.worker.terminate();
    this.checkError();
  }

  private waitFree(i: number): void {
    const started = Date.now();
    for (let v = Atomics.load(this.ctrl, i); v !== 0; v = Atomics.load(this.ctrl, i)) {
      Atomics.wait(this.ctrl, i, v, 1000);
      this.checkError();
      if (Atomics.load(this.ctrl, DONE) === 1) throw new Error('the output writer thread stopped');
      if (Atomics.load(this.ctrl, STARTED) === 0 && Date.now() - started > 30_000) {
        throw new Error('the output writer thread did not start');
      }
    }
    this.checkError();
  }

  private checkError(): void {
    if (Atomics.load(this.ctrl, ERROR) === 0) return;
    const msg = receiveMessageOnPort(this.port as never) as { message: { closed: boolean; message: string } } | undefined;
    if (!msg || msg.message.closed) throw new OutputClosed();
    throw new Error(msg.message.message);
  }
}
