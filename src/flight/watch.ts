// What the flight recorder watches between snapshots, and when a snapshot is
// due: apps' snapshot requests (a counter in the session header), event
// loops that stopped turning and processes that died on a signal (each traced
// process's heartbeat in the session), and event triggers evaluated on the data as it arrives (read without
// consuming it). Occurrences are gathered into one snapshot, taken `delayMs`
// after the first (so it also holds what followed) and no sooner than
// `holdoffMs` after the previous one, so a burst gives one snapshot, not many.
import type { Session } from '../session';
import { TriggerWatch, type TriggerSpec } from './triggers';

export interface FlightWatchOptions {
  triggers: TriggerSpec[];
  /** A process's event loop not turning for this long is a trigger; 0: not watched. */
  stallMs: number;
  delayMs: number;
  holdoffMs: number;
}

/** A snapshot that is due: why, and whether apps asked (their reasons are in the data). */
export interface Due {
  reasons: string[];
  requests: number;
}

/** Rings read per poll at most this many chunks each, so one busy ring cannot hold up the rest. */
const CHUNKS_PER_POLL = 64;

export class FlightWatch {
  private readonly pending: string[] = [];
  private pendingRequests = 0;
  private firstAt = 0;
  private lastSnapshotAt = -Infinity;
  private requests: number;
  private readonly stalled = new Set<number>();
  /** Processes seen dead with their beat still there (ended on a signal, or crashed): reported once. */
  private readonly died = new Set<number>();
  private readonly triggers: TriggerWatch | null;
  private readonly peeker: ReturnType<Session['peeker']> | null;
  private readonly fired = new Map<string, number>();

  constructor(private readonly session: Session, private readonly opts: FlightWatchOptions,
    notice: (message: string) => void) {
    this.requests = session.snapshotRequests();
    const info = session.info;
    const nsPerTick = info.clock === 'cycles' ? 1e9 / info.clockFreqHz : 1;
    this.triggers = opts.triggers.length
      ? new TriggerWatch(opts.triggers, () => session.classes(), (t) => Number(t) * nsPerTick, notice)
      : null;
    this.peeker = this.triggers ? session.peeker() : null;
    // Deaths from before this recorder (a session taken over) are not news.
    for (const h of session.heartbeats(true)) if (h.dead) this.died.add(h.pid);
  }

  /** Look at the session now; returns the reasons for a snapshot when one is due, else null. */
  poll(now: number): Due | null {
    const requests = this.session.snapshotRequests();
    if (requests !== this.requests) {
      this.note(now, null);
      this.pendingRequests += requests - this.requests;
      this.requests = requests;
    }
    this.watchLoops(now);
    if (this.triggers) this.watchEvents(now);
    if (!this.firstAt || now < this.firstAt + this.opts.delayMs || now < this.lastSnapshotAt + this.opts.holdoffMs) {
      return null;
    }
    const due = { reasons: this.pending.splice(0), requests: this.pendingRequests };
    this.pendingRequests = 0;
    this.firstAt = 0;
    this.lastSnapshotAt = now;
    return due;
  }

  private note(now: number, reason: string | null): void {
    if (!this.firstAt) this.firstAt = now;
    if (reason !== null && !this.pending.includes(reason)) this.pending.push(reason);
  }

  /**
   * A main thread whose heartbeat is older than stallMs: once per stall (it
   * must turn again to re-arm). A process dead with its beat still there:
   * it ended without exiting (a process that exits clears its beat).
   */
  private watchLoops(now: number): void {
    for (const h of this.session.heartbeats(true)) {
      if (h.dead) {
        if (this.died.has(h.pid)) continue;
        this.died.add(h.pid);
        this.note(now, `process ${h.pid} ended without exiting (killed by a signal, or crashed)`);
      } else if (this.opts.stallMs <= 0) {
        continue;
      } else if (h.ageMs >= this.opts.stallMs) {
        if (this.stalled.has(h.tid)) continue;
        this.stalled.add(h.tid);
        this.note(now, `event loop of process ${h.pid} stalled (no turn for ${Math.round(h.ageMs)} ms)`);
      } else {
        this.stalled.delete(h.tid);
      }
    }
  }

  private watchEvents(now: number): void {
    for (let ring = 0; ring < this.session.info.nRings; ring++) {
      for (let i = 0; i < CHUNKS_PER_POLL; i++) {
        const recs = this.peeker!.next(ring);
        if (!recs) break;
        for (const rec of recs) {
          const f = this.triggers!.feed(rec);
          if (!f) continue;
          this.fired.set(f.trigger, (this.fired.get(f.trigger) ?? 0) + 1);
          this.note(now, `trigger '${f.trigger}' on ${f.event} from process ${f.pid} (thread ${f.tid})`);
        }
      }
    }
  }

  /** For the final message: triggers fired, data the trigger watch could not read in time. */
  summary(): string {
    const parts = [...this.fired].map(([t, n]) => `trigger '${t}' fired ${n}x`);
    let skipped = 0;
    for (let ring = 0; this.peeker && ring < this.session.info.nRings; ring++) skipped += this.peeker.skipped(ring);
    if (skipped) parts.push(`${(skipped / 1e6).toFixed(1)} MB overwritten before the trigger watch read it`);
    if (this.triggers?.unpaired) parts.push(`${this.triggers.unpaired} span ends without a start seen`);
    return parts.length ? `; ${parts.join(', ')}` : '';
  }
}
