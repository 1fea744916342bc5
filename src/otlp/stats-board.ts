// The OTLP sender's figures in shared memory: the sender thread publishes
// them, the caller's thread reads them synchronously (client.ts), with flags
// for a thread that finished or failed and a heartbeat.
import { OTLP_SIGNALS } from './config';
import { emptyStats, SIGNAL_COUNTERS, STAT_COUNTERS, type SenderStats } from './sender-stats';

// ctrl words
export const SEQ = 0; // odd while the worker writes the board; every publish changes it (a wait target)
export const DONE = 1; // the worker finished closing, or failed
const FAILED = 2;
const TEXT_LEN = 3; // bytes of lastError in `text`, -1 when there is none
const CTRL_WORDS = 4;
const NUMBERS = STAT_COUNTERS.length + OTLP_SIGNALS.length * SIGNAL_COUNTERS.length + 1; // + when lastError last changed
const TEXT_BYTES = 2048;
// The worker beats every second; a send() waiting for room takes this long without a beat as its death
// (one killed without a word, e.g. out of memory), so that it never waits forever.
export const BEAT_MS = 1000;
export const STALL_MS = 30_000;

export interface BoardBuffers { ctrl: SharedArrayBuffer; numbers: SharedArrayBuffer; text: SharedArrayBuffer }

/**
 * SenderStats in shared memory. One thread publishes, any reads: a seqlock
 * (the sequence word is odd during a write, and a reader retries when it
 * changed under it), so a read is one consistent snapshot and the counts
 * add up.
 */
export class StatsBoard {
  readonly buffers: BoardBuffers;
  readonly ctrl: Int32Array;
  private readonly numbers: Float64Array;
  private readonly text: Uint8Array;
  private lastText: string | undefined;
  private errorAt = 0;

  /** A new board, or (in the worker) the one whose buffers came over. */
  constructor(buffers?: BoardBuffers) {
    this.buffers = buffers ?? {
      ctrl: new SharedArrayBuffer(4 * CTRL_WORDS),
      numbers: new SharedArrayBuffer(8 * NUMBERS),
      text: new SharedArrayBuffer(TEXT_BYTES),
    };
    this.ctrl = new Int32Array(this.buffers.ctrl);
    this.numbers = new Float64Array(this.buffers.numbers);
    this.text = new Uint8Array(this.buffers.text);
    if (!buffers) Atomics.store(this.ctrl, TEXT_LEN, -1);
  }

  /** `failed`: the last stats of a worker that failed (flagged within the write: no snapshot has one without the other). */
  publish(s: SenderStats, failed = false): void {
    Atomics.add(this.ctrl, SEQ, 1);
    if (failed) Atomics.store(this.ctrl, FAILED, 1);
    let i = 0;
    for (const k of STAT_COUNTERS) this.numbers[i++] = s[k];
    for (const sig of OTLP_SIGNALS) for (const k of SIGNAL_COUNTERS) this.numbers[i++] = s.signals[sig][k];
    if (s.lastError !== this.lastText) {
      this.lastText = s.lastError;
      this.errorAt = Date.now();
      const len = s.lastError === undefined ? -1 : new TextEncoder().encodeInto(s.lastError, this.text).written;
      Atomics.store(this.ctrl, TEXT_LEN, len);
    }
    this.numbers[i] = this.errorAt;
    Atomics.add(this.ctrl, SEQ, 1);
    Atomics.notify(this.ctrl, SEQ);
  }

  /** The last published stats, and when their lastError was set (epoch ms, 0 if never). */
  read(): { stats: SenderStats; errorAt: number } {
    let waitingSince: number | undefined;
    for (let tries = 0; ; tries++) {
      const seq = Atomics.load(this.ctrl, SEQ);
      let stale = false;
      if ((seq & 1) === 1 && tries > 100) {
        // Mid-write, and the writer is taking long (its thread was preempted): sleep until it is done.
        // One that died mid-write leaves the word odd: after a second, take what is there.
        waitingSince ??= Date.now();
        stale = Date.now() - waitingSince > 1000;
        if (!stale) {
          Atomics.wait(this.ctrl, SEQ, seq, 5);
          continue;
        }
      }
      if ((seq & 1) === 1 && !stale) continue;
      const got = this.decode();
      if (stale || Atomics.load(this.ctrl, SEQ) === seq) return got;
    }
  }

  private decode(): { stats: SenderStats; errorAt: number } {
    const s = emptyStats();
    let i = 0;
    for (const k of STAT_COUNTERS) s[k] = this.numbers[i++]!;
    for (const sig of OTLP_SIGNALS) for (const k of SIGNAL_COUNTERS) s.signals[sig][k] = this.numbers[i++]!;
    const len = Atomics.load(this.ctrl, TEXT_LEN);
    s.lastError = len < 0 ? undefined : Buffer.from(this.text.slice(0, len)).toString('utf8');
    return { stats: s, errorAt: this.numbers[i]! };
  }

  /** A sign of life (the worker beats every second): the sequence moves on, the stats stay. */
  beat(): void {
    Atomics.add(this.ctrl, SEQ, 2);
    Atomics.notify(this.ctrl, SEQ);
  }

  /** The worker is done (closed, or failed): wakes a close() waiting for it. */
  finish(): void {
    Atomics.store(this.ctrl, DONE, 1);
    Atomics.notify(this.ctrl, DONE);
    Atomics.add(this.ctrl, SEQ, 2); // wakes a send() waiting for room, keeping the word even
    Atomics.notify(this.ctrl, SEQ);
  }

  flag(word: 'done' | 'failed'): boolean {
    return Atomics.load(this.ctrl, word === 'done' ? DONE : FAILED) === 1;
  }
}
