// Following a trace directory until its recording ends (`view --follow`,
// `top DIR`): a pass of the TraceFollower each time the directory changes
// (inotify, with a timer in case a change is missed), the recorder asked to
// write often meanwhile (src/trace/followers.ts), and an end when the trace
// is complete, the caller stops, or the recorder died without finishing it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadNative } from '../src/native';
import type { StreamCursor } from '../src/trace/cursor';
import { TraceFollower, type PassResult } from '../src/trace/follow';
import { announceFollower } from '../src/trace/followers';
import { SIDECAR } from '../src/trace/writer';
import { WakeableSleep } from './wakeable-sleep';

/** Passes at least this often even if no change was noticed (ms); more often without inotify. */
const WATCHED_POLL_MS = 100;
const UNWATCHED_POLL_MS = 20;
/** How long a recorder may take to notice a follower and answer with a cut (ms): it looks every 250 ms. */
const CUT_WAIT_MS = 2000;
/** How often to check that the recorder is still there (ms). */
const RECORDER_CHECK_MS = 1000;

export type FollowEnd = 'complete' | 'stopped' | 'interrupted' | 'recorder-gone';

export interface FollowHooks {
  visit: (c: StreamCursor) => boolean | void;
  onError: (e: Error) => void;
  /** After each pass (output flushed there). */
  afterPass?: (r: PassResult) => void;
  /** A message for the user (not an error). */
  notice: (message: string) => void;
  /** Ends the following ('interrupted') after the pass under way, as SIGINT does. */
  signal?: AbortSignal;
}

/** Sleeps until the directory changes, the timer runs out, or wake(). */
class DirWaker {
  private watcher: fs.FSWatcher | undefined;
  private readonly nap = new WakeableSleep();
  readonly pollMs: number;

  constructor(dir: string) {
    try {
      this.watcher = fs.watch(dir, { persistent: false }, () => this.wake());
      this.watcher.on('error', () => { this.watcher?.close(); this.watcher = undefined; });
    } catch {
      this.watcher = undefined; // no inotify (limits): the timer alone
    }
    this.pollMs = this.watcher ? WATCHED_POLL_MS : UNWATCHED_POLL_MS;
  }

  sleep(): Promise<void> {
    return this.nap.sleep(this.pollMs);
  }

  wake(): void {
    this.nap.wake();
  }

  close(): void {
    this.watcher?.close();
    this.wake();
  }
}

/** Whether the process recording `session` is gone (no consumer holds it); false when that cannot be known. */
function recorderGone(session: string | undefined): boolean {
  if (session === undefined) return false;
  try {
    return loadNative().consumerLockHolder(session) === 0;
  } catch {
    return false;
  }
}

/**
 * Follow `dir` until its recording ends: returns why it stopped. SIGINT and
 * SIGTERM end it ('interrupted') after the pass under way.
 */
export async function followDirectory(follower: TraceFollower, hooks: FollowHooks): Promise<FollowEnd> {
  let interrupted = false;
  const waker = new DirWaker(follower.dir);
  const onSignal = () => { interrupted = true; waker.wake(); };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  hooks.signal?.addEventListener('abort', onSignal);
  if (hooks.signal?.aborted) interrupted = true;
  let announced: ReturnType<typeof announceFollower> | undefined;
  try {
    let cutDeadline = Infinity;
    if (!fs.existsSync(path.join(follower.dir, SIDECAR))) { // still recording
      announced = announceFollower(follower.dir);
      if ('error' in announced) {
        hooks.notice(`cannot ask the recorder to write more often (${announced.error} in ${follower.dir}): ` +
          'events appear when it writes, every flush interval');
      } else {
        // Nothing is read until the recorder answers with its first cut: a pass might catch a flush half done.
        follower.waitForCut = true;
        cutDeadline = Date.now() + CUT_WAIT_MS;
      }
    }
    let nextCheck = Date.now() + RECORDER_CHECK_MS;
    for (;;) {
      // Checked before the pass: a recorder that finished wrote its side file before letting go of the session.
      let gone = false;
      if (Date.now() >= nextCheck) {
        nextCheck = Date.now() + RECORDER_CHECK_MS;
        gone = recorderGone(follower.sessionName());
        if (gone) follower.waitForCut = false; // no more flushes: whatever whole packets it left
      }
      const r = follower.pass(hooks.visit, hooks.onError);
      hooks.afterPass?.(r);
      if (r.stopped) return 'stopped';
      if (r.complete) return 'complete';
      if (gone) return 'recorder-gone';
      if (interrupted) return 'interrupted';
      if (follower.waitForCut && Date.now() >= cutDeadline) {
        follower.waitForCut = false; // a recorder that does not answer followers: whole packets as they come
      }
      await waker.sleep();
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    hooks.signal?.removeEventListener('abort', onSignal);
    waker.close();
    if (announced && 'withdraw' in announced) announced.withdraw();
  }
}
