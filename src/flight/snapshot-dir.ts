// Writing a snapshot of an overwrite-mode session as a CTF trace directory
// (readable by babeltrace2 and every trace-consume reader), and keeping the
// flight recorder's last N snapshot directories.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodePayload } from '../decode';
import type { NativeSnapshotRing } from '../native';
import type { Session } from '../session';
import type { ClassDescription } from '../schema';
import type { Snapshot } from '../snapshot';
import { prepareOutputDir, TraceWriter, type WriterTotals } from '../trace/writer';

/** What a snapshot directory's side file says about it (key `snapshot` of .ringtrace.json). */
export interface SnapshotFacts {
  /** Why it was taken: the triggers that fired, app requests, a crash, a user's command. */
  reasons: string[];
  takenRealtimeNs: string;
  /** Sub-buffers overwritten while being copied, not yet committed, or damaged: left out with all older. */
  torn: number;
  openSkipped: number;
  damaged: number;
  /** Events overwritten in the rings before this snapshot (since the session began). */
  overwrittenRecords: number;
  overwrittenBytes: number;
}

export interface SnapshotSummary {
  dir: string;
  totals: WriterTotals;
  facts: SnapshotFacts;
  ms: number;
}

/** The apps' snapshot request class (id, description), if registered. */
function requestClass(session: Session): [number, ClassDescription] | undefined {
  for (const entry of session.classes()) {
    if (entry[1].provider === 'ringtrace' && entry[1].name === 'snapshot_request') return entry;
  }
  return undefined;
}

/**
 * The reasons apps gave (snapshot(reason)) in requests recorded after
 * `since` (clock ticks); returns them and the newest request's time.
 */
export function requestReasons(session: Session, snap: Snapshot, since: bigint): { reasons: string[]; newest: bigint } {
  const request = requestClass(session);
  const found: { ts: bigint; reason: string }[] = [];
  for (let ring = 0; request && ring < session.info.nRings; ring++) {
    const [id, cls] = request;
    for (const rec of snap.records(ring)) {
      if (rec.id !== id || rec.timestamp <= since) continue;
      let reason = 'requested by the app';
      try {
        const e = decodePayload(cls, rec.payload);
        reason = `app request from process ${e.pid}: ${String(e.fields['reason'] ?? reason)}`;
      } catch {
        // a request we cannot decode still asked for this snapshot
      }
      found.push({ ts: rec.timestamp, reason });
    }
  }
  found.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  return { reasons: found.map((f) => f.reason), newest: found.length ? found[found.length - 1]!.ts : since };
}

/**
 * Take a snapshot of `session` now and write it to `dir` (created, or an
 * empty directory). `reasons(snap)` may add to the reasons from what the
 * snapshot holds (the apps' requests). Throws if `dir` cannot be used or
 * written (what is written stays readable).
 */
export function writeSnapshot(session: Session, dir: string, reasons: string[],
  more?: (snap: Snapshot) => string[]): SnapshotSummary {
  const started = Date.now();
  const snap = session.snapshot();
  try {
    const all = [...reasons, ...(more ? more(snap) : [])];
    const taken = BigInt(Date.now()) * 1_000_000n;
    const rings = Array.from({ length: session.info.nRings }, (_, r) => snap.ring(r));
    const sum = (f: (r: (typeof rings)[number]) => number) => rings.reduce((n, r) => n + f(r), 0);
    const facts: SnapshotFacts = {
      reasons: all.length ? all : ['unknown'],
      takenRealtimeNs: taken.toString(),
      torn: sum((r) => r.torn), openSkipped: sum((r) => r.openSkipped), damaged: sum((r) => r.damaged),
      overwrittenRecords: sum((r) => r.overwrittenRecords), overwrittenBytes: sum((r) => r.overwrittenBytes),
    };
    prepareOutputDir(dir);
    // The ring counters as the snapshot read them (they move on while it is written).
    const source = { writePacket: snap.writePacket.bind(snap),
      ringStats: (r: number) => ({ ...session.ringStats(r), ...pick(rings[r]!) }) };
    const writer = new TraceWriter(dir, session, () => undefined, source);
    writer.drain(true);
    const totals = writer.finish({ snapshot: facts });
    return { dir, totals, facts, ms: Date.now() - started };
  } finally {
    snap.close();
  }
}

function pick(r: NativeSnapshotRing) {
  return { lost: r.lost, overwrittenRecords: r.overwrittenRecords, overwrittenBytes: r.overwrittenBytes,
    torn: r.torn, openSkipped: r.openSkipped, damaged: r.damaged };
}

const SNAPSHOT_DIR = /^snapshot-(\d+)-/;

/** The flight recorder's snapshot directories under `root`, oldest first. */
export function snapshotDirs(root: string): { name: string; n: number }[] {
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return [];
  }
  return names.map((name) => ({ name, n: Number(SNAPSHOT_DIR.exec(name)?.[1] ?? NaN) }))
    .filter((d) => Number.isInteger(d.n)).sort((a, b) => a.n - b.n);
}

/** Name of snapshot number `n` taken at `when`: snapshot-0007-20261204T221530Z. */
export function snapshotName(n: number, when: Date): string {
  const stamp = when.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `snapshot-${String(n).padStart(4, '0')}-${stamp}`;
}

/** Remove the oldest snapshot directories beyond the newest `keep`; returns the names removed. */
export function keepNewest(root: string, keep: number): string[] {
  const dirs = snapshotDirs(root);
  const gone = dirs.slice(0, Math.max(0, dirs.length - keep)).map((d) => d.name);
  for (const name of gone) fs.rmSync(path.join(root, name), { recursive: true, force: true });
  return gone;
}

/**
 * Make the flight recorder's output directory (0700), or accept an existing
 * one that holds nothing but earlier snapshot directories (numbering goes on
 * after them). Returns the next snapshot number.
 */
export function prepareFlightDir(root: string): number {
  const st = fs.lstatSync(root, { throwIfNoEntry: false });
  if (!st) {
    prepareOutputDir(root);
    return 1;
  }
  if (st.isSymbolicLink()) throw new Error(`output ${root} is a symbolic link; refusing to follow it`);
  if (!st.isDirectory()) throw new Error(`output ${root} exists and is not a directory`);
  const dirs = snapshotDirs(root);
  const other = fs.readdirSync(root).filter((n) => !SNAPSHOT_DIR.test(n));
  if (other.length) {
    throw new Error(`output directory ${root} holds other files than snapshots (${other.slice(0, 3).join(', ')}); ` +
      'give a new or empty directory');
  }
  return dirs.length ? dirs[dirs.length - 1]!.n + 1 : 1;
}
