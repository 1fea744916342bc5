// The body of BackgroundWriter's thread: writes the slots the exporting
// thread fills, in order, so the kernel's copy into the page cache runs on
// the other CPU. Protocol (Int32Array over shared memory, see
// background-writer.ts): ctrl[i] > 0 is a slot of that many bytes to write,
// then set to 0 (free); -1 ends the thread. An error is posted on the port,
// then ctrl[ERROR] is set and every slot freed so the other side wakes up.
import { parentPort, workerData } from 'node:worker_threads';
import { OutputClosed, writeAllSync } from './sink';

interface WriterData { fd: number; what: string; data: SharedArrayBuffer; ctrl: SharedArrayBuffer; slots: number;
  slotSize: number; port: MessagePort }

const { fd, what, data, ctrl: ctrlBuffer, slots, slotSize, port } = workerData as WriterData;
const ctrl = new Int32Array(ctrlBuffer);
const ERROR = slots;
const DONE = slots + 1;
const STARTED = slots + 2;
Atomics.store(ctrl, STARTED, 1);

function run(): void {
  for (let i = 0; ; i = (i + 1) % slots) {
    Atomics.wait(ctrl, i, 0); // returns at once if the slot is already filled
    const n = Atomics.load(ctrl, i);
    if (n < 0) return;
    writeAllSync(fd, new Uint8Array(data, i * slotSize, n), what);
    // The slot's bytes are in the kernel now: hand it back (the store
    // publishes "free"; the filler's wait/load sees it and may overwrite).
    Atomics.store(ctrl, i, 0);
    Atomics.notify(ctrl, i);
  }
}

try {
  run();
} catch (e) {
  port.postMessage({ closed: e instanceof OutputClosed, message: (e as Error).message });
  Atomics.store(ctrl, ERROR, 1);
  for (let i = 0; i < slots; i++) {
    Atomics.store(ctrl, i, 0);
    Atomics.notify(ctrl, i);
  }
} finally {
  Atomics.store(ctrl, DONE, 1);
  Atomics.notify(ctrl, DONE);
  parentPort?.close();
}
