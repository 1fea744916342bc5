// Unhandled rejections that do not crash the app, for uncaught.ts: Node
// tells only 'unhandledRejection' listeners about them, and a listener can
// change what Node does (in the default mode, --unhandled-rejections=throw,
// a rejection no listener takes crashes the process; with one it does not;
// in warn-with-error-code mode a listener spares the warning and exit code 1).
// So the listener is there only while that changes nothing:
// - the app has an 'unhandledRejection' listener of its own (then no mode
//   treats a rejection as unhandled): followed through 'newListener' and
//   'removeListener', ours put first so it records before the app's handler
//   runs (which may exit) unless the app prepends its own after it;
// - or the process runs in a mode where a rejection is never fatal nor
//   counted (warn, none): always;
// - never in strict mode, where every rejection is raised as an uncaught
//   exception first (the uncaught-exception monitor records it) and only then
//   given to listeners.
// A rejection that crashes the app reaches the uncaught-exception monitor
// instead. In warn-with-error-code mode, one the app takes no listener for
// is not recorded. Like uncaught.ts's other listeners, ours shows in
// process.listeners() and counts toward the emitter's listener limit.
import * as fs from 'node:fs';

type Mode = 'throw' | 'strict' | 'warn' | 'none' | 'warn-with-error-code';
const MODES: readonly string[] = ['throw', 'strict', 'warn', 'none', 'warn-with-error-code'];
const OPTION = '--unhandled-rejections';
const EVENT = 'unhandledRejection';

/**
 * NODE_OPTIONS as Node read it when the process started (/proc/self/environ):
 * process.env's may have been changed since, for the app's children.
 */
function startupNodeOptions(): string {
  try {
    const entry = fs.readFileSync('/proc/self/environ', 'latin1').split('\0').find((e) => e.startsWith('NODE_OPTIONS='));
    return entry === undefined ? '' : entry.slice('NODE_OPTIONS='.length);
  } catch {
    return ''; // unknown: taken for the default mode, where only the app's own listeners are followed
  }
}

/** The mode this process runs in: the last --unhandled-rejections of NODE_OPTIONS, then of the command line. */
export function rejectionsMode(execArgv: readonly string[] = process.execArgv, nodeOptions = startupNodeOptions()): Mode {
  let mode: Mode = 'throw';
  for (const args of [nodeOptions.split(/\s+/), execArgv]) {
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      const value = a.startsWith(`${OPTION}=`) ? a.slice(OPTION.length + 1) : a === OPTION ? args[i + 1] : undefined;
      if (value !== undefined && MODES.includes(value)) mode = value as Mode;
    }
  }
  return mode;
}

/** Call `record` with every rejection that does not crash the app, without changing what Node does. */
export function followRejections(record: (reason: unknown) => void, mode: Mode = rejectionsMode()): void {
  const listener = (reason: unknown) => record(reason);
  if (mode === 'strict') return;
  if (mode === 'warn' || mode === 'none') {
    process.prependListener(EVENT, listener);
    return;
  }
  const others = () => process.listeners(EVENT).filter((l) => l !== listener).length;
  process.on('newListener', (event: string | symbol, added: unknown) => {
    // (emitted before `added` is in the list: ours goes in ahead of it)
    if (event === EVENT && added !== listener && !process.listeners(EVENT).includes(listener)) {
      process.prependListener(EVENT, listener);
    }
  });
  process.on('removeListener', (event: string | symbol, removed: unknown) => {
    if (event === EVENT && removed !== listener && others() === 0) {
      process.removeListener(EVENT, listener);
    }
  });
  if (others() > 0) process.prependListener(EVENT, listener); // the app's came before the tracer started
}
