// The body of BackgroundWriter's thread: writes the buffers the exporting
// thread moves here, in the order they come, so the kernel's copy into the
// page cache runs on the other CPU, then sends each buffer back for reuse
// and counts it in ctrl[RETURNED] (the exporting thread waits on that word).
// An error is posted on the port; ctrl[DONE] is set when the thread stops.
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { OutputClosed, writeAllSync } from './sink';

interface WriterData { fd: number; what: string; ctrl: SharedArrayBuffer; port: MessagePort }
interface ToWriter { buffer?: ArrayBuffer; n?: number; end?: boolean }

const RETURNED = 0; // as in background-writer.ts
const DONE = 1;
const STARTED = 2;

const { fd, what, ctrl: ctrlBuffer, port } = workerData as WriterData;
const ctrl = new Int32Array(ctrlBuffer);
Atomics.store(ctrl, STARTED, 1);

function stop(): void {
  port.close();
  Atomics.store(ctrl, DONE, 1);
  Atomics.notify(ctrl, DONE);
  Atomics.add(ctrl, RETURNED, 1); // wake a wait for a buffer: it then sees DONE
  Atomics.notify(ctrl, RETURNED);
  parentPort?.close();
}

port.on('message', (msg: ToWriter) => {
  if (msg.end) return stop();
  try {
    writeAllSync(fd, new Uint8Array(msg.buffer!, 0, msg.n!), what);
  } catch (e) {
    port.postMessage({ error: { closed: e instanceof OutputClosed, message: (e as Error).message } });
    return stop();
  }
  // The bytes are in the kernel now: the buffer goes back to be filled again.
  port.postMessage({ buffer: msg.buffer }, [msg.buffer!]);
  Atomics.add(ctrl, RETURNED, 1);
  Atomics.notify(ctrl, RETURNED);
});
