// `trace-consume top [-s SESSION] [DIR]`: a live view of a running session,
// refreshed every second: events/s per class, span durations (p50/p90/p99/max)
// per span name, per-process and per-CPU rates over a sliding window, losses
// and ring fill. Sources: top-sources.ts; the text: top-screen.ts.
import { TopFeed } from '../src/top/feed';
import { LiveWindow } from '../src/top/window';
import { Screen, onQuit } from './terminal';
import { formatTop } from './top-screen';
import { watchDirectory, watchSession, type Watched } from './top-sources';

export interface TopOptions {
  session?: string;
  /** Seconds the rates and percentiles are over. */
  window: number;
  /** Seconds between refreshes. */
  interval: number;
  /** Stop after this many refreshes (scripts). */
  iterations?: number;
}

/** Returns the exit code: 0 when stopped or when what was watched ended. */
export async function runTop(dir: string | undefined, opts: TopOptions,
  err: (message: string) => void = (m) => process.stderr.write(`trace-consume: ${m}\n`)): Promise<number> {
  if (dir !== undefined && opts.session !== undefined) {
    throw new Error('top watches a session (-s) or a trace directory (DIR), not both');
  }
  const notices: string[] = [];
  const watched: Watched = dir !== undefined ? watchDirectory(dir, (m) => notices.push(m))
    : watchSession(opts.session ?? 'default', (m) => notices.push(m));
  const started = Date.now();
  const window = new LiveWindow(opts.window * 1000, started);
  const feed = new TopFeed(window);
  const screen = new Screen(process.stdout);
  const stop = new AbortController();
  const stopListening = onQuit(() => stop.abort());
  let lastLost = watched.lost();
  let refreshes = 0;
  const render = (): string => {
    const now = Date.now();
    const lost = watched.lost();
    const block = formatTop({
      title: watched.title, view: window.view(now), cpus: watched.cpus(),
      lost: lost === null ? null : { total: lost, recent: lastLost === null ? 0 : lost - lastLost },
      processNames: watched.processNames(),
      notes: [...notices, ...watched.notes(),
        ...(feed.unmatched ? [`${feed.unmatched} span ends whose begin came before top started`] : [])],
      now: new Date(now),
    });
    lastLost = lost;
    return block;
  };
  const timer = setInterval(() => {
    screen.draw(render());
    if (opts.iterations !== undefined && ++refreshes >= opts.iterations) stop.abort();
  }, opts.interval * 1000);
  let ended: string | undefined;
  try {
    ended = await watched.run(feed, stop.signal);
  } finally {
    clearInterval(timer);
    stopListening();
    try {
      const last = render();
      if (screen.tty) screen.restore(last); // the last view stays on the terminal
      else if (ended) screen.draw(last);
    } finally {
      screen.restore();
      watched.close();
    }
  }
  if (ended) err(ended);
  return 0;
}
