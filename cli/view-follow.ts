// `trace-consume view DIR --follow`: print a trace's events as they are
// recorded, until the recording ends or Ctrl-C. Each pass prints, in time
// order, the whole packets written since the previous one (src/trace/follow.ts);
// the recorder, seeing a follower, writes every ~40 ms (src/trace/followers.ts).
import { TraceFollower } from '../src/trace/follow';
import { namesOf } from './event-names';
import { followDirectory } from './follow-loop';
import { eventPrinter, wantedEvents, type ViewOptions } from './view';

/**
 * Returns the exit code: 0 when the recording ended (or Ctrl-C), 1 if a
 * stream was damaged or the recorder died without finishing the trace.
 * `flush` is called after each pass: what was printed goes out at once.
 */
export async function runViewFollow(dir: string, opts: ViewOptions, out: (line: string) => void, flush: () => void,
  err: (message: string) => void = (m) => process.stderr.write(`trace-consume: ${m}\n`)): Promise<number> {
  const follower = new TraceFollower(dir);
  const names = wantedEvents(opts);
  const warned = new Set<string>();
  let damaged = false;
  const end = await followDirectory(follower, {
    visit: eventPrinter(opts, out),
    onError: (e) => { damaged = true; err(e.message); },
    afterPass: (r) => {
      flush();
      // Classes appear as apps define them: an --event name the trace does not have yet is waited for, once said.
      if (!names || r.complete) return;
      const known = new Set([...follower.classes().values()].flatMap(namesOf));
      for (const n of names) {
        if (warned.has(n) || known.has(n)) continue;
        warned.add(n);
        err(`no event class '${n}' in the trace yet: waiting for one`);
      }
    },
    notice: err,
  });
  if (end === 'recorder-gone') {
    err(`the recording of ${dir} stopped without finishing the trace (its recorder was killed?): ` +
      'printed everything it wrote');
    return 1;
  }
  return damaged ? 1 : 0;
}
