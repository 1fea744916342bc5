#!/usr/bin/env node
// trace-consume: the ringtrace consumer CLI. Commands that record and read
// traces (record, view, stats, list, export) build on the native core.
import { Command, Option } from 'commander';
import { collect, nonNegative, positiveInt, secondsArg, sizeArg } from './args';
import { autoArg } from './auto-env';
import { AUTO_PARTS } from '../src/auto/options';
import { registerFlightCommands } from './flight-commands';
import { UsageError } from './usage-error';
import { type ExportFormat, FORMATS } from '../src/export/formats';
import { DEFAULT_FLUSH_S } from './record-defaults';
import { addSelectionOptions, changeSelection, selectionFromOptions, type SelectionOptions } from './selection';
import { DEFAULT_LIMITS } from '../src/report/queries';
import { TABLE_DOCS } from '../src/query/tables';
import { OutputClosed, TextSink } from '../src/export/sink';
// Each command's own modules are loaded when it runs (require in its action):
// defining every command with its help loads little, so any command starts sooner.

const { version } = require('../../package.json') as { version: string };

// `trace-consume view out | head`: a closed pipe ends the output quietly.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

const program = new Command();
program
  .name('trace-consume')
  .description('Consumer for ringtrace sessions: per-CPU rseq ring buffers for Node.js')
  .version(version)
  // Exit codes: 0 done, 1 a failure or a damaged trace, 2 a mistake in the command line (before subcommands: they inherit it).
  .exitOverride((e) => process.exit(e.exitCode === 0 ? 0 : 2));

program
  .command('doctor')
  .description('check that tracing works here: addon, rseq, clock, and a record/read round trip')
  .option('-n, --events <count>', 'events to record in the check (half from a worker thread)', positiveInt, 100000)
  .option('--json', 'print the report as JSON')
  .addHelpText('after', `
Records events through the JavaScript API from this thread and a worker thread, reads them back
and checks each one: exit code 1 if any timestamp went backwards within a ring, an event was lost
or missing, or a record decoded to other values than were emitted.

Examples:
  $ trace-consume doctor
  $ trace-consume doctor --json`)
  .action(async (opts: { events: number; json?: boolean }) => {
    const { runDoctor } = require('./doctor') as typeof import('./doctor');
    const r = await runDoctor(opts.events);
    if (opts.json) {
      process.stdout.write(JSON.stringify(r, null, 2) + '\n');
    } else {
      const mhz = (r.clockFreqHz / 1e6).toFixed(3);
      process.stdout.write(
        `addon:     ${r.addon}\n` +
        `rseq:      ${r.rseq ? 'registered (fast path)' : 'not registered (atomic fallback)'}\n` +
        `clock:     ${r.clock} (${mhz} MHz): ${r.clockWhy || 'no reason recorded'}; kernel clocksource ${r.clocksource}\n` +
        `cpus:      ${r.cpus}\n` +
        `round trip: ${r.threads} threads emitted ${r.emitted}, delivered ${r.delivered}, lost ${r.lost}, ` +
        `remote commits ${r.remoteCommits}\n`);
      for (const n of r.notes) process.stdout.write(`note:      ${n}\n`);
      for (const a of r.anomalies) process.stdout.write(`ANOMALY:   ${a}\n`);
      process.stdout.write(r.ok ? 'ok\n' : 'FAILED\n');
    }
    process.exitCode = r.ok ? 0 : 1;
  });


addSelectionOptions(program
  .command('record')
  .description('record a session into a CTF trace directory, running COMMAND traced or until Ctrl-C')
  .option('-o, --output <dir>', 'trace directory to create (must not exist, or be empty); may be left out ' +
    'with --otlp (nothing kept)')
  .option('-s, --session <name>', 'session name (default: "default", or record-<pid> with a COMMAND)'))
  .option('--subbuffer-size <size>', 'sub-buffer size, a power of two (e.g. 64K, 1M; default 512K)', sizeArg)
  .option('--subbuffers <n>', 'sub-buffers per CPU ring, a power of two (default 8)', positiveInt)
  .option('-d, --duration <seconds>', 'stop after this many seconds (without COMMAND)', secondsArg)
  .option('-q, --quiet', 'no status line or messages')
  .option('--clean', 'if a dead consumer left the session, discard it instead of taking it over')
  .option('--flush-interval <seconds>', 'write what the open sub-buffers hold at least this often, so the ' +
    'trace on disk is at most this far behind (0: only full sub-buffers)', nonNegative, DEFAULT_FLUSH_S)
  .option('--auto [parts]', 'trace an unmodified Node.js COMMAND: load ringtrace/auto into it (NODE_OPTIONS); ' +
    `parts: ${AUTO_PARTS.join(',')} (default all; docs/auto.md)`, autoArg)
  .option('--otlp [url]', 'also send spans, logs and gauges to this OTLP/HTTP endpoint while recording ' +
    '(default: $OTEL_EXPORTER_OTLP_ENDPOINT); a slow or absent backend never slows the recording')
  .option('--otlp-header <key=value>', 'a header on every OTLP request (repeatable; also $OTEL_EXPORTER_OTLP_HEADERS)',
    collect)
  .option('--service-name <name>', 'OTLP service.name of every process (default: the app\'s OpenTelemetry ' +
    'resource, else its script name)')
  .option('--otlp-exit-wait <seconds>', 'at the end, wait this long at most for the OTLP backend to take what is ' +
    'left (default 5)', nonNegative)
  .argument('[command...]', 'program to run traced (after --); its exit code becomes ours')
  .addHelpText('after', `
Examples:
  $ trace-consume record -o out -- node app.js           trace one run of app.js
  $ trace-consume record -o out --auto -- node app.js    trace an app with no ringtrace line: HTTP, fetch, GC, loop...
  $ trace-consume record -o out --auto=http,gc -- node app.js
  $ trace-consume record -o out --duration 10             trace apps using the default session for 10 s
  $ RINGTRACE_SESSION=web node server.js & trace-consume record -o out -s web   attach to a running app
  $ trace-consume record -o out -e 'http:*' -e db:query --exclude http:health -- node app.js
  $ trace-consume record -o out --level debug --filter 'http:request: status >= 500' -- node app.js
  $ trace-consume record -o out --flush-interval 0.2 -- node app.js   trace on disk at most 0.2 s behind
  $ trace-consume record -o out --auto --otlp http://localhost:4318 -- node app.js   and to a Collector, live
  $ trace-consume record --auto --otlp http://localhost:4318 -- node app.js   only to the Collector

Apps find the session by name (RINGTRACE_SESSION, default "default") and attach at once (at most 0.5 s),
whether they started before or after the recording. The trace directory is readable while recording
(view/stats/export) and after a crash of the recorder, up to the last flush. What is not selected costs
the apps what a disabled event costs; 'trace-consume enable/disable' change the selection while
recording (docs/selection.md).

With --auto, more of auto mode is set through variables in the command's environment (docs/auto.md):
RINGTRACE_AUTO_HEADERS=user-agent,x-request-id (request headers recorded on server spans; none by
default), RINGTRACE_AUTO_QUERY=1 (keep query strings in paths), RINGTRACE_AUTO_INTERVAL_MS (runtime
counters' interval, default 1000), RINGTRACE_AUTO_CONTEXT=1|0 (the request span as the handler's
async context from the first request | never).
  $ RINGTRACE_AUTO_HEADERS=user-agent trace-consume record -o out --auto -- node app.js`)
  .action(async (command: string[], opts: { output?: string; session?: string; subbufferSize?: number;
    subbuffers?: number; duration?: number; quiet?: boolean; clean?: boolean; flushInterval: number;
    auto?: string | true; otlp?: string | true; otlpHeader?: string[]; serviceName?: string; otlpExitWait?: number } &
    SelectionOptions) => {
    const { enable, exclude, level, filter, otlpHeader, ...rest } = opts;
    const selection = selectionFromOptions({ enable, exclude, level, filter });
    const { runRecord } = require('./record') as typeof import('./record');
    process.exitCode = await runRecord({ ...rest, ...(selection ? { selection } : {}),
      ...(otlpHeader ? { otlpHeaders: otlpHeader } : {}), command });
  });

for (const kind of ['enable', 'disable'] as const) {
  program
    .command(kind)
    .description(`${kind} events in a session being recorded; its apps follow at once (at most 0.5 s)`)
    .requiredOption('-s, --session <name>', 'the session (as given to record, or record-<pid>)')
    .option('--level <level>', 'record only events at this level or above from now on')
    .option('--filter <rule>', "from now on record the matching events only when their fields pass: " +
      "'PATTERN: EXPRESSION' (an empty EXPRESSION removes the filter; repeatable)", collect)
    .argument('[pattern...]', `events to ${kind}: provider:name, with * and ? wildcards; a provider alone means all of it`)
    .addHelpText('after', `
Examples:
  $ trace-consume ${kind} -s web 'db:*'
  $ trace-consume ${kind} -s web http:health 'cache:*'
  $ trace-consume enable -s web --level debug --filter 'db:query: ms > 50'

A rule added later wins over earlier ones for the events it matches; the trace records each change
as a ringtrace:selection event (docs/selection.md).`)
    .action((patterns: string[], opts: { session: string; level?: string; filter?: string[] }) => {
      process.stdout.write(changeSelection(kind, opts.session, patterns, opts) + '\n');
    });
}

registerFlightCommands(program);

program
  .command('view')
  .description('print the events of a trace directory in time order')
  .argument('<dir>', 'trace directory written by `trace-consume record`')
  .option('-e, --event <names...>', 'only these events ("provider:event" or "event"; comma-separated too)')
  .option('--since <seconds>', 'skip events earlier than this many seconds after the first', nonNegative)
  .option('--until <seconds>', 'stop after this many seconds after the first event', nonNegative)
  .option('--json', 'one JSON object per line')
  .option('-f, --follow', 'keep printing events as a running `trace-consume record` writes them (within ~0.1 s), ' +
    'until the recording ends or Ctrl-C')
  .addHelpText('after', `
Examples:
  $ trace-consume view out
  $ trace-consume view out --event http:request --since 1.5 --until 2
  $ trace-consume view out --json | jq .fields
  $ trace-consume record -o out -- node app.js &  trace-consume view out --follow
  $ trace-consume view out -f --event http:request --json | jq -c .fields

--follow prints what is already in DIR, then each event as it is recorded, in time order; the
recorder, seeing a follower, writes what apps committed every 40 ms while it is followed. Only
whole packets are read. It ends when the recording does (exit 0; 1 if a file is damaged or the
recorder was killed before finishing the trace) or on Ctrl-C.`)
  .action(async (dir: string, opts: { event?: string[]; since?: number; until?: number; json?: boolean;
    follow?: boolean }) => {
    const out = new TextSink(1, 'standard output');
    try {
      if (opts.follow) {
        const { runViewFollow } = require('./view-follow') as typeof import('./view-follow');
        process.exitCode = await runViewFollow(dir, opts, (line) => out.line(line), () => out.flush());
      } else {
        const { runView } = require('./view') as typeof import('./view');
        process.exitCode = runView(dir, opts, (line) => out.line(line));
      }
      out.flush();
    } catch (e) {
      if (!(e instanceof OutputClosed)) throw e;
    }
  });

program
  .command('top')
  .description('a live view of a running session, refreshed every second: events/s per class, span durations, ' +
    'processes, CPUs, losses, ring fill')
  .argument('[dir]', 'a trace directory being written by `trace-consume record` (instead of -s)')
  .option('-s, --session <name>', 'the session to watch (default: "default"); read beside its recorder or flight ' +
    'recorder, or consumed by top when it has none')
  .option('-w, --window <seconds>', 'rates and span percentiles over this many last seconds', secondsArg, 10)
  .option('--interval <seconds>', 'seconds between refreshes', secondsArg, 1)
  .option('-n, --iterations <count>', 'stop after this many refreshes', positiveInt)
  .addHelpText('after', `
Examples:
  $ trace-consume top -s web                     beside 'trace-consume record -s web' or 'flight -s web'
  $ trace-consume record -o out -- node app.js &  trace-consume top out
  $ RINGTRACE_SESSION=dev node app.js &  trace-consume top -s dev   no recorder: top is the consumer
  $ trace-consume top -s web -n 5 | tee top.txt   not on a terminal: one plain block per refresh

What it shows: events/s per event class (span begin and end records apart), per process and per
CPU; per span name the spans ended per second and their durations (p50, p90, p99, max); events
lost to full rings; each CPU's ring fill. Over the last --window seconds, as top received them.
Beside a recorder or flight recorder it reads the session's rings without consuming anything: the
recording is not changed. With no recorder it consumes the session itself (creating it if need be),
keeping nothing. Given DIR, it follows the directory as 'view --follow' does. On a terminal it
redraws in place (q or Ctrl-C quits); otherwise it prints one block per refresh.`)
  .action(async (dir: string | undefined, opts: { session?: string; window: number; interval: number;
    iterations?: number }) => {
    const { runTop } = require('./top') as typeof import('./top');
    process.exitCode = await runTop(dir, opts);
  });

program
  .command('stats')
  .description('counts per event class and CPU, lost events, bytes, duration and rate of a trace')
  .argument('<dir>', 'trace directory')
  .option('--json', 'print as JSON')
  .addHelpText('after', '\nExamples:\n  $ trace-consume stats out\n  $ trace-consume stats out --json')
  .action((dir: string, opts: { json?: boolean }) => {
    const { computeStats, formatStats } = require('./stats') as typeof import('./stats');
    const s = computeStats(dir);
    process.stdout.write(opts.json ? JSON.stringify(s, null, 2) + '\n' : formatStats(s));
    for (const e of s.errors) process.stderr.write(`trace-consume: ${e}\n`);
    process.exitCode = s.errors.length ? 1 : 0;
  });

program
  .command('export')
  .description('convert a trace for Perfetto UI, chrome://tracing or scripts (streaming), or send it over OTLP')
  .argument('<dir>', 'trace directory')
  .addOption(new Option('-f, --format <format>', 'output format').choices([...FORMATS, 'otlp', 'parquet'])
    .makeOptionMandatory())
  .option('-o, --output <file>', 'output file ("-" for standard output); parquet: a directory; not with otlp')
  .option('--endpoint <url>', 'otlp: the OTLP/HTTP endpoint, e.g. http://localhost:4318 (/v1/traces, /v1/logs, ' +
    '/v1/metrics are added); default: $OTEL_EXPORTER_OTLP_ENDPOINT')
  .option('--header <key=value>', 'otlp: a header on every request, e.g. authorization (repeatable; also ' +
    '$OTEL_EXPORTER_OTLP_HEADERS)', collect)
  .option('--service-name <name>', 'otlp: service.name of every process (default: the app\'s OpenTelemetry ' +
    'resource, else its script name)')
  .addOption(new Option('--compression <kind>', 'otlp: request body compression (default gzip)').choices(['gzip', 'none']))
  .option('-q, --quiet', 'no progress bar or summary')
  .addHelpText('after', `
Formats:
  perfetto  perfetto.protos.Trace protobuf: open it in https://ui.perfetto.dev
  chrome    Chrome trace event JSON: chrome://tracing, Perfetto UI, speedscope
  jsonl     one JSON object per event (timestamp_ns, cpu, pid, tid, provider, event, fields)
  otlp      OTLP/HTTP protobuf to an OpenTelemetry Collector or backend: spans to /v1/traces, events
            outside spans to /v1/logs, counters to /v1/metrics (docs/trace-consume.md)
  parquet   the tables of \`trace-consume query\` (events, spans, counters, processes, threads, lost,
            classes) as <table>.parquet files in the -o directory, for DuckDB, ClickHouse, Spark, Trino

Examples:
  $ trace-consume export out --format perfetto -o out.pftrace
  $ trace-consume export out --format chrome -o out.json
  $ trace-consume export out --format jsonl -o - | jq -c 'select(.event == "request")'
  $ trace-consume export out --format otlp --endpoint http://localhost:4318
  $ trace-consume export out -f parquet -o out-parquet && duckdb -c "SELECT * FROM 'out-parquet/spans.parquet'"
  $ trace-consume export out -f otlp --endpoint https://otlp.example.com --header "authorization=Bearer $TOKEN"`)
  .action(async (dir: string, opts: { format: ExportFormat | 'otlp' | 'parquet'; output?: string; quiet?: boolean;
    endpoint?: string; header?: string[]; serviceName?: string; compression?: 'gzip' | 'none' }) => {
    const { format, output, ...rest } = opts;
    if (format === 'parquet') {
      if (output === undefined || output === '-') throw new UsageError('--format parquet needs -o DIR (a file per table)');
      const { databaseCommand, runParquetExportCommand } = require('./query') as typeof import('./query');
      await databaseCommand(() => runParquetExportCommand(dir, output, rest.quiet));
      return;
    }
    if (format === 'otlp') {
      if (output !== undefined) throw new UsageError('-o is not used with --format otlp (it sends to --endpoint)');
      const { runOtlpExportCommand } = require('./export-otlp') as typeof import('./export-otlp');
      process.exitCode = runOtlpExportCommand(dir, rest);
      return;
    }
    if (output === undefined) throw new UsageError(`--format ${format} needs -o FILE (or -o - for standard output)`);
    const { runExportCommand } = require('./export') as typeof import('./export');
    process.exitCode = runExportCommand(dir, { format, output, ...(rest.quiet ? { quiet: true } : {}) });
  });

program
  .command('query')
  .description('answer questions with SQL over a trace: events, spans, counters, threads, lost (embedded DuckDB)')
  .argument('<dir>', 'trace directory')
  .argument('[sql]', 'the SQL to run (DuckDB\'s dialect); without it, the tables and their row counts')
  .option('--csv', 'print the result as CSV (with a header row)')
  .option('--json', 'print the result as JSON lines (one object per row)')
  .option('-q, --quiet', 'no progress bar while loading')
  .addHelpText('after', `
Tables (times: ns since the epoch; durations: ns):
${TABLE_DOCS.map(([t, c]) => `  ${t.padEnd(10)} ${c}`).join('\n')}

Examples:
  $ trace-consume query out
  $ trace-consume query out "SELECT name, count(*) FROM events GROUP BY ALL ORDER BY 2 DESC"
  $ trace-consume query out "SELECT name, count(*) n, median(dur) / 1e6 AS p50_ms,
      quantile_cont(dur, 0.99) / 1e6 AS p99_ms FROM spans GROUP BY name ORDER BY n DESC"
  $ trace-consume query out "SELECT fields->>'path' AS path, max(dur) FROM spans
      WHERE name = 'request' GROUP BY path" --csv > slow.csv
  $ trace-consume query out "SELECT * FROM spans ORDER BY dur DESC LIMIT 10" --json | jq .fields`)
  .action(async (dir: string, sql: string | undefined, opts: { csv?: boolean; json?: boolean; quiet?: boolean }) => {
    if (opts.csv && opts.json) throw new UsageError('--csv and --json: choose one');
    const { databaseCommand, runQueryCommand } = require('./query') as typeof import('./query');
    await databaseCommand(() => runQueryCommand(dir, sql, opts));
  });

program
  .command('report')
  .description('a trace at a glance: timeline, latency per span name, slowest spans, event rates, GC and ' +
    'event-loop delay, lost events; as one HTML page (-o) or text')
  .argument('<dir>', 'trace directory')
  .option('-o, --output <file>', 'write the report as one self-contained HTML page (0600; "-" for standard ' +
    'output); without it, a text summary')
  .option('-n, --slowest <count>', 'slowest spans listed with their child spans', positiveInt, DEFAULT_LIMITS.slowest)
  .option('--max-spans <count>', 'spans on the page\'s timeline at most (the longest; plus the slowest spans\' ' +
    'trees)', positiveInt, DEFAULT_LIMITS.maxSpans)
  .option('-q, --quiet', 'no progress bar while loading')
  .addHelpText('after', `
The page needs nothing but a browser: its data, script and styles are inside it (no network).
Every number is SQL over the tables of \`trace-consume query\` (docs/trace-consume.md "report").

Examples:
  $ trace-consume report out                        text: latency per span name, slowest spans, rates...
  $ trace-consume report out -o report.html         the page: open it in a browser
  $ trace-consume report out -o report.html -n 50 --max-spans 100000
  $ trace-consume record -o out --auto -- node app.js && trace-consume report out -o out.html`)
  .action(async (dir: string, opts: { output?: string; slowest: number; maxSpans: number; quiet?: boolean }) => {
    const { runReportCommand } = require('./report') as typeof import('./report');
    const { databaseCommand } = require('./query') as typeof import('./query');
    await databaseCommand(() => runReportCommand(dir, opts));
  });

program
  .command('list')
  .description('list your sessions: consumer, attached processes, registered event classes')
  .option('--json', 'print as JSON')
  .addHelpText('after', '\nExamples:\n  $ trace-consume list\n  $ trace-consume list --json')
  .action((opts: { json?: boolean }) => {
    const { formatListing, listSessions } = require('./list') as typeof import('./list');
    const l = listSessions();
    process.stdout.write(opts.json ? JSON.stringify(l, null, 2) + '\n' : formatListing(l));
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  const message = e instanceof Error ? e.message : String(e);
  for (const line of message.split('\n')) process.stderr.write(`trace-consume: ${line}\n`);
  process.exitCode = e instanceof UsageError ? 2 : 1;
});
