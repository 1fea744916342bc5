// Exact tick -> epoch-nanosecond conversion for the stream cursor: one
// BigInt division per packet, a multiply per record.
import type { TraceClock } from '../ctf/metadata';
import { TWO32 } from '../int64';

const NS = 1_000_000_000;

/** Exact tick -> epoch-ns conversion around one base tick value (a packet's first timestamp). */
export class TimeBase {
  epochNs = 0n; // exact epoch ns of the base tick
  sinceStartNs = 0; // epochNs - trace start, as a Number
  epochSec = 0; // epochNs split for fast exact printing
  epochFrac = 0;
  beforeEpoch = false;
  private secText = ''; // String(secTextOf), cached: seconds change rarely
  private secTextOf = -1;
  /** The base tick relative to the trace base, so records convert from their `rel`. */
  relBase = 0;
  private rem = 0; // (base * 1e9) mod freq
  private readonly freq: number;
  private readonly perTick: number; // 1 / freq: a multiply per record instead of a divide
  // Whole ns per tick when the frequency divides 1e9 (ringtrace's own session clock counts ns: 1):
  // then rem is 0 and a record's ns are its ticks times this, exactly; else 0.
  private readonly nsPerTick: number;

  constructor(private readonly clock: TraceClock, private readonly startNs: bigint) {
    this.freq = Number(clock.freq);
    this.perTick = 1 / this.freq;
    this.nsPerTick = Number.isInteger(this.freq) && this.freq > 0 && NS % this.freq === 0 ? NS / this.freq : 0;
  }

  /**
   * Make `ticks` the base; `traceBase` is the trace's first tick (as halves),
   * for relBase. Ticks are at or after the clock's reference (a trace's clock
   * counts from tick 0): BigInt's / and % truncate, floor for those only.
   */
  set(ticks: bigint, traceBase: { hi: number; lo: number }): void {
    this.relBase = (Number(ticks >> 32n) - traceBase.hi) * TWO32 + (Number(ticks & 0xffffffffn) - traceBase.lo);
    const scaled = (ticks - this.clock.refTicks) * 1_000_000_000n;
    this.epochNs = this.clock.refRealtimeNs + scaled / this.clock.freq;
    this.rem = Number(scaled % this.clock.freq);
    this.sinceStartNs = Number(this.epochNs - this.startNs);
    this.epochSec = Number(this.epochNs / 1_000_000_000n);
    this.epochFrac = Number(this.epochNs % 1_000_000_000n);
    this.beforeEpoch = this.epochNs < 0n;
  }

  /** The ISO 8601 text of Unix second `sec` up to its decimal point ("2026-12-05T15:42:11."), cached. */
  isoSecondText(sec: number): string {
    if (sec !== this.isoOf) {
      this.isoOf = sec;
      const iso = new Date(sec * 1000).toISOString(); // ...ss.000Z
      this.isoText = iso.slice(0, iso.length - 4);
    }
    return this.isoText;
  }
  private isoText = '';
  private isoOf = -1;

  secondsText(sec: number): string {
    if (sec !== this.secTextOf) {
      this.secTextOf = sec;
      this.secText = String(sec);
    }
    return this.secText;
  }

  /** floor(((base + rel) - ref) * 1e9 / freq) - floor((base - ref) * 1e9 / freq), exactly. */
  nsAfter(rel: number): number {
    if (this.rem === 0 && this.nsPerTick !== 0) {
      // floor(rel * 1e9 / freq) = rel * nsPerTick. (The float path below rounds 1 / 1e9 and lands
      // within 1e-4 of the integer it should be every time: it took the BigInt division per record.)
      const ns = rel * this.nsPerTick;
      if (ns <= Number.MAX_SAFE_INTEGER) return ns;
    }
    const x = (this.rem + rel * NS) * this.perTick;
    const q = Math.floor(x);
    // A double holds x to ~1e-7 ns here; near an integer (or far out) redo it with BigInt.
    if (x < 1e11 && x - q > 1e-4 && q + 1 - x > 1e-4) return q;
    // rel >= 0 (records of a packet never precede its first), so BigInt division floors.
    return Number((BigInt(this.rem) + BigInt(rel) * 1_000_000_000n) / this.clock.freq);
  }
}
