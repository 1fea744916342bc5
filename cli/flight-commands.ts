// The flight recorder's commands: `flight` (hold a session in memory, write
// snapshots on triggers) and `snapshot` (write one now).
import type { Command } from 'commander';
import { collect, durationMsArg, positiveInt, secondsArg, sizeArg } from './args';
import { autoArg } from './auto-env';
import { AUTO_PARTS } from '../src/auto/options';
import { UsageError } from './usage-error';
import { addSelectionOptions, selectionFromOptions, type SelectionOptions } from './selection';
import type { TriggerSpec } from '../src/flight/triggers';

function triggers(texts: string[] | undefined): TriggerSpec[] {
  const { parseTrigger } = require('../src/flight/triggers') as typeof import('../src/flight/triggers');
  return (texts ?? []).map((t) => {
    try {
      return parseTrigger(t);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  });
}

export function registerFlightCommands(program: Command): void {
  addSelectionOptions(program
    .command('flight')
    .description('flight recorder: keep the latest events in memory, write snapshots when something happens')
    .requiredOption('-o, --output <dir>', 'directory for the snapshot directories (new, empty, or holding earlier snapshots)')
    .option('-s, --session <name>', 'session name (default: "default", or flight-<pid> with a COMMAND)')
    .option('--buffer-size <size>', 'memory per CPU for its latest events, a power of two (e.g. 16M, 64M; ' +
      'default 16M)', sizeArg)
    .option('--subbuffers <n>', 'parts each buffer is written in, a power of two (default 16): a snapshot holds ' +
      'the whole buffer minus up to one part', positiveInt)
    .option('--max-snapshots <n>', 'keep the newest N snapshot directories (default 10)', positiveInt)
    .option('--trigger <rule>', "snapshot when an event appears: 'PATTERN' or 'PATTERN: CONDITION' on its fields; " +
      'a span\'s is checked at its end, on its begin and end fields and `duration` (repeatable)', collect)
    .option('--stall <duration>', 'snapshot when a traced process\'s event loop does not turn for this long ' +
      '(default 1s; 0: off)', durationMsArg)
    .option('--delay <duration>', 'after a trigger, keep recording this long before the snapshot (default 0)',
      durationMsArg)
    .option('--holdoff <duration>', 'at least this long between snapshots; what fires meanwhile joins the next ' +
      '(default 1s)', durationMsArg))
    .option('-d, --duration <seconds>', 'stop after this many seconds (without COMMAND)', secondsArg)
    .option('-q, --quiet', 'no status line or messages')
    .option('--clean', 'if a dead recorder left the session, discard it instead of taking it over')
    .option('--auto [parts]', 'trace an unmodified Node.js COMMAND: load ringtrace/auto into it (NODE_OPTIONS); ' +
      `parts: ${AUTO_PARTS.join(',')} (default all; docs/auto.md)`, autoArg)
    .argument('[command...]', 'program to run traced (after --); its exit code becomes ours')
    .addHelpText('after', `
Snapshots are taken, each into DIR/snapshot-<n>-<time>, when:
  - an app calls snapshot(reason) (JavaScript) or rt_snapshot_request(reason) (C);
  - a --trigger matches an event as it arrives;
  - a traced process's event loop stops turning for --stall;
  - COMMAND exits non-zero or is killed by a signal, or a traced process throws an uncaught exception;
  - you run: trace-consume snapshot -s NAME [-o DIR].
Each snapshot is a CTF trace directory (view, stats, export, babeltrace2) of the latest data of every CPU;
'trace-consume stats' shows why it was taken.

Examples:
  $ trace-consume flight -o snaps -- node server.js
  $ trace-consume flight -o snaps --auto --trigger 'node.http:server: status >= 500' -- node server.js
  $ trace-consume flight -o snaps --buffer-size 64M --trigger 'http:request: duration > 200ms' -- node server.js
  $ trace-consume flight -o snaps -s web --trigger 'app:error' --trigger 'http:request: status >= 500' --delay 100ms
  $ RINGTRACE_SESSION=web node server.js & trace-consume flight -o snaps -s web
  $ trace-consume snapshot -s web -o now                   (from another terminal: a snapshot now)

Memory: the session holds 2 x CPUs x --buffer-size of shared memory (the per-CPU rings and their
fallback rings), allocated at start; nothing is written to disk between snapshots.`)
    .action(async (command: string[], o: { output: string; session?: string; bufferSize?: number;
      subbuffers?: number; maxSnapshots?: number; trigger?: string[]; stall?: number; delay?: number; holdoff?: number;
      duration?: number; quiet?: boolean; clean?: boolean; auto?: string | true } & SelectionOptions) => {
      const { enable, exclude, level, filter } = o;
      const selection = selectionFromOptions({ enable, exclude, level, filter });
      const { FLIGHT_DEFAULTS: d, runFlight } = require('./flight') as typeof import('./flight'); // loaded when run
      process.exitCode = await runFlight({
        output: o.output, bufferSize: o.bufferSize ?? d.bufferSize, subbuffers: o.subbuffers ?? d.subbuffers,
        maxSnapshots: o.maxSnapshots ?? d.maxSnapshots, triggers: triggers(o.trigger), stallMs: o.stall ?? d.stallMs,
        delayMs: o.delay ?? d.delayMs, holdoffMs: o.holdoff ?? d.holdoffMs, command,
        ...(o.session !== undefined ? { session: o.session } : {}),
        ...(o.duration !== undefined ? { duration: o.duration } : {}),
        ...(o.quiet ? { quiet: true } : {}), ...(o.clean ? { clean: true } : {}),
        ...(o.auto !== undefined ? { auto: o.auto } : {}),
        ...(selection ? { selection } : {}),
      });
    });

  program
    .command('snapshot')
    .description('write the latest events of a flight recorder\'s session now, while it goes on')
    .requiredOption('-s, --session <name>', 'the session (as given to flight, or flight-<pid>)')
    .option('-o, --output <dir>', 'trace directory to create (default: <session>-snapshot-<time>)')
    .option('--reason <text>', 'why, kept in the snapshot (shown by stats)')
    .addHelpText('after', `
Examples:
  $ trace-consume snapshot -s web
  $ trace-consume snapshot -s web -o incident-42 --reason 'pager: p99 above 1 s'`)
    .action((o: { session: string; output?: string; reason?: string }) => {
      const { runSnapshot } = require('./snapshot') as typeof import('./snapshot');
      const s = runSnapshot(o);
      process.stdout.write(`${s.dir}: ${s.totals.events} events (${(s.totals.bytes / 1e6).toFixed(1)} MB) ` +
        `in ${s.ms} ms; ${s.facts.overwrittenRecords} older events had been overwritten` +
        (s.facts.torn ? `; ${s.facts.torn} sub-buffers overwritten while copied were left out` : '') + '\n');
    });
}
