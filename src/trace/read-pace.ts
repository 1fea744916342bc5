// How long the recorder may sleep before it reads the rings again.
//
// Reading back to back while data trickles in made the recorder's CPU grow
// with its polls, not with the bytes it moves (5-6 % of a CPU under a server
// writing a few MB/s). Instead it sleeps as long as the busiest ring can go on
// filling at its current rate before reaching half its size (halved again for
// rate changes), at most `maxSleepMs`; a ring already half full is read again
// at once. Producers never wait for the recorder, so what this bounds is loss
// (a full ring drops and counts events), not the producers' speed.
import type { Session } from '../session';

/** Longest sleep between reads: bounds how long a sudden burst fills the rings unread. */
export const MAX_READ_SLEEP_MS = 20;

export class ReadPace {
  private current: Float64Array;
  private previous: Float64Array;
  private previousAt = -1;

  constructor(private readonly session: Pick<Session, 'ringOffsets'>, nRings: number,
    private readonly ringSize: number, private readonly maxSleepMs = MAX_READ_SLEEP_MS) {
    this.current = new Float64Array(2 * nRings);
    this.previous = new Float64Array(2 * nRings);
  }

  /** Milliseconds to sleep from `now` before the next read; 0: read again at once. */
  next(now: number): number {
    this.session.ringOffsets(this.current);
    const elapsed = Math.max(now - this.previousAt, 0.1);
    const half = this.ringSize / 2;
    let sleep = this.maxSleepMs;
    const cur = this.current;
    for (let i = 0; i < cur.length; i += 2) {
      const written = cur[i]!;
      const unread = written - cur[i + 1]!;
      if (unread >= half) {
        sleep = 0; // behind: keep reading
        break;
      }
      const perMs = this.previousAt < 0 ? 0 : (written - this.previous[i]!) / elapsed;
      if (perMs > 0) sleep = Math.min(sleep, (half - unread) / perMs / 2);
    }
    [this.previous, this.current] = [this.current, this.previous];
    this.previousAt = now;
    return sleep < 1 ? 0 : Math.floor(sleep);
  }
}
