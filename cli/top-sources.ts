// What `trace-consume top` watches: a session's rings (beside its recorder or
// flight recorder, or as its consumer when it has none), or a trace directory
// being recorded (followed as `view --follow` does). Each hands records to the
// feed as they come and says what it knows of losses and ring fill.
import * as fs from 'node:fs';
import { loadNative, type LockHandle } from '../src/native';
import { parseProcessLog, readProcessLog } from '../src/export/processes';
import { Session } from '../src/session';
import type { TopFeed } from '../src/top/feed';
import { cpuFacts, SessionSource, type CpuFacts } from '../src/top/session-source';
import { TraceFollower } from '../src/trace/follow';
import { SIDECAR } from '../src/trace/writer';
import { followDirectory } from './follow-loop';
import { endSession, openSession } from './record';

/** How often top reads a session's rings (ms): what it shows is at most this late. */
const POLL_MS = 50;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Watched {
  title: string;
  /** Reads until `signal` or the end of what is watched; returns why it ended by itself, if it did. */
  run(feed: TopFeed, signal: AbortSignal): Promise<string | undefined>;
  cpus(): CpuFacts[] | null;
  lost(): number | null;
  processNames(): Map<number, string>;
  notes(): string[];
  close(): void;
}

function sessionLost(facts: CpuFacts[] | null): number | null {
  return facts ? facts.reduce((n, c) => n + c.lost, 0) : null;
}

function sessionNames(session: Session): Map<number, string> {
  const p = session.procsPath();
  try {
    return p ? parseProcessLog(fs.readFileSync(p, 'utf8')).processes : new Map();
  } catch {
    return new Map(); // no app attached yet
  }
}

/** A session by name: read beside its consumer, or consumed by top when it has none (created if need be). */
export function watchSession(name: string, notice: (m: string) => void): Watched {
  const native = loadNative();
  const holder = native.consumerLockHolder(name);
  let source: SessionSource;
  let lock: LockHandle | undefined;
  let title: string;
  if (holder !== 0) {
    let session: Session;
    try {
      session = Session.open(name);
    } catch (e) {
      throw new Error(`session '${name}' is locked by ${holder > 0 ? `process ${holder}` : 'another process'} ` +
        `but cannot be opened: ${(e as Error).message}`);
    }
    source = SessionSource.peek(session);
    const who = session.info.mode === 'overwrite' ? 'flight recorder' : 'recorder';
    title = `session '${name}' (read beside its ${who}, pid ${holder > 0 ? holder : '?'})`;
  } else {
    let existing: Session | undefined;
    try {
      existing = Session.open(name);
    } catch (e) {
      if (!/no session/.test((e as Error).message)) throw e;
    }
    if (existing?.info.mode === 'overwrite') { // a flight recorder's rings need no consumer
      source = SessionSource.peek(existing);
      title = `session '${name}' (flight recorder rings, no recorder running)`;
    } else {
      existing?.close();
      const opened = openSession(name, {});
      lock = opened.lock;
      source = SessionSource.consume(opened.session);
      title = `session '${name}' (no recorder: top is its consumer; apps attach with RINGTRACE_SESSION=${name})`;
      notice(`no recorder is running for session '${name}': top consumes it (what it reads is not kept)`);
    }
  }
  const session = source.session;
  return {
    title,
    async run(feed, signal) {
      let checkAt = Date.now() + 1000;
      while (!signal.aborted) {
        feed.now = Date.now();
        source.poll(feed);
        if (holder !== 0 && Date.now() >= checkAt) { // read beside a recorder: until it ends
          checkAt = Date.now() + 1000;
          if (native.consumerLockHolder(name) === 0) {
            feed.now = Date.now();
            source.poll(feed); // what the recorder left
            return `the ${session.info.mode === 'overwrite' ? 'flight recorder' : 'recording'} of session '${name}' ended`;
          }
        }
        await sleep(POLL_MS);
      }
      return undefined;
    },
    cpus: () => source.cpuFacts(),
    lost: () => sessionLost(source.cpuFacts()),
    processNames: () => sessionNames(session),
    notes: () => {
      const n: string[] = [];
      const skipped = source.skipped();
      if (skipped) n.push(`${(skipped / 1e6).toFixed(1)} MB overwritten before top read them (not counted here)`);
      if (source.unknown) n.push(`${source.unknown} records of classes the session does not describe`);
      return n;
    },
    close: () => {
      if (lock) endSession(session, lock, () => undefined);
      else session.close();
    },
  };
}

/** A trace directory being recorded: followed as view --follow does; losses and fill from its session while it lasts. */
export function watchDirectory(dir: string, notice: (m: string) => void): Watched {
  const follower = new TraceFollower(dir);
  if (fs.existsSync(`${dir}/${SIDECAR}`)) {
    throw new Error(`${dir}: the recording has ended (trace-consume stats ${dir} summarizes it)`);
  }
  const name = follower.sessionName();
  let session: Session | undefined;
  try { // the recording's own session (same uuid), for its ring fill and losses
    const s = name === undefined ? undefined : Session.open(name);
    if (s && s.info.uuid === follower.uuid()) session = s;
    else s?.close();
  } catch {
    session = undefined;
  }
  const discarded = new Map<string, number>(); // stream -> its latest packet's cumulative events_discarded
  const errors: string[] = [];
  // What was recorded before top started is not counted (top shows from now on, as beside a session):
  // records earlier than this, in the cursors' ns since the trace's start, found at the first record.
  const startedMs = Date.now();
  let from: number | undefined;
  return {
    title: `trace directory ${dir} (followed while recorded${name ? `, session '${name}'` : ''})`,
    async run(feed, signal) {
      feed.now = Date.now();
      const end = await followDirectory(follower, {
        visit: (c) => {
          from ??= Number(BigInt(startedMs) * 1_000_000n - c.epochNs()) + c.sinceStartNs();
          if (c.sinceStartNs() < from) return;
          feed.record(c.cls, c.cpu, c.sinceStartNs(), c.recordData(), c.payloadStart(), c.payloadEnd());
          if (c.packet) discarded.set(c.stream, c.packet.eventsDiscarded);
        },
        onError: (e) => { if (errors.length < 5) errors.push(e.message); },
        afterPass: () => { feed.now = Date.now(); },
        notice,
        signal,
      });
      if (end === 'complete') return `the recording into ${dir} ended`;
      if (end === 'recorder-gone') return `the recorder of ${dir} stopped without finishing the trace`;
      return undefined;
    },
    cpus: () => (session ? cpuFacts(session) : null),
    lost: () => (session ? sessionLost(cpuFacts(session)) : [...discarded.values()].reduce((a, b) => a + b, 0)),
    processNames: () => readProcessLog(dir).processes,
    notes: () => [...errors],
    close: () => session?.close(),
  };
}
