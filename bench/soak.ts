// Soak test (`npm run soak`, not part of npm test): for --minutes (default 10)
// several processes with worker threads emit paced events while `taskset`
// keeps moving them between CPUs (migrations, also mid-record: remote
// commits); `trace-consume record` drains them. Checks at the end, exactly:
// every thread's events are in the trace once each, in order, or counted lost
// (emitted == delivered + lost), no stream is damaged, and the memory of the
// recorder and of the traced processes stayed flat. Exit status 1 if not.
// Usage: node dist/bench/soak.js [--minutes M] [--processes P] [--threads T] [--rate R]
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openCursors } from '../src/trace/cursor';
import { mergeCursors } from '../src/trace/merge';
import { openTrace } from '../src/trace/reader';
import { helpOnRequest } from './arg';

helpOnRequest();

const root = path.join(__dirname, '..');
const cli = path.join(root, 'cli', 'trace-consume.js');
const emitter = path.join(root, 'fixtures', 'emitter.js');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const minutes = arg('--minutes', 10);
const processes = arg('--processes', 3);
const workers = arg('--threads', 2); // worker threads per process, besides the main one
const rate = arg('--rate', 20000); // events/s per thread
const seconds = Math.round(minutes * 60);
const log = (m: string) => console.log(`# ${m}`);

const rssMb = (pid: number): number => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
};
const descendants = (pid: number): number[] => {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(p), ...descendants(Number(p)));
    } catch {
      // gone
    }
  }
  return out;
};

async function main(): Promise<number> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-soak-'));
  const out = path.join(work, 'trace');
  const cpus = os.cpus().length;
  log(`${minutes} min, ${processes} processes x ${workers + 1} threads x ${rate} events/s, ${cpus} CPUs, trace in ${out}`);
  const driver = `
    const { spawn } = require('node:child_process');
    const kids = Array.from({ length: ${processes} }, () => new Promise((resolve) => {
      const p = spawn(process.execPath, [${JSON.stringify(emitter)}, 'soak', '${seconds}', '${rate}', '${workers}'],
        { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      p.stdout.on('data', (d) => { text += d; });
      p.on('exit', (code, signal) => resolve(/soak (.*)/.exec(text)?.[1] ??
        JSON.stringify({ ['emitter ' + p.pid + ' failed: ' + (signal || code)]: -1 })));
    }));
    Promise.all(kids).then((counts) => console.log('counts ' + JSON.stringify(Object.assign({},
      ...counts.map((c) => JSON.parse(c))))));`;
  const rec = spawn(process.execPath, [cli, 'record', '-q', '-o', out, '--', process.execPath, '-e', driver],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let recOut = '';
  rec.stdout.on('data', (d: Buffer) => { recOut += d.toString(); });
  const done = new Promise<number>((resolve) => rec.on('exit', (code) => resolve(code ?? 1)));

  // Migrations: every 200 ms move one traced process (all its threads) to another CPU set.
  const haveTaskset = spawnSync('taskset', ['--version']).status === 0;
  let moves = 0;
  const mover = setInterval(() => {
    if (!haveTaskset || cpus < 2) return;
    const kids = descendants(rec.pid!).filter((p) => p !== rec.pid);
    const victim = kids[Math.floor(Math.random() * kids.length)];
    if (victim === undefined) return;
    const cpu = Math.floor(Math.random() * cpus);
    const set = Math.random() < 0.3 ? `0-${cpus - 1}` : String(cpu);
    if (spawnSync('taskset', ['-a', '-p', '-c', set, String(victim)]).status === 0) moves++;
  }, 200);
  const rss: { t: number; recorder: number; traced: number }[] = [];
  const sampler = setInterval(() => {
    const kids = descendants(rec.pid!);
    rss.push({ t: rss.length * 10, recorder: rssMb(rec.pid!),
      traced: Math.max(0, ...kids.map(rssMb).filter((x) => Number.isFinite(x))) });
    const last = rss[rss.length - 1]!;
    log(`${last.t} s: recorder RSS ${last.recorder.toFixed(0)} MB, largest traced process ${last.traced.toFixed(0)} MB, ` +
      `${moves} CPU moves`);
  }, 10_000);
  const code = await done;
  clearInterval(mover);
  clearInterval(sampler);
  if (code !== 0) {
    log(`record failed with status ${code}`);
    return 1;
  }
  const emitted = JSON.parse(/counts (.*)/.exec(recOut)?.[1] ?? '{}') as Record<string, number>;
  const failed = Object.keys(emitted).filter((k) => emitted[k]! < 0);
  if (failed.length || !Object.keys(emitted).length) {
    log(`traced processes failed: ${failed.join('; ') || 'no counts printed'}`);
    return 1;
  }

  // Exact accounting, per thread: sequence numbers 0..n-1, each once, in order.
  const trace = openTrace(out);
  const { cursors } = openCursors(trace);
  const next = new Map<string, number>();
  const values: (string | number | bigint | boolean | Buffer)[] = [];
  let delivered = 0;
  let backwards = 0; // a sequence number again or earlier: a duplicate or reordering, never allowed
  let gaps = 0; // sequence numbers skipped: must be exactly the events counted lost
  const errors: string[] = [];
  mergeCursors(cursors, (e) => errors.push(e.message), (c) => {
    if (c.cls.name !== 'tick') return;
    c.values(values, true);
    const tag = values[1] as string;
    const seq = values[0] as number;
    const expected = next.get(tag) ?? 0;
    if (seq < expected) backwards++;
    else gaps += seq - expected;
    next.set(tag, Math.max(expected, seq + 1));
    delivered++;
  });
  const sidecar = trace.sidecar as { totals: { lost: number; remoteCommits: number; events: number } };
  const lost = sidecar.totals.lost;
  const total = Object.values(emitted).reduce((a, b) => a + b, 0);
  for (const [tag, n] of Object.entries(emitted)) gaps += n - (next.get(tag) ?? 0); // lost at the end
  const steady = rss.slice(Math.min(6, rss.length - 1)); // after the first minute
  const growth = (k: 'recorder' | 'traced') =>
    steady.length ? Math.max(...steady.map((r) => r[k])) - Math.min(...steady.map((r) => r[k])) : 0;
  const ok = errors.length === 0 && backwards === 0 && gaps === lost && total === delivered + lost &&
    growth('recorder') < 32 && growth('traced') < 32;
  console.log(`soak minutes=${minutes} threads=${Object.keys(emitted).length} emitted=${total} delivered=${delivered} ` +
    `lost=${lost} gaps=${gaps} backwards=${backwards} stream_errors=${errors.length} cpu_moves=${moves} ` +
    `remote_commits=${sidecar.totals.remoteCommits} recorder_rss_growth_mb=${growth('recorder').toFixed(1)} ` +
    `traced_rss_growth_mb=${growth('traced').toFixed(1)} result=${ok ? 'ok' : 'FAILED'}`);
  for (const e of errors) log(e);
  if (ok) fs.rmSync(work, { recursive: true, force: true });
  else log(`kept ${work}`);
  return ok ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (e: Error) => {
  console.error(e);
  process.exitCode = 1;
});
