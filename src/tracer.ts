// The per-thread tracer: finds the session (by name, from RINGTRACE_SESSION),
// attaches to it whether it appeared before or after this thread started,
// registers this thread's event classes, and flips every event's `enabled`
// flag when the session comes or goes. Each worker thread loads its own copy
// of this module, so each has its own staging buffer and session mapping.
//
// How fast it notices: every thread checks every POLL_MS; the main thread also
// watches /dev/shm (one inotify instance per process) and tells the workers
// over a BroadcastChannel, so a new or removed session is seen within a few
// milliseconds and an app does not miss the start of a recording.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BroadcastChannel, isMainThread, threadId } from 'node:worker_threads';
import { Heartbeat } from './heartbeat';
import { loadNative, type NativeAddon, type SessionHandle } from './native';
import { displayName, type RecordKind } from './schema';
import { type Level } from './selection/rules';
import { SelectionFollower } from './selection/follow';
import { STAGING_BYTES, type Staging } from './serializer';

/** Session name used when RINGTRACE_SESSION is not set. */
export const DEFAULT_SESSION = 'default';
/** How often a thread checks whether its session appeared or went away (without a watch: the bound). */
export const POLL_MS = 500;
/** RINGTRACE_POLL_MS overrides it (50 ms to 60 s), e.g. for workers of an app whose main thread does not trace. */
function pollMs(): number {
  const v = Number(process.env['RINGTRACE_POLL_MS']);
  return Number.isInteger(v) && v >= 50 && v <= 60_000 ? v : POLL_MS;
}
/** A session object seen while its creator is still writing its header: look again this soon. */
const BEING_CREATED_RETRY_MS = 10;
const BEING_CREATED_RETRIES = 100;
const SHM_DIR = '/dev/shm';
const SESSION_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$/; // as native/ring/session.c checks

/** What the tracer needs from an event class (see event.ts). */
export interface Attachable {
  readonly description: string;
  readonly provider: string;
  readonly name: string;
  readonly level: Level;
  readonly kind: RecordKind;
  enabled: boolean;
  id: number;
  /** The session's filter expression for the class (null: none); throws if it does not fit its fields. */
  setFilter(expression: string | null): void;
  /** Events its filter left out since the last call. */
  takeFiltered(): number;
}

/** Records ringtrace:filtered (set by provider.ts, which owns event classes). */
type FilteredRecorder = (event: string, count: number) => void;
let recordFiltered: FilteredRecorder = () => {};
export function setFilteredRecorder(fn: FilteredRecorder): void {
  recordFiltered = fn;
}

/**
 * Run when a thread's tracer starts (its first event class, or snapshot()),
 * before it first looks for the session: the library's own classes defined
 * here are registered with the others when it attaches (snapshot.ts, uncaught.ts).
 */
const startHooks: (() => void)[] = [];
export function onTracerStart(fn: () => void): void {
  startHooks.push(fn);
}

type State =
  | { kind: 'off'; why: string }
  | { kind: 'detached' }
  | { kind: 'attached'; handle: SessionHandle; ino: number; selection: SelectionFollower };

class Tracer {
  readonly staging: Staging;
  private readonly stagingBuffer = new ArrayBuffer(STAGING_BYTES);
  private readonly classes: Attachable[] = [];
  private state: State = { kind: 'detached' };
  /** state.ino while attached, else -1: read per span (sessionIno), a plain field for the JIT. */
  private attachedIno = -1;
  private native: NativeAddon | undefined;
  private started = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly heartbeat = new Heartbeat();
  private soonTimer: NodeJS.Timeout | undefined;
  private creationRetries = 0;
  private readonly warned = new Set<string>();
  readonly sessionName: string;
  private readonly shmName: string;
  private readonly shmPath: string;

  constructor() {
    this.staging = {
      u8: Buffer.from(this.stagingBuffer),
      dv: new DataView(this.stagingBuffer),
      ctl: new Uint32Array(this.stagingBuffer, 0, 2),
    };
    this.sessionName = process.env['RINGTRACE_SESSION'] ?? DEFAULT_SESSION;
    const uid = typeof process.geteuid === 'function' ? process.geteuid() : 0;
    this.shmName = `ringtrace-${uid}-${this.sessionName}`;
    this.shmPath = path.join(SHM_DIR, this.shmName);
    if (this.sessionName === '' || this.sessionName === 'off') {
      this.setState({ kind: 'off', why: 'RINGTRACE_SESSION is off' });
    } else if (!SESSION_NAME.test(this.sessionName)) {
      // the core would refuse it too (native/ring/session.c); say so once instead of polling a path that cannot exist
      const why = `RINGTRACE_SESSION '${this.sessionName}' is not a session name (1-63 letters, digits, '_', '-', '.'; ` +
        `not starting with '.' or '-'): tracing is off`;
      this.setState({ kind: 'off', why });
      process.emitWarning(why, 'RingtraceWarning');
    }
  }

  /** The hot call, bound once attached (see serializer.ts for the staging layout). */
  emitStaged: () => void = () => {};

  /** Add a class; it is enabled at once if a session is attached. */
  add(cls: Attachable): void {
    this.classes.push(cls);
    if (this.state.kind === 'attached') this.register(cls, this.state.handle);
    else this.start();
  }

  get attached(): boolean {
    return this.state.kind === 'attached';
  }

  /** The attached session's inode (a new one for each session of the name), or -1. */
  get sessionIno(): number {
    return this.attachedIno;
  }

  private setState(state: State): void {
    this.state = state;
    this.attachedIno = state.kind === 'attached' ? state.ino : -1;
  }

  /** Check the session now (also runs every POLL_MS once a class exists). */
  poll(): void {
    if (this.state.kind === 'off') return;
    let ino = -1;
    try {
      ino = fs.statSync(this.shmPath).ino;
    } catch {
      // no session (yet): stay or become detached
    }
    if (this.state.kind === 'attached') {
      if (ino === this.state.ino) {
        if (this.state.selection.refresh()) for (const cls of this.classes) this.select(cls);
        this.reportFiltered();
        return;
      }
      this.detach(); // the session ended (or was replaced: attach to the new one below)
    }
    if (ino >= 0) this.attach(ino);
  }

  /** Start looking for the session (once; the first event class does it). */
  start(): void {
    if (this.started || this.state.kind === 'off') return;
    // Load the addon now, not when a session appears: a broken install is
    // reported once at startup rather than when someone tries to trace.
    if (!this.loadAddon()) return;
    this.started = true; // before the hooks: the classes they define come back here
    for (const hook of startHooks) {
      try {
        hook();
      } catch (e) {
        this.warnOnce(`${(e as Error).message} (ringtrace's own records may be missing)`);
      }
    }
    this.poll();
    this.timer = setInterval(() => this.poll(), pollMs());
    this.timer.unref(); // tracing never keeps a process or worker alive
    this.listenForChanges();
    process.on('exit', () => this.reportFiltered()); // a thread's last counts (workers too)
  }

  /**
   * Poll as soon as the session object changes: the main thread watches
   * /dev/shm and broadcasts to the workers. Anything failing here only leaves
   * the POLL_MS timer, never an error in the app (a watcher's 'error' event is
   * handled: unhandled, it would throw).
   */
  private listenForChanges(): void {
    let channel: BroadcastChannel | undefined;
    try {
      channel = new BroadcastChannel(`ringtrace:${this.shmName}`);
      channel.unref();
      if (isMainThread) {
        const notify = channel;
        const watcher = fs.watch(SHM_DIR, { persistent: false }, (_event, file) => {
          // the session object, or its selection file (…-<uuid>.selection)
          if (file !== this.shmName && !(file?.startsWith(this.shmName) && file.endsWith('.selection'))) return;
          this.pollSoon(0);
          notify.postMessage('changed');
        });
        watcher.on('error', () => watcher.close());
      } else {
        channel.onmessage = () => this.pollSoon(0);
      }
    } catch {
      // no inotify (limits, other platform): the timer alone
    }
  }

  /** Poll once after `ms` (coalescing a burst of change notices). */
  private pollSoon(ms: number): void {
    if (this.soonTimer) return;
    this.soonTimer = setTimeout(() => {
      this.soonTimer = undefined;
      this.poll();
    }, ms);
    this.soonTimer.unref();
  }

  private loadAddon(): boolean {
    try {
      this.native ??= loadNative();
      return true;
    } catch (e) {
      this.setState({ kind: 'off', why: 'addon' });
      this.warnOnce(`${(e as Error).message}; tracing is off in this thread`);
      return false;
    }
  }

  private attach(ino: number): void {
    if (!this.loadAddon()) return;
    const native = this.native!;
    let handle: SessionHandle | undefined;
    let selection: SelectionFollower;
    try {
      handle = native.open(this.sessionName);
      native.attachThread(handle, this.stagingBuffer);
      native.addProcess(handle, processLabel());
      selection = new SelectionFollower(native, handle, (m) => this.warnOnce(m));
      selection.refresh();
      this.setState({ kind: 'attached', handle, ino, selection });
      for (const cls of this.classes) this.register(cls, handle);
      this.heartbeat.start(native, handle); // overwrite-mode sessions: the main thread's loop beats
    } catch (e) {
      this.setState({ kind: 'detached' });
      for (const cls of this.classes) cls.enabled = false;
      if (handle) {
        native.detachThread();
        native.close(handle);
      }
      const message = (e as Error).message;
      // The recorder may still be writing its header (we saw the object appear): look again
      // shortly, for a while; an object that stays like that is a problem worth a warning.
      if (/is not initialized|is truncated/.test(message) && this.creationRetries++ < BEING_CREATED_RETRIES) {
        return this.pollSoon(BEING_CREATED_RETRY_MS);
      }
      // Once per problem, not per poll: the app keeps running untraced.
      this.warnOnce(`cannot trace into session '${this.sessionName}': ${message}`);
      return;
    }
    this.creationRetries = 0;
    this.emitStaged = native.emitStaged;
  }

  private register(cls: Attachable, handle: SessionHandle): void {
    cls.id = this.native!.registerClass(handle, cls.description);
    this.select(cls);
  }

  /** Enable `cls` if the session's selection records it, with the selection's filter for it. */
  private select(cls: Attachable): void {
    if (this.state.kind !== 'attached') return;
    const selection = this.state.selection.selection;
    let on = selection.selects(cls.provider, cls.name, cls.level);
    try {
      cls.setFilter(on ? selection.filterFor(cls.provider, cls.name) : null);
    } catch (e) {
      // A filter that does not fit this class's fields: better nothing than everything.
      this.warnOnce(`${(e as Error).message}; ${cls.provider}:${cls.name} is not recorded in session '${this.sessionName}'`);
      on = false;
    }
    cls.enabled = on;
  }

  /** Say in the trace how many events each class's filter left out (every poll, on detach, at exit). */
  reportFiltered(): void {
    if (this.state.kind !== 'attached') return;
    for (const cls of this.classes) {
      const n = cls.takeFiltered();
      if (n) recordFiltered(displayName(cls), n); // as traces name it (a span's begin: provider:name:begin)
    }
  }

  private detach(): void {
    if (this.state.kind !== 'attached') return;
    this.reportFiltered();
    for (const cls of this.classes) cls.enabled = false;
    this.emitStaged = () => {};
    this.heartbeat.stop(this.native!);
    this.native!.detachThread();
    this.native!.close(this.state.handle);
    this.setState({ kind: 'detached' });
  }

  private warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    process.emitWarning(message, 'RingtraceWarning');
  }
}

/** How `trace-consume list` shows this thread: script name, and worker id. */
function processLabel(): string {
  const script = path.basename(process.argv[1] ?? process.argv0);
  return isMainThread ? script : `${script} (worker ${threadId})`;
}

let tracer: Tracer | undefined;

/** This thread's tracer (created on first use). */
export function currentTracer(): Tracer {
  tracer ??= new Tracer();
  return tracer;
}

export type { Tracer };
