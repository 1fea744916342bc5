// `trace-consume record`: create (or take over) a session, drain it into a
// CTF trace directory until the traced command exits, the duration ends, or
// SIGINT/SIGTERM; then flush everything committed and remove the session.
// While recording, the open sub-buffers' committed data is written every flush
// interval, so the trace on disk is never more than that behind.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { autoEnvironment } from './auto-env';
import { loadNative, type LockHandle } from '../src/native';
import { Session } from '../src/session';
import { POLL_MS } from '../src/tracer';
import { publishSelection } from '../src/selection/publish';
import type { Selection } from '../src/selection/rules';
import { OutputError, prepareOutputDir, SIDECAR, TraceWriter, type WriterTotals } from '../src/trace/writer';
import { type OtlpConfig, resolveOtlpConfig } from '../src/otlp/config';
import { type LiveOptions, OtlpLive } from '../src/otlp/live';
import { resolveResourceChoice } from '../src/otlp/resource-choice';
import { asUsage, UsageError } from './usage-error';
import { noEndpointLine, sentLine } from './otlp-lines';
import { cpuMs, drainUntilStopped } from './record-loop';
import { DEFAULT_FLUSH_S } from './record-defaults';

export interface RecordOptions {
  /** The trace directory; none with otlp: the recording goes only to the OTLP endpoint. */
  output?: string;
  session?: string;
  subbufferSize?: number;
  subbuffers?: number;
  duration?: number;
  quiet?: boolean;
  clean?: boolean;
  /** Seconds between writes of the open sub-buffers' committed data; 0: only full sub-buffers. */
  flushInterval?: number;
  /** Which events apps record (cli/selection.ts); undefined: everything, or a taken-over session's. */
  selection?: Selection;
  /** Auto mode for the command: true (all parts) or a parts list (cli/auto-env.ts). */
  auto?: string | true;
  /** Also send the recording over OTLP while recording: an endpoint, or true for $OTEL_EXPORTER_OTLP_ENDPOINT. */
  otlp?: string | true;
  otlpHeaders?: string[];
  serviceName?: string;
  /** Seconds to wait at the end for the backend to take what is left (default 5). */
  otlpExitWait?: number;
  command: string[];
}


const log = (msg: string) => process.stderr.write(`trace-consume: ${msg}\n`);

/** The end of a recording: stop handling signals, remove the session (attached apps notice within a second and stop emitting), let go of it. */
export function endSession(session: Session, lock: LockHandle, onSignal: (sig: NodeJS.Signals) => void): void {
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  session.remove();
  session.close();
  loadNative().consumerUnlock(lock);
}

/** What openSession needs of record's or flight's options. */
export interface SessionChoice {
  clean?: boolean | undefined;
  subbufferSize?: number | undefined;
  subbuffers?: number | undefined;
  /** 'overwrite': a flight recorder's session (rings keep the latest data). */
  mode?: 'discard' | 'overwrite';
}

/** Take the consumer lock; a session without a live consumer is taken over or, with clean, replaced. */
export function openSession(name: string, opts: SessionChoice): { session: Session; lock: LockHandle } {
  const native = loadNative();
  const l = native.consumerLock(name);
  if ('holder' in l) {
    throw new Error(`session '${name}' is already being recorded by ` +
      `${l.holder > 0 ? `process ${l.holder}` : 'another process'}; only one consumer may drain a session`);
  }
  const lock = l.handle;
  try {
    let existing: Session | undefined;
    try {
      existing = Session.open(name);
    } catch (e) {
      if (!/no session/.test((e as Error).message)) throw e;
    }
    if (existing && opts.clean) {
      log(`removing session '${name}' left by a consumer that exited (its unread events are discarded)`);
      existing.remove();
      existing.close();
      existing = undefined;
    } else if (existing && existing.info.mode !== (opts.mode ?? 'discard')) {
      const mode = existing.info.mode;
      existing.close();
      throw new Error(`session '${name}' exists in ${mode} mode (left by ` +
        `${mode === 'overwrite' ? 'a flight recorder' : 'a recording'} that exited); use --clean to replace it, ` +
        'or another session name');
    } else if (existing) {
      log(`taking over session '${name}' left by a consumer that exited: its unread events are kept ` +
        `(use --clean to discard them and start a new session)`);
      return { session: existing, lock };
    }
    return {
      session: Session.create(name, {
        ...(opts.subbufferSize !== undefined ? { subBufferSize: opts.subbufferSize } : {}),
        ...(opts.subbuffers !== undefined ? { subBuffers: opts.subbuffers } : {}),
        ...(opts.mode ? { mode: opts.mode } : {}),
      }),
      lock,
    };
  } catch (e) {
    native.consumerUnlock(lock);
    throw e;
  }
}

/** The traced command, if any: its exit decides when recording stops and the exit status. */
export interface Traced {
  done: Promise<void>;
  exited: boolean;
  code: number | null;
  /** The signal that ended it, if one did. */
  signal: NodeJS.Signals | null;
}

/** `env`: more variables for the command (auto mode's, cli/auto-env.ts). */
export function startCommand(command: string[], session: string, stop: (why: string) => void,
  env: Record<string, string> = {}): Traced {
  const [cmd, ...args] = command as [string, ...string[]];
  const traced: Traced = { done: Promise.resolve(), exited: false, code: null, signal: null };
  const child = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env, RINGTRACE_SESSION: session } });
  traced.done = new Promise((resolve) => {
    const exit = (code: number, why: string) => {
      traced.code = code;
      traced.exited = true;
      stop(why);
      resolve();
    };
    child.on('error', (e) => { log(`cannot run ${cmd}: ${e.message}`); exit(127, 'command failed'); });
    child.on('exit', (code, signal) => {
      traced.signal = signal;
      exit(code ?? (signal ? 128 + (os.constants.signals[signal] as number) : 1), `${cmd} exited`);
    });
  });
  return traced;
}

const sleep = (ms: number) => new Promise<void>((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r)));

/** The command's extra environment for --auto (none without it). */
export function autoEnv(auto: string | true | undefined): Record<string, string> {
  return auto === undefined ? {} : autoEnvironment(auto);
}

export async function runRecord(opts: RecordOptions): Promise<number> {
  if (opts.duration !== undefined && opts.command.length) {
    throw new UsageError('--duration cannot be combined with a command: recording stops when the command exits');
  }
  if (opts.auto !== undefined && !opts.command.length) {
    throw new UsageError('--auto needs a command to run (after --): it sets that command\'s NODE_OPTIONS');
  }
  const flushMs = (opts.flushInterval ?? DEFAULT_FLUSH_S) * 1000;
  let otlp: LiveOptions | undefined;
  if (opts.otlp === undefined && (opts.otlpHeaders || opts.serviceName !== undefined || opts.otlpExitWait !== undefined)) {
    throw new UsageError('--otlp-header, --service-name and --otlp-exit-wait go with --otlp');
  }
  if (opts.otlp !== undefined) {
    if (flushMs === 0) throw new UsageError('--otlp needs a flush interval above 0: it sends what each flush wrote');
    const endpoint = opts.otlp;
    otlp = asUsage(() => ({
      config: resolveOtlpConfig({ ...(endpoint !== true ? { endpoint } : {}), endpointOption: '--otlp',
        ...(opts.otlpHeaders ? { headers: opts.otlpHeaders, headerOption: '--otlp-header' } : {}) }),
      resource: resolveResourceChoice(opts.serviceName),
      releaseRead: opts.output === undefined,
    }));
  }
  if (opts.output === undefined && opts.otlp === undefined) {
    throw new UsageError('-o DIR is required (or --otlp URL to send the recording without keeping it)');
  }
  // Only OTLP: the packets go through a private temporary directory whose space is given back as they are
  // sent (live-worker.ts), removed at the end.
  const scratch = opts.output === undefined ? fs.mkdtempSync(path.join(os.tmpdir(), 'ringtrace-otlp-')) : undefined;
  const output = opts.output ?? path.join(scratch!, 'trace');
  try {
    return await recordInto(output, opts, flushMs, otlp);
  } finally {
    if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
  }
}

async function recordInto(output: string, opts: RecordOptions, flushMs: number, otlp: LiveOptions | undefined):
  Promise<number> {
  const name = opts.session ?? (opts.command.length ? `record-${process.pid}` : 'default');
  const createdDir = prepareOutputDir(output);
  let opened: { session: Session; lock: LockHandle };
  try {
    opened = openSession(name, opts);
  } catch (e) {
    if (createdDir) fs.rmdirSync(output); // a refused recording leaves nothing behind
    throw e;
  }
  const { session, lock } = opened;
  const started = Date.now();
  let stopReason = '';
  const stop = (why: string) => { if (!stopReason) stopReason = why; };
  const onSignal = (sig: NodeJS.Signals) => stop(`received ${sig}`);
  let writer: TraceWriter | undefined;
  let traced: Traced | undefined;
  let live: OtlpLive | undefined;
  try {
    writer = new TraceWriter(output, session, log); // the metadata is on disk before any app runs
    if (otlp) {
      live = new OtlpLive(output, otlp);
    }
    // The selection is in force before the command starts (none asked: everything, as a session
    // without a selection file has; a taken-over session keeps its own).
    if (opts.selection) publishSelection(session, opts.selection);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (opts.command.length) traced = startCommand(opts.command, name, stop, autoEnv(opts.auto));
    else if (opts.duration !== undefined) setTimeout(() => stop(`${opts.duration} s elapsed`), opts.duration * 1000).unref();
    if (!opts.quiet) {
      log(`recording session '${name}' ${opts.output ? `into ${output}` : 'for OTLP (no trace kept)'}` +
        (opts.command.length ? '' : ` (apps attach with RINGTRACE_SESSION=${name}; Ctrl-C stops)`));
    }
    const loopStart = { at: Date.now(), cpu: process.cpuUsage() };
    await drainUntilStopped(writer, session, flushMs, opts.quiet, () => stopReason, live);
    // The recorder's own cost while recording (setup and the final flush excluded).
    const loop = { recorderCpuMs: cpuMs(loopStart.cpu), recordingMs: Date.now() - loopStart.at };
    if (traced) await traced.done;
    const t = writer.finish({ durationMs: Date.now() - started, stopReason, ...loop });
    if (!opts.quiet) {
      log(`${stopReason}: ${opts.output ? 'wrote' : 'recorded'} ${t.events} events (${(t.bytes / 1e6).toFixed(1)} MB)` +
        `${opts.output ? ` to ${output}` : ''}` +
        `, lost ${t.lost}${lostDetail(t)}` +
        `${t.droppedUnknown ? `, ${t.droppedUnknown} of unregistered classes left out` : ''}`);
      if (writer.attachedThreads() === 0) log(noAppHint(name, opts.command));
    }
    if (live) await finishLive(live, otlp!.config, writer, opts.quiet, (opts.otlpExitWait ?? 5) * 1000);
  } catch (e) {
    if (!(e instanceof OutputError)) throw e;
    if (!opts.quiet && process.stderr.isTTY) process.stderr.write('\r\x1b[K'); // the status line
    log(`stopped recording: ${e.message}`);
    if (live && writer) await live.close(writer.streamSizes(), 5000); // what was written before the error
    if (writer) await abandonRecording(writer, session, e, traced, { durationMs: Date.now() - started });
    else session.remove();
    return 1;
  } finally {
    endSession(session, lock, onSignal);
  }
  return traced?.code ?? 0;
}

/** The live export's last cut, its wait for the backend, and its figures in the side file. */
async function finishLive(live: OtlpLive, config: OtlpConfig, writer: TraceWriter, quiet: boolean | undefined,
  waitMs: number):
  Promise<void> {
  const s = await live.close(writer.streamSizes(), waitMs);
  const failure = live.error();
  if (failure) log(failure);
  if (!s) return;
  writer.amendSidecar({ otlp: { ...s.summary, ...s.sent, events: s.events, errors: s.errors } });
  if (!quiet) log(`otlp: ${s.summary.spans} spans, ${s.summary.logs} log records, ${s.summary.points} gauge points: ` +
    `${sentLine(s.sent)}`);
  if (s.sent.lastError && (s.sent.droppedItems || s.sent.rejectedItems)) log(`otlp: last error: ${s.sent.lastError}`);
  const unsent = noEndpointLine(s.summary.noEndpointItems, config.urls, '--otlp URL');
  if (unsent) log(`otlp: ${unsent}`);
  for (const e of s.errors) log(`otlp: ${e}`);
}

/** How long producers may go on emitting after the session is removed: they notice within POLL_MS. */
const DETACH_GRACE_MS = 2 * POLL_MS + 250;

/**
 * After a write error: remove the session so apps stop emitting, and count
 * everything they put in the rings until they have: the traced command exited
 * (it runs on, untraced), or, without one, nothing new for DETACH_GRACE_MS.
 * Then say what the trace holds: written + unwritable + lost == emitted.
 */
async function abandonRecording(writer: TraceWriter, session: Session, e: OutputError, traced: Traced | undefined,
  extra: Record<string, unknown>): Promise<void> {
  writer.abandon();
  session.remove();
  if (traced && !traced.exited) log('waiting for the command to exit (it runs on, untraced)');
  let last = writer.countUnwritten();
  let quietSince = Date.now();
  const giveUp = Date.now() + 10 * DETACH_GRACE_MS;
  while (traced ? !traced.exited : Date.now() - quietSince < DETACH_GRACE_MS && Date.now() < giveUp) {
    await sleep(20);
    const n = writer.countUnwritten();
    if (n !== last) quietSince = Date.now();
    last = n;
  }
  const { totals, unwritten, sidecar } = writer.finishAbandoned(e.message, { ...extra, stopReason: 'output error' });
  log(`${writer.dir} holds the ${totals.events} events written before the error, readable (no partial packet); ` +
    `${unwritten} events still in the rings could not be written, ${totals.lost} were lost to full rings` +
    (sidecar ? '' : `; ${SIDECAR} could not be written either`));
}

/** Why a recording may have found nothing, and what to check. */
function noAppHint(session: string, command: string[]): string {
  return command.length
    ? `no app attached to session '${session}': the command ran with RINGTRACE_SESSION=${session} but did not ` +
      'define a ringtrace event (provider(...).event/span/counter) in any thread'
    : `no app attached to session '${session}': apps trace into the session named by their RINGTRACE_SESSION ` +
      `(default 'default'); start them with RINGTRACE_SESSION=${session}, or give the app as a command: ` +
      'trace-consume record -o DIR -- node app.js';
}

/** What part of the lost events dead writers account for. */
function lostDetail(t: WriterTotals): string {
  const parts = [t.deadWriterRecords ? `${t.deadWriterRecords} records of writers killed mid-record` : '',
    t.abandonedRecords ? `${t.abandonedRecords} in sub-buffers abandoned by dead writers` : ''].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}
