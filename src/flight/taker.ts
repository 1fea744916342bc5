// The flight recorder's snapshots into its output directory: numbered
// directories, the newest N kept, the apps' request reasons read from the
// data, and a last snapshot that amends the previous one when they are
// closer than the hold-off (the same incident: an uncaught exception, then
// the exit it causes, gives one snapshot, with the latest data and both
// reasons).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Session } from '../session';
import { keepNewest, prepareFlightDir, requestReasons, snapshotName, type SnapshotSummary,
  writeSnapshot } from './snapshot-dir';
import type { Due } from './watch';

export class SnapshotTaker {
  private next: number;
  /** Clock ticks of the newest app request already in a snapshot. */
  private requestsSince = 0n;
  private last: { dir: string; at: number; reasons: string[] } | undefined;
  taken = 0;

  /** Checks or makes `root` first (prepareFlightDir): a bad output fails before any session exists. */
  constructor(private readonly root: string, private readonly keep: number) {
    this.next = prepareFlightDir(root);
  }

  get lastReasons(): string[] {
    return this.last?.reasons ?? [];
  }

  /** Write a snapshot for `due`; with `amendWithin`, replace the previous one if it is younger than that (ms). */
  take(session: Session, due: Due, amendWithin = 0): SnapshotSummary {
    const amend = this.last && Date.now() - this.last.at < amendWithin ? this.last : undefined;
    const dir = amend ? path.join(this.root, `.amending-${path.basename(amend.dir)}`)
      : path.join(this.root, snapshotName(this.next++, new Date()));
    const reasons = [...(amend?.reasons ?? []), ...due.reasons];
    const s = writeSnapshot(session, dir, reasons, (snap) => this.requestReasons(session, snap, due.requests));
    if (amend) { // the fresher copy takes the older one's place
      fs.rmSync(amend.dir, { recursive: true, force: true });
      fs.renameSync(dir, amend.dir);
      s.dir = amend.dir;
    } else {
      this.taken++;
    }
    this.last = { dir: s.dir, at: Date.now(), reasons: s.facts.reasons };
    keepNewest(this.root, this.keep);
    return s;
  }

  /** The reasons of the apps' requests the snapshot holds that no earlier one listed. */
  private requestReasons(session: Session, snap: Parameters<typeof requestReasons>[1], requests: number): string[] {
    if (!requests) return [];
    const r = requestReasons(session, snap, this.requestsSince);
    this.requestsSince = r.newest;
    // A request whose record was overwritten before the snapshot still says why it was taken.
    const unseen = requests - r.reasons.length;
    return unseen > 0 ? [...r.reasons, `${unseen} app request${unseen === 1 ? '' : 's'}`] : r.reasons;
  }
}
