// Watching for writers that died between reserve and commit. Such a record is
// never committed, so its sub-buffer never completes and the ring stops
// delivering. When a ring stays blocked on the same commit count for a while,
// the consumer asks the core to salvage it (native/ring/consumer.h,
// rt_consumer_salvage): the core knows which threads hold reservations there
// (each claims its open reservation in the session's writer table) and
// completes the sub-buffer only if all of them are dead, turning an unsealed
// record into padding counted as one lost event. A sub-buffer it cannot
// repair that way (its opener died before writing the packet header, several
// dead records, damage) is abandoned instead: skipped, its records counted
// lost, reported with the ring and offset. A live holder (running, stopped,
// descheduled, however long) is waited for.
import type { Consumer } from '../session';

/** How long a ring stays blocked before the core is asked: holds are usually
 * a writer between reserve and commit for a few nanoseconds, and the core's
 * answer reads the writer table and /proc. */
export const STUCK_MS = 1000;

export interface AbandonedSubBuffer {
  ring: number;
  subOffset: number;
  /** Records not delivered, counted lost (a lower bound unless `exact`). */
  records: number;
  exact: boolean;
  reason: string;
}

export class DeadWriterWatch {
  /** Records of dead writers counted lost so far. */
  salvaged = 0;
  /** Sub-buffers skipped, their records counted lost. */
  readonly abandoned: AbandonedSubBuffer[] = [];
  private readonly blockedSince = new Map<number, { key: string; since: number }>();
  private readonly refused = new Set<string>();
  private readonly waiting = new Set<string>();

  constructor(private readonly consumer: Consumer, private readonly rings: number,
    private readonly log: (message: string) => void) {}

  /**
   * Salvage rings blocked by dead writers. `final`: the recording is ending;
   * a blocked ring is looked at now, without waiting STUCK_MS, and a
   * sub-buffer still open that can only be abandoned is counted now.
   */
  check(now: number, final = false): void {
    for (let ring = 0; ring < this.rings; ring++) {
      const b = this.consumer.blocked(ring);
      if (!b) {
        this.blockedSince.delete(ring);
        continue;
      }
      const key = `${ring}:${b.subOffset}:${b.committed}`;
      const seen = this.blockedSince.get(ring);
      if (!seen || seen.key !== key) this.blockedSince.set(ring, { key, since: now });
      const stuck = seen?.key === key && now - seen.since >= STUCK_MS;
      if (!(stuck || final) || (this.refused.has(key) && !final)) continue;
      try {
        const r = this.consumer.salvage(ring, final);
        if (!r) continue; // changed meanwhile: next look
        if (r.kind === 'wait') {
          if (!this.waiting.has(key)) this.log(r.reason); // once per blocked state
          this.waiting.add(key);
          continue;
        }
        if (r.kind === 'abandoned') {
          this.abandoned.push({ ring, subOffset: r.subOffset, records: r.recordsLost, exact: r.exact, reason: r.reason });
          this.log(`${r.reason}; pid ${r.pid} thread ${r.tid} died holding it` +
            (r.released ? ', the ring delivers again' : ''));
          continue;
        }
        if (r.kind !== 'salvaged') throw new Error(`unknown salvage outcome ${JSON.stringify(r)}`);
        if (r.holeBytes) this.salvaged++;
        this.log(`ring ${ring}: pid ${r.pid} thread ${r.tid} died between reserve and commit` +
          `${r.deadWriters > 1 ? ` (with ${r.deadWriters - 1} other dead writers)` : ''}; ` +
          (r.holeBytes ? 'its record is counted as lost' : 'its record was complete and is kept') +
          ', the ring delivers again');
      } catch (e) {
        if (!this.refused.has(key)) this.log(`ring ${ring} stays blocked: ${(e as Error).message}`);
        this.refused.add(key);
      }
    }
  }
}
