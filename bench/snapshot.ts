// What the flight recorder's app side costs an app (docs/api.md). Prints
//   ringtrace js snapshot_<case> ns_per_call=<x>
//   ringtrace js heartbeat_cpu us_per_s=<x> (overwrite <a>, discard <b>)
// snapshot cases, timed in chunks of calls (median chunk; every run in a
// fresh process, median of 5): no_session (nothing attached), folded
// (attached, within the 100 ms limit: what an error loop pays per call),
// request (a request each call, the limit bypassed as for a dying thread;
// rings drained untimed between chunks). heartbeat_cpu: the CPU time of an
// idle app attached to an overwrite-mode session (beating every 100 ms)
// minus that of the same app attached to a discard-mode session, per second
// of wall time, over 10 s, median of 3 interleaved pairs.
// Usage: node dist/bench/snapshot.js [--case NAME]
import { spawnSync } from 'node:child_process';
import { currentTracer, loadNative, provider, Session, snapshot } from '../src/index';
import { requestSnapshot } from '../src/snapshot-request';
import { median, timeChunks as timeChunksOf } from './median';
import { helpOnRequest } from './arg';

helpOnRequest();

const CHUNK = 10_000;
const CHUNKS = 31;
const CASES = ['no_session', 'folded', 'request'];
const caseArg = process.argv.indexOf('--case');
const only = caseArg > 0 ? process.argv[caseArg + 1] : undefined;

function timeChunks(body: (n: number) => void, between: () => void = () => {}): number {
  return timeChunksOf(body, between, CHUNK, CHUNKS);
}

function runCase(name: string): number {
  process.env['RINGTRACE_SESSION'] = `bench-snap-${process.pid}`;
  let s: Session | undefined;
  if (name !== 'no_session') s = Session.create(process.env['RINGTRACE_SESSION']);
  try {
    provider('bench').event('e', ['n:u32']); // starts the tracer (and attaches, if s exists)
    if (s && !currentTracer().attached) throw new Error('not attached');
    if (name === 'no_session' || name === 'folded') {
      snapshot('warm'); // the limit's interval starts: every timed call below is folded
      return timeChunks((n) => {
        for (let i = 0; i < n; i++) snapshot('error loop');
      });
    }
    const consumer = s!.consumer();
    const before = s!.snapshotRequests();
    const ns = timeChunks((n) => {
      for (let i = 0; i < n; i++) requestSnapshot('request reason', true);
    }, () => consumer.discard(true));
    if (s!.snapshotRequests() - before !== (CHUNKS + 2) * CHUNK) throw new Error('requests not all counted');
    return ns;
  } finally {
    s?.remove();
    s?.close();
  }
}

/** CPU µs of an idle app attached to a session in `mode` for `seconds`. */
function idleCpu(mode: number, seconds: number): number {
  const name = `bench-beat-${process.pid}-${mode}`;
  const native = loadNative();
  const created = native.create(name, 1 << 16, 2, mode ? 'overwrite' : 'discard');
  try {
    const app = `const { provider } = require(${JSON.stringify(require.resolve('../src/index'))});
      provider('bench').event('e', ['n:u32']);
      const start = process.cpuUsage();
      setTimeout(() => { const u = process.cpuUsage(start); console.log(u.user + u.system); }, ${seconds * 1000});`;
    const r = spawnSync(process.execPath, ['-e', app], { env: { ...process.env, RINGTRACE_SESSION: name }, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return Number(r.stdout.trim());
  } finally {
    Session.open(name).remove();
    native.close(created);
  }
}

if (only) {
  console.log(runCase(only));
} else {
  for (const name of CASES) {
    const runs = Array.from({ length: 5 }, () => {
      const r = spawnSync(process.execPath, [__filename, '--case', name], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${name}: ${r.stderr}`);
      return Number(r.stdout.trim());
    });
    console.log(`ringtrace js snapshot_${name} ns_per_call=${median(runs).toFixed(1)} runs=${runs.map((x) => x.toFixed(1)).join(',')}`);
  }
  const SECONDS = 10;
  const pairs = Array.from({ length: 3 }, () => [idleCpu(1, SECONDS), idleCpu(0, SECONDS)] as const);
  const diff = median(pairs.map(([o, d]) => (o - d) / SECONDS));
  console.log(`ringtrace js heartbeat_cpu us_per_s=${diff.toFixed(1)} (overwrite ${pairs.map((p) => p[0]).join(',')} µs, ` +
    `discard ${pairs.map((p) => p[1]).join(',')} µs, over ${SECONDS} s)`);
}
