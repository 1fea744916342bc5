// Readers following a trace directory while it is recorded (`view --follow`,
// `top DIR`) ask its recorder to write more often: each leaves a file
// `.follow-<pid>` in the directory while it follows. The recorder looks for
// live ones a few times a second and, while there is one, writes the
// committed data every FOLLOW_FLUSH_MS instead of every flush interval, so
// the followers see events within ~50 ms. After each such write it says how
// far every stream file was written (`.flushed`, one write in place with a
// checksum): a follower reads up to there, a cut where every stream is whole up to the
// same moment; reading whatever the files hold would catch a flush half done
// (one CPU's file written, the next not yet) and print a migrated thread's
// later event before its earlier one. Nothing else changes: the same events
// are written, in more, smaller packets. Hidden files are not part of the
// trace for ringtrace's readers nor babeltrace2.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** While followed, the recorder writes what is committed at least this often (ms). */
export const FOLLOW_FLUSH_MS = 40;
/** How often the recorder looks for followers (ms): a new follower waits at most this for fast flushes. */
const LOOK_EVERY_MS = 250;
const PREFIX = '.follow-';
/** Where the recorder says how far each stream file was written at its last flush while followed. */
export const FLUSHED_FILE = '.flushed';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // someone else's: alive
  }
}

/** The pids named by `.follow-<pid>` files in `dir` whose process is alive. */
function liveFollowers(dir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(PREFIX)).map((n) => Number(n.slice(PREFIX.length)))
    .filter((pid) => Number.isSafeInteger(pid) && pid > 0 && alive(pid));
}

/** The recorder's side: is anyone following the directory now? Looks at most every LOOK_EVERY_MS. */
export class FollowerWatch {
  private lookedAt = -Infinity;
  private count = 0;

  constructor(private readonly dir: string) {}

  followed(now: number): boolean {
    if (now - this.lookedAt >= LOOK_EVERY_MS) {
      this.lookedAt = now;
      this.count = liveFollowers(this.dir).length;
    }
    return this.count > 0;
  }

  private cutFd: number | undefined;

  /**
   * After a flush while followed: every stream is whole up to these sizes.
   * One write in place at offset 0 of a file kept open, padded to a fixed
   * size, with a checksum a reader verifies (a read that overlapped the write
   * is torn: it is dropped). A new file and a rename per flush cost ~0.1-0.3
   * ms of CPU on ext4, several times the flush; not synced to disk: followers
   * read the page cache, and a crash loses nothing of the trace.
   */
  publish(sizes: Record<string, number>, nRings: number): void {
    try {
      this.cutFd ??= fs.openSync(path.join(this.dir, FLUSHED_FILE), fs.constants.O_WRONLY | fs.constants.O_CREAT |
        fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW, 0o600);
      const json = JSON.stringify(sizes);
      // Fixed size: every write covers the previous one (48 bytes per stream holds the longest name and size).
      const text = `${checksum(json)} ${json}`.padEnd(16 + 48 * nRings) + '\n';
      fs.writeSync(this.cutFd, text, 0);
    } catch {
      // a full disk: followers fall back to reading whole packets as they come
    }
  }

  /** At the end of a recording (the trace is complete): the cut, and follow files of followers that died. */
  removeStale(): void {
    if (this.cutFd !== undefined) fs.closeSync(this.cutFd);
    this.cutFd = undefined;
    fs.rmSync(path.join(this.dir, FLUSHED_FILE), { force: true });
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return;
    }
    for (const n of names) {
      if (!n.startsWith(PREFIX)) continue;
      const pid = Number(n.slice(PREFIX.length));
      if (!Number.isSafeInteger(pid) || pid <= 0 || !alive(pid)) fs.rmSync(path.join(this.dir, n), { force: true });
    }
  }
}

/**
 * The follower's side: announce this process in `dir`. Returns a function
 * that withdraws it, or an error message when the directory does not let us
 * (read-only, someone else's): the recorder then writes at its own interval.
 */
export function announceFollower(dir: string): { withdraw: () => void } | { error: string } {
  const file = path.join(dir, `${PREFIX}${process.pid}`);
  try {
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC |
      fs.constants.O_NOFOLLOW, 0o600);
    fs.closeSync(fd);
  } catch (e) {
    return { error: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  }
  let done = false;
  return {
    withdraw: () => {
      if (done) return;
      done = true;
      fs.rmSync(file, { force: true });
    },
  };
}

/** FNV-1a (32 bits) of a string's UTF-16 units, as 8 hex digits: enough to tell a torn read. */
function checksum(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * The recorder's last cut (`.flushed`): stream file -> bytes whole;
 * undefined if there is none, 'torn' if the read overlapped a write or the
 * content is not a cut (every value is checked).
 */
export function readFlushed(dir: string): Map<string, number> | 'torn' | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, FLUSHED_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const m = /^([0-9a-f]{8}) (\{[^\n]*\}) *\n$/.exec(text);
  if (!m || checksum(m[2]!) !== m[1]) return 'torn';
  let parsed: unknown;
  try {
    parsed = JSON.parse(m[2]!);
  } catch {
    return 'torn';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'torn';
  const cut = new Map<string, number>();
  for (const [stream, size] of Object.entries(parsed)) {
    if (!/^stream_cpu\d+(_atomic)?$/.test(stream) || !Number.isSafeInteger(size) || (size as number) < 0) return 'torn';
    cut.set(stream, size as number);
  }
  return cut;
}
