// How long the recorder may sleep before it reads the rings again.
//
// Reading back to back while data trickles in made the recorder's CPU grow
// with its polls, not with the bytes it moves (5-6 % of a CPU under a server
// writing a few MB/s). Instead: after a pass that wrote a whole sub-buffer, or
// when a ring lost events, read again at once (data is flowing fast: each pass
// pays for itself); otherwise sleep as long as the busiest ring can go on
// filling before reaching a quarter of its size (halved again for rate
// changes), at most `maxSleepMs`. A ring's fill rate is remembered with a slow
// decay, so a pause in a fast flow (or a full ring, whose write offset stops)
// does not look idle. A new producer (an app that just attached, which often
// starts with a burst) gets short sleeps for a while, before any rate is known.
// Rings that have not moved for a second are read every IDLE_READ_SLEEP_MS.
// Producers never wait for the recorder, so what this bounds is loss (a full
// ring drops and counts events), not their speed.
import type { Session } from '../session';

/** Longest sleep between reads while data flows: bounds how long a burst fills the rings unread. */
export const MAX_READ_SLEEP_MS = 100;
/**
 * Longest sleep once no ring has moved for IDLE_AFTER_MS (every wake-up costs
 * ~0.1-0.2 ms of CPU on these VMs; an app that attaches ends the sleep at once).
 */
export const IDLE_READ_SLEEP_MS = 250;
const IDLE_AFTER_MS = 1000;
/** Per pass, a remembered fill rate keeps this share unless the ring fills faster. */
const RATE_MEMORY = 0.8;
/** A computed sleep shorter than this reads at once instead. */
const MIN_SLEEP_MS = 5;
/** After a producer attaches: sleeps at most FRESH_SLEEP_MS for FRESH_MS. */
const FRESH_MS = 1000;
const FRESH_SLEEP_MS = 5;

export class ReadPace {
  private current: Float64Array;
  private previous: Float64Array;
  /** Bytes per ms each ring was last seen filling at (decaying). */
  private readonly rates: Float64Array;
  private previousAt = -1;
  private freshUntil = -1;
  private movedAt = -Infinity;

  constructor(private readonly session: Pick<Session, 'ringOffsets'>, nRings: number,
    private readonly ringSize: number, private readonly maxSleepMs = MAX_READ_SLEEP_MS) {
    this.current = new Float64Array(3 * nRings);
    this.previous = new Float64Array(3 * nRings);
    this.rates = new Float64Array(nRings);
  }

  /** A producer attached at `now`: it may start with a burst no rate predicts. */
  producerArrived(now: number): void {
    this.freshUntil = now + FRESH_MS;
  }

  /**
   * Milliseconds to sleep from `now` before the next read; 0: read again at
   * once. `wholeSubBuffers`: how many full sub-buffers the pass just wrote.
   */
  next(now: number, wholeSubBuffers: number): number {
    this.session.ringOffsets(this.current);
    const cur = this.current;
    const prev = this.previous;
    const first = this.previousAt < 0;
    if (first) this.movedAt = now; // nothing known yet: not idle
    const elapsed = Math.max(now - this.previousAt, 0.1);
    const quarter = this.ringSize / 4;
    let sleep = wholeSubBuffers > 0 ? 0 : this.maxSleepMs;
    for (let r = 0; r < this.rates.length; r++) {
      const written = cur[3 * r]!;
      if (written !== prev[3 * r]) this.movedAt = now;
      const unread = written - cur[3 * r + 1]!;
      let rate = first ? 0 : (written - prev[3 * r]!) / elapsed;
      if (!first && cur[3 * r + 2]! > prev[3 * r + 2]!) { // it filled: read now, and expect it fast
        rate = this.ringSize / this.maxSleepMs;
        sleep = 0;
      }
      rate = Math.max(rate, this.rates[r]! * RATE_MEMORY);
      this.rates[r] = rate;
      if (unread >= quarter) sleep = 0; // behind: keep reading
      else if (rate > 0) sleep = Math.min(sleep, (quarter - unread) / rate / 2);
    }
    [this.previous, this.current] = [this.current, this.previous];
    this.previousAt = now;
    // Short sleeps are not worth their risk: a timer of a few ms oversleeps on a busy host, and a
    // ring filling that fast is worth reading back to back (each pass moves a lot).
    if (sleep < MIN_SLEEP_MS) return 0;
    if (now < this.freshUntil) return Math.min(Math.floor(sleep), FRESH_SLEEP_MS);
    if (sleep === this.maxSleepMs && now - this.movedAt >= IDLE_AFTER_MS) return IDLE_READ_SLEEP_MS;
    return Math.floor(sleep);
  }
}
