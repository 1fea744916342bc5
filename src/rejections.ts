// Unhandled rejections that do not crash the app, for uncaught.ts: Node
// tells only 'unhandledRejection' listeners about them, and a listener can
// change what Node does (in the default mode, --unhandled-rejections=throw,
// a rejection no listener takes crashes the process; with one it does not).
// So the listener is there only while that changes nothing:
// - the app has an 'unhandledRejection' listener of its own (then Node never
//   crashes for a rejection anyway): followed through 'newListener' and
//   'removeListener', ours first so it records before the app's handler runs
//   (which may exit);
// - or the mode never crashes for one (warn, none): always;
// - never in strict mode, where every rejection is raised as an uncaught
//   exception first (the monitor records it) and only then given to listeners.
// A rejection that crashes the app reaches the uncaught-exception monitor instead.

type Mode = 'throw' | 'strict' | 'warn' | 'none' | 'warn-with-error-code';
const MODES: readonly string[] = ['throw', 'strict', 'warn', 'none', 'warn-with-error-code'];
const OPTION = '--unhandled-rejections';

/** The mode this process runs in: the last --unhandled-rejections of NODE_OPTIONS, then the command line. */
export function rejectionsMode(execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env['NODE_OPTIONS'] ?? ''): Mode {
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
    process.prependListener('unhandledRejection', listener);
    return;
  }
  const others = () => process.listeners('unhandledRejection').filter((l) => l !== listener).length;
  process.on('newListener', (event: string | symbol, added: unknown) => {
    // (emitted before `added` is in the list: ours goes in ahead of it)
    if (event === 'unhandledRejection' && added !== listener && !process.listeners(event).includes(listener)) {
      process.prependListener('unhandledRejection', listener);
    }
  });
  process.on('removeListener', (event: string | symbol, removed: unknown) => {
    if (event === 'unhandledRejection' && removed !== listener && others() === 0) {
      process.removeListener('unhandledRejection', listener);
    }
  });
  if (others() > 0) process.prependListener('unhandledRejection', listener); // the app's came first
}
