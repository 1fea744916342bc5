// The event-loop heartbeat of a process attached to an overwrite-mode
// (flight recorder) session: every HEARTBEAT_MS a timer stores
// CLOCK_MONOTONIC into the main thread's slot of the session's writer table
// (native/ring/writers.h), so a recorder in another process sees a stalled
// loop by the age of its last beat (Session.heartbeats()). The timer runs on
// the loop it watches: while the loop is blocked, no beat. It is unref'd
// (never keeps a process alive) and stops when the thread detaches.
import { isMainThread } from 'node:worker_threads';
import type { NativeAddon, SessionHandle } from './native';

/** How often the main thread's event loop beats while attached to an overwrite-mode session. */
export const HEARTBEAT_MS = 100;

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private onExit: (() => void) | undefined;

  /** Beat now and every HEARTBEAT_MS, if this is the main thread and the session is in overwrite mode. */
  start(native: NativeAddon, handle: SessionHandle): void {
    if (this.timer || !isMainThread || native.info(handle).mode !== 'overwrite') return;
    native.heartbeat();
    this.timer = setInterval(() => native.heartbeat(), HEARTBEAT_MS); // the native call never throws
    this.timer.unref();
    // Exiting, the process clears its beat: a dead process whose beat is still there ended on a
    // signal or crashed, which the recorder tells apart this way.
    this.onExit = () => native.heartbeatClear();
    process.once('exit', this.onExit);
  }

  /** Stop beating and clear the beat (while the session is still mapped). */
  stop(native: NativeAddon): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.onExit) process.off('exit', this.onExit);
    this.onExit = undefined;
    native.heartbeatClear();
  }
}
