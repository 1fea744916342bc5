// Watching for writers that died between reserve and commit. Such a record is
// never committed, so its sub-buffer never completes and the ring stops
// delivering. When a ring stays blocked on the same commit count for a while
// and a process of the session is dead (and none is stopped: a stopped one may
// be the holder, and would commit later), the consumer turns the dead record
// into padding counted as one lost event (native/ring/consumer.h,
// rt_consumer_salvage). Stopped writers are waited for, however long.
import * as fs from 'node:fs';
import type { Consumer } from '../session';

export const STUCK_MS = 1000;

interface Writers {
  dead: number[];
  stopped: number[];
  alive: number;
}

/** The session's writer processes (from its process log: "pid tid label" lines) and their states. */
export function writerStates(procsPath: string | null): Writers {
  const out: Writers = { dead: [], stopped: [], alive: 0 };
  let text = '';
  try {
    if (procsPath) text = fs.readFileSync(procsPath, 'utf8');
  } catch {
    return out; // no writer attached yet
  }
  const pids = new Set(text.split('\n').map((l) => Number(l.split(' ')[0])).filter((p) => Number.isInteger(p) && p > 0));
  for (const pid of pids) {
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') out.dead.push(pid);
      continue;
    }
    out.alive++;
    try {
      // state is the field after the parenthesized command name: T stopped, t traced
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state === 'T' || state === 't') out.stopped.push(pid);
    } catch {
      // exited meanwhile: dead on the next look
    }
  }
  return out;
}

export class DeadWriterWatch {
  /** Records of dead writers counted lost so far. */
  salvaged = 0;
  private readonly blockedSince = new Map<number, { key: string; since: number }>();
  private readonly refused = new Set<string>();

  constructor(private readonly consumer: Consumer, private readonly rings: number,
    private readonly procsPath: () => string | null, private readonly log: (message: string) => void) {}

  /**
   * Salvage rings blocked by dead writers. `final`: the recording is ending;
   * a ring blocked now is salvaged at once if every writer is dead.
   */
  check(now: number, final = false): void {
    let writers: Writers | undefined;
    for (let ring = 0; ring < this.rings; ring++) {
      const b = this.consumer.blocked(ring);
      if (!b) {
        this.blockedSince.delete(ring);
        continue;
      }
      const key = `${ring}:${b.subOffset}:${b.committed}`;
      const seen = this.blockedSince.get(ring);
      if (!seen || seen.key !== key) this.blockedSince.set(ring, { key, since: now });
      writers ??= writerStates(this.procsPath());
      const stuck = seen?.key === key && now - seen.since >= STUCK_MS;
      const allDead = writers.alive === 0 && writers.dead.length > 0;
      if (!writers.dead.length || writers.stopped.length || !(stuck || (final && allDead)) || this.refused.has(key)) {
        continue;
      }
      try {
        const r = this.consumer.salvage(ring);
        if (!r) continue;
        if (r.holeBytes) this.salvaged++;
        this.log(`ring ${ring}: a writer died between reserve and commit (dead: pid ${writers.dead.join(', ')}); ` +
          (r.holeBytes ? 'its record is counted as lost' : 'its record was complete and is kept') +
          ', the ring delivers again');
      } catch (e) {
        this.refused.add(key);
        this.log(`ring ${ring} stays blocked: ${(e as Error).message}`);
      }
    }
  }
}
