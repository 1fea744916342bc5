// A sleep that something else can end early: the recorder's loop and a
// follower's loop sleep between reads, and an app attaching, the trace
// directory changing or a signal wakes them. A wake-up while nothing sleeps
// is kept: the next sleep returns at once, so none is missed.

export class WakeableSleep {
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private done: (() => void) | undefined;
  private pending = false;

  /** Until `ms` have passed (0: the next turn of the event loop) or wake(). */
  sleep(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.done = resolve;
      if (ms > 0) this.timer = setTimeout(() => this.wake(), ms);
      else this.immediate = setImmediate(() => this.wake());
    });
  }

  wake(): void {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    const done = this.done;
    this.done = undefined;
    if (done) done();
    else this.pending = true;
  }
}
