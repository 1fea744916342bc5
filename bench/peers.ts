// `npm run bench`: ringtrace side by side with what a user would otherwise
// pick, in one run on one machine, same event shapes everywhere (three
// integers and a short string; a span begin/end pair). Prints each case as
//   bench <tool> <case> ns_per_event=<x> ...
// then a table of ratios. C: ringtrace's C API vs LTTng-UST (native/bench/peers,
// LTTng's session daemon started and stopped here, tracing into a temp dir;
// skipped with a hint when lttng-tools / liblttng-ust-dev are missing). JS:
// ringtrace's JS API vs pino, OpenTelemetry, diagnostics_channel and
// performance.mark (bench/js-peers.ts). Every case checks that nothing was
// lost at default settings and prints the count. Benchmarks never fail on a time.
// Usage: node dist/bench/peers.js [--quick] [--no-js] [--no-c] [--no-scaling]
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { helpOnRequest } from './arg';

helpOnRequest();

const root = path.join(__dirname, '..', '..');
const nativeDir = path.join(root, 'native');
const quick = process.argv.includes('--quick');
const results = new Map<string, Record<string, string>>(); // "tool case" -> fields

function record(line: string): void {
  const m = /^bench (\S+) (\S+) (.*)$/.exec(line.trim());
  if (!m) return;
  const fields: Record<string, string> = {};
  for (const kv of m[3]!.split(' ')) {
    const [k, v] = kv.split('=');
    if (k && v !== undefined) fields[k] = v;
  }
  results.set(`${m[1]} ${m[2]}`, fields);
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

function printLines(text: string, extra: (line: string) => string = () => ''): void {
  for (const line of text.split('\n').filter((l) => l.startsWith('bench '))) {
    const full = line + extra(line);
    console.log(full);
    record(full);
  }
}

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function lttngCases(bin: string): void {
  if (!have('lttng') || !have('lttng-sessiond') || !fs.existsSync(bin)) {
    console.log('# skipped lttng-ust: not installed (apt-get install lttng-tools liblttng-ust-dev)');
    return;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-bench-lttng-'));
  const env = { ...process.env, LTTNG_HOME: tmp };
  // Its own LTTNG_HOME keeps a user's daemon files out of theirs; root's daemon lives in /var/run/lttng.
  const pidFiles = [path.join(tmp, '.lttng', 'lttng-sessiond.pid'), '/var/run/lttng/lttng-sessiond.pid'];
  const started = spawnSync('lttng-sessiond', ['--daemonize', '--quiet'], { env, encoding: 'utf8' }).status === 0;
  const session = `rtbench-${process.pid}`;
  const args = quick ? ['--quick'] : [];
  try {
    // Disabled first: the session daemon runs, no tracing session enables the event.
    printLines(run(bin, [...args, 'disabled'], env));
    run('lttng', ['create', session, `--output=${path.join(tmp, 'trace')}`], env);
    run('lttng', ['enable-event', '--userspace', 'rtbench:*', '--session', session], env);
    run('lttng', ['start', session], env);
    const out = run(bin, [...args, 'request_1thread', 'request_2threads', 'span_pair'], env);
    run('lttng', ['stop', session], env);
    run('lttng', ['destroy', session], env);
    // Losses: what the trace holds against what was emitted (LTTng's discard mode drops when full).
    let recorded = NaN;
    if (have('babeltrace2')) {
      const counts = run('babeltrace2', [path.join(tmp, 'trace'), '-c', 'sink.utils.counter']);
      const all = [...counts.matchAll(/(\d+) Event messages/g)];
      recorded = Number(all[all.length - 1]?.[1]);
    }
    const emitted = [...out.matchAll(/emitted=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    const lost = Number.isNaN(recorded) ? 'unknown(no babeltrace2)' : String(emitted - recorded);
    printLines(out);
    console.log(`# lttng-ust: emitted ${emitted}, in its trace ${recorded}, lost ${lost} (all three cases together)`);
    for (const c of ['request_1thread', 'request_2threads', 'span_pair']) {
      const f = results.get(`lttng-ust ${c}`);
      if (f) f['lost'] = lost;
    }
  } finally {
    const pidFile = pidFiles.find((f) => fs.existsSync(f));
    if (started && pidFile) {
      try {
        process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGTERM');
      } catch {
        // already gone
      }
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function cCases(): void {
  execFileSync('make', ['-s', '-C', nativeDir, 'bench-peers'], { stdio: 'inherit' });
  printLines(run(path.join(nativeDir, 'build', 'peers_ringtrace'), quick ? ['--quick'] : []));
  lttngCases(path.join(nativeDir, 'build', 'peers_lttng'));
}

function jsCases(): void {
  const script = path.join(__dirname, 'js-peers.js');
  if (!fs.existsSync(script)) {
    console.log('# skipped JS peers: bench/js-peers.ts not built');
    return;
  }
  printLines(run(process.execPath, [script, ...(quick ? ['--quick'] : [])]));
}

/** Scaling and mechanism costs from the other benchmarks, quick runs (their docs have full runs). */
function scalingCases(): void {
  console.log('# scaling and mechanism (quick runs of bench:native, bench:js, bench:consumer):');
  const native = run(path.join(nativeDir, 'build', 'bench_native'), ['--quick', 'emit_3u64_1thread', 'emit_3u64_2threads',
    'emit_3u64_fallback', 'commit_local', 'commit_remote']);
  for (const l of native.split('\n').filter((x) => x.startsWith('ringtrace native '))) console.log(l);
  const js = run(process.execPath, [path.join(__dirname, 'js.js'), '--quick', 'enabled_3ints_string', 'enabled_2workers']);
  for (const l of js.split('\n').filter((x) => x.startsWith('ringtrace js '))) console.log(l);
  const drain = run(process.execPath, [path.join(__dirname, 'consumer.js'), '--quick']);
  for (const l of drain.split('\n').filter((x) => x.startsWith('bench '))) console.log(l);
  // The consumer is not in any timed loop above (rings are drained between chunks, untimed):
  // what it costs, on another CPU, per record it moves.
  printLines(run(process.execPath, [path.join(__dirname, 'recorder.js'), '--seconds', '5']));
  // Memory per CPU at default settings: both rings of a CPU (rseq + atomic fallback), all preallocated.
  const { Session } = require('../src/index') as typeof import('../src/index');
  const s = Session.create(`bench-mem-${process.pid}`, {});
  const perCpu = (2 * s.info.nSub * s.info.subSize) / (1 << 20);
  console.log(`bench ringtrace memory_per_cpu mib=${perCpu} sub_buffers=${s.info.nSub}x${s.info.subSize / 1024}KiB ` +
    `rings_per_cpu=2 cpus=${s.info.nCpus}`);
  s.remove();
  s.close();
}

function ratio(tool: string, peer: string, c: string, peerCase = c): string {
  const a = Number(results.get(`${tool} ${c}`)?.['ns_per_event']);
  const b = Number(results.get(`${peer} ${peerCase}`)?.['ns_per_event']);
  return Number.isFinite(a) && Number.isFinite(b) && a > 0 ? `${(b / a).toFixed(1)}x` : 'n/a';
}

function table(): void {
  const rows: [string, string, string, string, string][] = [
    ['C: 3 ints + string', 'ringtrace-c', 'lttng-ust', 'request_1thread', '>= 5x'],
    ['C: span begin+end', 'ringtrace-c', 'lttng-ust', 'span_pair', ''],
    ['C: 2 threads (per thread)', 'ringtrace-c', 'lttng-ust', 'request_2threads', ''],
    ['C: disabled call site', 'ringtrace-c', 'lttng-ust', 'disabled', ''],
    ['JS: 3 ints + string vs pino to a file', 'ringtrace-js', 'pino', 'request', '>= 50x'],
    ['JS: 3 ints + string vs pino to a file, asynchronous destination (sync: false)', 'ringtrace-js', 'pino_async',
      'request', ''],
    ['JS: span, 4 typed fields (spanType) vs OpenTelemetry span, 4 attributes', 'ringtrace-js', 'otel', 'span_typed',
      '>= 30x'],
    ['JS: span, 4 fields as JSON (span(name, fields)) vs OpenTelemetry span', 'ringtrace-js', 'otel', 'span', ''],
    ['JS: vs diagnostics_channel (1 subscriber)', 'ringtrace-js', 'diagnostics_channel', 'request', ''],
    ['JS: vs performance.mark', 'ringtrace-js', 'performance_mark', 'request', ''],
    ['JS: disabled vs pino below its level', 'ringtrace-js', 'pino', 'disabled', ''],
    ['JS: disabled vs OpenTelemetry no-op', 'ringtrace-js', 'otel', 'disabled', ''],
    ['JS: disabled vs diagnostics_channel, no subscriber', 'ringtrace-js', 'diagnostics_channel', 'disabled', ''],
  ];
  const ns = (k: string) => results.get(k)?.['ns_per_event'] ?? '-';
  console.log('\n| comparison | ringtrace ns | peer ns | peer / ringtrace | goal |');
  console.log('|---|---:|---:|---:|---|');
  for (const [label, tool, peer, c, target] of rows) {
    const pc = c === 'span_typed' ? 'span' : c; // the peer's span case serves both ringtrace span cases
    if (!results.has(`${tool} ${c}`) && !results.has(`${peer} ${pc}`)) continue;
    console.log(`| ${label} | ${ns(`${tool} ${c}`)} | ${ns(`${peer} ${pc}`)} | ${ratio(tool, peer, c, pc)} | ${target} |`);
    // the same two tools measured in one process, in turn (js-peers.ts pair())
    const p = results.get(`pair ${tool}_${c}_vs_${peer}_${pc}`);
    if (p) console.log(`| ${label}, in one process in turn | ${p['ns_per_event']} | ${p['peer_ns_per_event']} | ` +
      `${Number(p['ratio']).toFixed(1)}x | ${target} |`);
  }
  const one = Number(results.get('ringtrace-c request_1thread')?.['events_per_s']);
  const two = Number(results.get('ringtrace-c request_2threads')?.['events_per_s']);
  if (one && two) console.log(`\nringtrace-c 2 threads: ${(two / one).toFixed(2)}x the throughput of 1 (goal >= 1.8x)`);
  const rec = results.get('ringtrace recorder_server');
  if (rec) console.log(`ringtrace's recorder (not in the timed loops): ${rec['cpu_ns_per_record']} ns of another CPU ` +
    `per record under a node:http server, ${results.get('ringtrace recorder_idle')?.['cpu_pct'] ?? '?'} % of a CPU idle`);
  const l1 = Number(results.get('lttng-ust request_1thread')?.['events_per_s']);
  const l2 = Number(results.get('lttng-ust request_2threads')?.['events_per_s']);
  if (l1 && l2) console.log(`lttng-ust 2 threads: ${(l2 / l1).toFixed(2)}x the throughput of 1`);
  const lossy = [...results].filter(([, f]) => f['lost'] !== undefined && f['lost'] !== '0');
  console.log(lossy.length ? `LOSSES: ${lossy.map(([k, f]) => `${k} lost=${f['lost']}`).join(', ')}`
    : 'no events lost in any case (checked per case)');
}

console.log(`# ${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} CPUs, node ${process.version}, ${os.release()}`);
if (!process.argv.includes('--no-c')) cCases();
if (!process.argv.includes('--no-js')) jsCases();
if (!process.argv.includes('--no-scaling')) scalingCases();
table();
