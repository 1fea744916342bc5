// `trace-consume record`: create (or take over) a session, drain it into a
// CTF trace directory until the traced command exits, the duration ends, or
// SIGINT/SIGTERM; then flush everything committed and remove the session.
import { spawn } from 'node:child_process';
import { loadNative, type LockHandle } from '../src/native';
import { Session } from '../src/session';
import { OutputError, prepareOutputDir, SIDECAR, TraceWriter, type WriterTotals } from '../src/trace/writer';

export interface RecordOptions {
  output: string;
  session?: string;
  subbufferSize?: number;
  subbuffers?: number;
  duration?: number;
  quiet?: boolean;
  clean?: boolean;
  command: string[];
}

const log = (msg: string) => process.stderr.write(`trace-consume: ${msg}\n`);

/** Take the consumer lock; a session without a live consumer is taken over or, with clean, replaced. */
function openSession(name: string, opts: RecordOptions): { session: Session; lock: LockHandle } {
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
    } else if (existing) {
      log(`taking over session '${name}' left by a consumer that exited: its unread events are kept ` +
        `(use --clean to discard them and start a new session)`);
      return { session: existing, lock };
    }
    return {
      session: Session.create(name, {
        ...(opts.subbufferSize !== undefined ? { subBufferSize: opts.subbufferSize } : {}),
        ...(opts.subbuffers !== undefined ? { subBuffers: opts.subbuffers } : {}),
      }),
      lock,
    };
  } catch (e) {
    native.consumerUnlock(lock);
    throw e;
  }
}

function statusLine(t: WriterTotals, prev: WriterTotals, seconds: number): string {
  const rate = (t.events - prev.events) / seconds;
  const mb = (t.bytes - prev.bytes) / seconds / 1e6;
  const remote = t.events ? (100 * t.remoteCommits) / t.events : 0;
  return `${t.events} events  ${(rate / 1e6).toFixed(2)} M/s  ${mb.toFixed(1)} MB/s  ` +
    `lost ${t.lost + t.droppedUnknown}  remote commits ${remote.toFixed(2)}%`;
}

export async function runRecord(opts: RecordOptions): Promise<number> {
  if (opts.duration !== undefined && opts.command.length) {
    throw new Error('--duration cannot be combined with a command: recording stops when the command exits');
  }
  const name = opts.session ?? (opts.command.length ? `record-${process.pid}` : 'default');
  prepareOutputDir(opts.output);
  const { session, lock } = openSession(name, opts);
  const writer = new TraceWriter(opts.output, session, log);
  const started = Date.now();
  let stopReason = '';
  let childCode: number | null = null;
  const stop = (why: string) => { if (!stopReason) stopReason = why; };

  const onSignal = (sig: NodeJS.Signals) => stop(`received ${sig}`);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let childDone: Promise<void> | undefined;
  if (opts.command.length) {
    const [cmd, ...args] = opts.command as [string, ...string[]];
    const child = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, RINGTRACE_SESSION: name } });
    childDone = new Promise((resolve) => {
      child.on('error', (e) => { log(`cannot run ${cmd}: ${e.message}`); childCode = 127; stop('command failed'); resolve(); });
      child.on('exit', (code, signal) => {
        childCode = code ?? (signal ? 128 + (require('node:os').constants.signals[signal] as number) : 1);
        stop(`${cmd} exited`);
        resolve();
      });
    });
  } else if (opts.duration !== undefined) {
    setTimeout(() => stop(`${opts.duration} s elapsed`), opts.duration * 1000).unref();
  }
  if (!opts.quiet) {
    log(`recording session '${name}' into ${opts.output}` +
      (opts.command.length ? '' : ` (apps attach with RINGTRACE_SESSION=${name}; Ctrl-C stops)`));
  }

  const tty = !opts.quiet && process.stderr.isTTY;
  let prev = writer.totals();
  let lastStatus = Date.now();
  let idlePasses = 0;
  try {
    while (!stopReason) {
      const n = writer.drain(false);
      idlePasses = n ? 0 : idlePasses + 1;
      const now = Date.now();
      if (tty && now - lastStatus >= 1000) {
        const t = writer.totals();
        process.stderr.write(`\r\x1b[K${statusLine(t, prev, (now - lastStatus) / 1000)}`);
        prev = t;
        lastStatus = now;
      }
      // A busy producer fills a default 4 MiB ring in ~5 ms: while data flows,
      // poll back to back; after a quiet spell back off to 1 ms, then 10 ms.
      if (idlePasses < 200) await new Promise((r) => setImmediate(r));
      else await new Promise((r) => setTimeout(r, idlePasses < 1000 ? 1 : 10));
    }
    if (childDone) await childDone;
    const t = writer.finish({ durationMs: Date.now() - started, stopReason });
    if (tty) process.stderr.write('\r\x1b[K');
    if (!opts.quiet) {
      log(`${stopReason}: wrote ${t.events} events (${(t.bytes / 1e6).toFixed(1)} MB) to ${opts.output}` +
        `, lost ${t.lost}${lostDetail(t)}` +
        `${t.droppedUnknown ? `, ${t.droppedUnknown} of unregistered classes left out` : ''}`);
    }
  } catch (e) {
    if (!(e instanceof OutputError)) throw e;
    if (tty) process.stderr.write('\r\x1b[K');
    stopOnOutputError(e, writer, opts.output, Date.now() - started);
    session.remove(); // the app stops emitting into rings nobody reads; it keeps running
    if (childDone) {
      log('waiting for the command to exit (it runs on, untraced)');
      await childDone;
    }
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    session.remove(); // attached apps notice within a second and stop emitting
    session.close();
    loadNative().consumerUnlock(lock);
  }
  return childCode ?? 0;
}

/** Say what the trace holds after a write failed, and leave the side file if the disk allows. */
function stopOnOutputError(e: OutputError, writer: TraceWriter, output: string, durationMs: number): void {
  const { totals, unwritten, sidecar } = writer.abandon(e.message, { durationMs, stopReason: 'output error' });
  log(`stopped recording: ${e.message}`);
  log(`${output} holds the ${totals.events} events written before the error, readable (no partial packet); ` +
    `${unwritten} events still in the rings could not be written, ${totals.lost} were lost to full rings` +
    (sidecar ? '' : `; ${SIDECAR} could not be written either`));
}

/** What part of the lost events dead writers account for. */
function lostDetail(t: WriterTotals): string {
  const parts = [t.deadWriterRecords ? `${t.deadWriterRecords} records of writers killed mid-record` : '',
    t.abandonedRecords ? `${t.abandonedRecords} in sub-buffers abandoned by dead writers` : ''].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')})` : '';
}

/** Parse sizes like 4096, 64K, 1M (powers of two are checked by the core). */
export function parseSize(text: string): number {
  const m = /^(\d+)([kKmMgG]?)(i?[bB])?$/.exec(text.trim());
  if (!m) throw new Error(`'${text}' is not a size (examples: 65536, 64K, 1M)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Number(m[1]) * mult;
}
