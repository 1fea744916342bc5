// `trace-consume flight`: the flight recorder. Holds a session in overwrite
// mode (each CPU's ring keeps its latest events, in memory), writes nothing
// until something asks, then writes a snapshot directory: on an app's
// snapshot(reason), an event trigger, an event loop that stopped turning,
// the traced command crashing, or `trace-consume snapshot`.
import type { Session } from '../src/session';
import type { Selection } from '../src/selection/rules';
import { publishSelection } from '../src/selection/publish';
import { type Due, FlightWatch, type FlightWatchOptions } from '../src/flight/watch';
import { SnapshotTaker } from '../src/flight/taker';
import * as path from 'node:path';
import { DeadWriterWatch } from '../src/trace/dead-writers';
import { UsageError } from './usage-error';
import { autoEnv, endSession, openSession, startCommand, type Traced } from './record';

export interface FlightOptions extends FlightWatchOptions {
  output: string;
  session?: string;
  /** Bytes of each CPU's ring (power of two). */
  bufferSize: number;
  subbuffers: number;
  maxSnapshots: number;
  duration?: number;
  quiet?: boolean;
  clean?: boolean;
  selection?: Selection;
  /** Auto mode for the command: true (all parts) or a parts list (cli/auto-env.ts). */
  auto?: string | true;
  command: string[];
}

export const FLIGHT_DEFAULTS = { bufferSize: 16 * 1024 * 1024, subbuffers: 16, maxSnapshots: 10, stallMs: 1000,
  delayMs: 0, holdoffMs: 1000 };

/**
 * How often the recorder looks at the session (requests, heartbeats, new data
 * for triggers): a snapshot follows an occurrence within this (plus --delay).
 * Each look costs ~0.1 ms of CPU: 100 ms keeps an idle recorder near 0.5 %.
 */
const TICK_MS = 100;
/** Dead writers block a ring for a second before they are salvaged: no need to look every tick. */
const DEAD_WRITERS_MS = 250;

const log = (msg: string) => process.stderr.write(`trace-consume: ${msg}\n`);
const mib = (bytes: number) => (bytes < 1048576 ? `${Math.round(bytes / 1024)} KiB`
  : `${(bytes / 1048576).toFixed(bytes % 1048576 ? 1 : 0)} MiB`);

/** The sub-buffer size for a ring of `bufferSize` bytes in `subbuffers` parts; throws if it is not one. */
export function subBufferSize(bufferSize: number, subbuffers: number): number {
  const sub = bufferSize / subbuffers;
  const page = 4096;
  if (!Number.isInteger(sub) || sub < page || (sub & (sub - 1)) !== 0) {
    throw new UsageError(`--buffer-size ${bufferSize} in ${subbuffers} sub-buffers gives ${sub} bytes each: ` +
      `each must be a power of two of at least ${page} bytes (e.g. --buffer-size 16M --subbuffers 16)`);
  }
  return sub;
}

export async function runFlight(opts: FlightOptions): Promise<number> {
  if (opts.duration !== undefined && opts.command.length) {
    throw new Error('--duration cannot be combined with a command: recording stops when the command exits');
  }
  if (opts.auto !== undefined && !opts.command.length) {
    throw new UsageError('--auto needs a command to run (after --): it sets that command\'s NODE_OPTIONS');
  }
  const subSize = subBufferSize(opts.bufferSize, opts.subbuffers);
  const name = opts.session ?? (opts.command.length ? `flight-${process.pid}` : 'default');
  const taker = new SnapshotTaker(opts.output, opts.maxSnapshots);
  const { session, lock } = openSession(name, { clean: opts.clean, subbufferSize: subSize,
    subbuffers: opts.subbuffers, mode: 'overwrite' });
  let stopReason = '';
  const stop = (why: string) => { if (!stopReason) stopReason = why; };
  const onSignal = (sig: NodeJS.Signals) => stop(`received ${sig}`);
  let traced: Traced | undefined;
  const snapshot = (due: Due, amendWithin = 0): void => {
    const s = taker.take(session, due, amendWithin);
    if (!opts.quiet) {
      log(`snapshot ${s.dir}: ${s.totals.events} events (${mib(s.totals.bytes)}) in ${s.ms} ms; ` +
        `reason: ${s.facts.reasons.join('; ')}`);
    }
  };
  try {
    if (opts.selection) publishSelection(session, opts.selection);
    const watch = new FlightWatch(session, opts, log);
    // A writer killed mid-record would stop its ring one lap later: the same watch as record's.
    const deadWriters = new DeadWriterWatch(session.consumer(), session.info.nRings, log);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (opts.command.length) traced = startCommand(opts.command, name, stop, autoEnv(opts.auto));
    else if (opts.duration !== undefined) setTimeout(() => stop(`${opts.duration} s elapsed`), opts.duration * 1000).unref();
    if (!opts.quiet) log(describeFlight(session, name, opts));
    let deadWritersAt = 0;
    while (!stopReason) {
      const due = watch.poll(Date.now());
      if (Date.now() - deadWritersAt >= DEAD_WRITERS_MS) {
        deadWritersAt = Date.now();
        deadWriters.check(deadWritersAt);
      }
      if (due) snapshot(due);
      if (!opts.quiet && process.stderr.isTTY) {
        process.stderr.write(`\r\x1b[K${statusLine(session, taker.taken, taker.lastReasons.join('; '))}`);
      }
      await new Promise((r) => setTimeout(r, TICK_MS));
    }
    if (!opts.quiet && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    if (traced) await traced.done;
    // What the last moments hold: a crash of the traced command, or requests not served yet. Within
    // the hold-off of the previous snapshot it is the same incident: that one is taken again.
    const last = watch.poll(Number.MAX_SAFE_INTEGER) ?? { reasons: [], requests: 0 };
    const crash = traced ? crashReason(opts.command, traced) : null;
    if (crash) last.reasons.push(crash);
    if (last.reasons.length || last.requests) snapshot(last, opts.holdoffMs);
    if (!opts.quiet) {
      const taken = taker.taken;
      log(`${stopReason}: ${taken} snapshot${taken === 1 ? '' : 's'} taken` +
        (taken ? `, the newest ${Math.min(taken, opts.maxSnapshots)} kept in ${opts.output}` : '') +
        watch.summary());
    }
  } finally {
    endSession(session, lock, onSignal);
  }
  return traced?.code ?? 0;
}

/** Why the traced command's end deserves a snapshot, or null (it exited 0). */
function crashReason(command: string[], t: Traced): string | null {
  const cmd = path.basename(command[0] ?? 'command');
  if (t.signal) return `${cmd} was killed by ${t.signal}`;
  return t.code ? `${cmd} exited with code ${t.code}` : null;
}

function describeFlight(session: Session, name: string, opts: FlightOptions): string {
  const info = session.info;
  const ring = info.subSize * info.nSub;
  return `flight recorder on session '${name}': the latest ${mib(ring)} of events per CPU ` +
    `(${info.nCpus} CPUs; ${mib(2 * info.nCpus * ring)} of shared memory with the fallback rings), ` +
    `snapshots into ${opts.output}` +
    (opts.command.length ? '' : ` (apps attach with RINGTRACE_SESSION=${name}; Ctrl-C stops)`);
}

function statusLine(session: Session, taken: number, lastReason: string): string {
  let overwritten = 0;
  let lost = 0;
  for (let ring = 0; ring < session.info.nRings; ring++) {
    const s = session.ringStats(ring);
    overwritten += s.overwrittenRecords;
    lost += s.lost;
  }
  return `overwritten ${overwritten} events  lost ${lost}  snapshots ${taken}` +
    (lastReason ? ` (last: ${lastReason.slice(0, 60)})` : '');
}
