// The OTLP sender thread (OtlpClient's worker): request bodies arrive as
// messages, an OtlpSender ships them, and every change of its stats is
// published to the shared board the caller reads. On close it flushes until
// the caller's deadline, publishes the final stats and sets DONE. An
// exception anywhere in this thread ends it the same way, with FAILED set
// and the error as lastError: the caller counts what was not delivered as
// dropped, and nothing is thrown on its side.
import { parentPort, workerData } from 'node:worker_threads';
import type { SendWorkerData, ToSendWorker } from './client';
import { BEAT_MS, StatsBoard } from './stats-board';
import { OtlpSender } from './sender';
import { emptyStats } from './sender-stats';

const data = workerData as SendWorkerData;
const board = new StatsBoard(data.board);
let sender: OtlpSender | undefined;
let dead = false; // after a failure nothing more is published: a late callback must not bury its message

function failed(e: unknown): void {
  if (dead) return;
  dead = true;
  const s = sender?.stats() ?? emptyStats();
  s.lastError = `the OTLP sender thread failed: ${e instanceof Error ? e.message : String(e)}`;
  board.publish(s, true);
  board.finish();
  process.exit(1); // ends this thread only
}
process.on('uncaughtException', failed);
process.on('unhandledRejection', failed);

/** A given body's memory back to the client, for its next bodies. */
function giveBack(body: Uint8Array): void {
  const buffer = body.buffer as ArrayBuffer; // (the client made it: never shared memory)
  data.spares.postMessage(buffer, [buffer]);
}

const s = new OtlpSender(data.config, { ...data.options, onChange: () => dead || board.publish(s.stats()) });
sender = s;
board.publish(s.stats());
setInterval(() => board.beat(), BEAT_MS).unref();

parentPort!.on('message', (m: ToSendWorker) => {
  if (m.type === 'batch') {
    s.enqueue(m.signal, new Uint8Array(m.buffer, 0, m.length), m.items, m.given ? giveBack : undefined);
  }
  else if (m.type === 'close') {
    void s.close(Math.max(0, m.flushBy - Date.now())).then((final) => {
      if (dead) return;
      board.publish(final);
      board.finish();
      parentPort!.close();
    });
  }
});
