#!/usr/bin/env node
// trace-consume: the ringtrace consumer CLI. Commands that record and read
// traces (record, view, stats, list, export) build on the native core.
import { Command, InvalidArgumentError } from 'commander';
import { runDoctor } from './doctor';

const { version } = require('../../package.json') as { version: string };

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

const program = new Command();
program
  .name('trace-consume')
  .description('Consumer for ringtrace sessions: per-CPU rseq ring buffers for Node.js')
  .version(version);

program
  .command('doctor')
  .description('check that tracing works here: addon, rseq, clock, and a record/read round trip')
  .option('-n, --events <count>', 'events to record in the check', positiveInt, 100000)
  .option('--json', 'print the report as JSON')
  .addHelpText('after', '\nExamples:\n  $ trace-consume doctor\n  $ trace-consume doctor --json')
  .action((opts: { events: number; json?: boolean }) => {
    const r = runDoctor(opts.events);
    if (opts.json) {
      process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    } else {
      const mhz = (r.clockFreqHz / 1e6).toFixed(3);
      process.stdout.write(
        `addon:     ${r.addon}\n` +
        `rseq:      ${r.rseq ? 'registered (fast path)' : 'not registered (atomic fallback)'}\n` +
        `clock:     ${r.clock} (${mhz} MHz)\n` +
        `cpus:      ${r.cpus}\n` +
        `round trip: emitted ${r.emitted}, delivered ${r.delivered}, lost ${r.lost}\n`);
      for (const p of r.problems) process.stdout.write(`note:      ${p}\n`);
      process.stdout.write(r.ok ? 'ok\n' : 'FAILED\n');
    }
    process.exitCode = r.ok ? 0 : 1;
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`trace-consume: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
