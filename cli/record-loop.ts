// The recording loop of `trace-consume record`: drains the session's rings
// into the trace writer at the pace their fill rates allow, writes the open
// sub-buffers' committed data every flush interval (every FOLLOW_FLUSH_MS
// while a reader follows the directory), hands each flush to the live OTLP
// export, and shows the status line.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Session } from '../src/session';
import { ReadPace } from '../src/trace/read-pace';
import type { TraceWriter, WriterTotals } from '../src/trace/writer';
import type { OtlpLive } from '../src/otlp/live';
import { liveStatus } from './otlp-lines';
import { FollowerWatch, FOLLOW_FLUSH_MS } from '../src/trace/followers';
import { WakeableSleep } from './wakeable-sleep';

/**
 * The recording loop: write complete sub-buffers as they fill, and every
 * flush interval the committed prefix of the open ones, so the trace on disk
 * is never more than that behind (a killed recorder loses at most that).
 * Between reads it sleeps as long as the rings' fill rates allow (read-pace.ts).
 */
export async function drainUntilStopped(writer: TraceWriter, session: Session, flushMs: number, quiet: boolean | undefined,
  stopped: () => string, live: OtlpLive | undefined): Promise<void> {
  const info = session.info;
  const pace = new ReadPace(session, info.nRings, info.subSize * info.nSub);
  const nap = new WakeableSleep();
  const arrivals = watchArrivals(session, () => {
    pace.producerArrived(Date.now());
    nap.wake();
  });
  const tty = !quiet && process.stderr.isTTY;
  let prev = writer.totals();
  let lastStatus = Date.now();
  let cpu = process.cpuUsage();
  let nextFlush = flushMs > 0 ? Date.now() + flushMs : Infinity;
  let nextCut = nextFlush;
  const followers = new FollowerWatch(writer.dir);
  try {
    while (!stopped()) {
      const now = Date.now();
      const whole = writer.drain(false);
      if (tty && now - lastStatus >= 1000) {
        const t = writer.totals();
        const seconds = (now - lastStatus) / 1000;
        process.stderr.write(`\r\x1b[K${statusLine(t, prev, seconds, cpuMs(cpu) / 10 / seconds)}` +
          `${live ? liveStatus(live.stats()) : ''}`);
        prev = t;
        lastStatus = now;
        cpu = process.cpuUsage();
      }
      // Someone follows the directory (view --follow, top): write at least every FOLLOW_FLUSH_MS meanwhile.
      const followed = followers.followed(now);
      const interval = followed ? Math.min(flushMs || Infinity, FOLLOW_FLUSH_MS) : flushMs;
      if (followed) nextFlush = Math.min(nextFlush, now + FOLLOW_FLUSH_MS);
      const ms = followed ? Math.min(pace.next(Date.now(), whole), FOLLOW_FLUSH_MS) : pace.next(Date.now(), whole);
      // A flush due before the next read is done now, a little early, rather than on a wake-up
      // of its own (each costs this VM ~0.2 ms of CPU): the trace stays at most `interval` behind.
      if (Date.now() + ms >= nextFlush) {
        writer.drain(true);
        if (followed) followers.publish(writer.streamSizes(), info.nRings); // how far its followers may read
        // Every stream is whole up to now: the live export may read it (at the user's interval, followed or not).
        if (live && Date.now() + ms >= nextCut) {
          live.cut(writer.streamSizes());
          nextCut = Date.now() + flushMs;
        }
        nextFlush = interval > 0 ? Date.now() + interval : Infinity;
      }
      await nap.sleep(ms);
    }
  } finally {
    arrivals?.close();
    followers.removeStale();
  }
  if (tty) process.stderr.write('\r\x1b[K');
}

function statusLine(t: WriterTotals, prev: WriterTotals, seconds: number, cpuPercent: number): string {
  const rate = (t.events - prev.events) / seconds;
  const mb = (t.bytes - prev.bytes) / seconds / 1e6;
  const remote = t.events ? (100 * t.remoteCommits) / t.events : 0;
  return `${t.events} events  ${(rate / 1e6).toFixed(2)} M/s  ${mb.toFixed(1)} MB/s  ` +
    `lost ${t.lost + t.droppedUnknown}  remote commits ${remote.toFixed(2)}%  recorder CPU ${cpuPercent.toFixed(1)}%`;
}


/**
 * Calls `arrived` when an app attaches to the session (it appends to the
 * session's process log): apps often start with a burst, before the pace
 * knows any rate. No watch (inotify limits): undefined, the pace alone.
 */
function watchArrivals(session: Session, arrived: () => void): fs.FSWatcher | undefined {
  const log = session.procsPath();
  if (!log) return undefined;
  try {
    const name = path.basename(log);
    const watcher = fs.watch(path.dirname(log), { persistent: false }, (_event, file) => {
      if (file === name) arrived();
    });
    watcher.on('error', () => watcher.close());
    return watcher;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) this process used since `from`, in ms. */
export function cpuMs(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
}
