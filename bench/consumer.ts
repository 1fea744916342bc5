// Consumer drain-rate benchmark: `trace-consume record` drains one JS thread
// that emits 'fixture:tick' (u32 + short string, 40-byte records) for a few
// seconds, into a trace on disk and into tmpfs (/dev/shm, which takes the
// disk out of the picture), flat out and at fixed paces. Each case prints
//   bench ringtrace consumer_<target>_<pace> written_per_s=… mb_per_s=… lost=… emitted=…
// and checks the accounting: emitted == written + lost, exactly.
// Usage: node dist/bench/consumer.js [--seconds S] [--quick]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { helpOnRequest } from './arg';

helpOnRequest();

const root = path.join(__dirname, '..');
const cli = path.join(root, 'cli', 'trace-consume.js');
const emitter = path.join(root, 'fixtures', 'emitter.js');
const quick = process.argv.includes('--quick');
const secArg = process.argv.indexOf('--seconds');
const seconds = secArg > 0 ? Number(process.argv[secArg + 1]) : quick ? 3 : 10;

interface Stats { events: number; bytes: number; lost: number; durationS: number }

function runCase(target: string, pace: number | undefined): boolean {
  const base = fs.mkdtempSync(path.join(target, 'rt-bench-consumer-'));
  const out = path.join(base, 'trace');
  try {
    const args = [cli, 'record', '-q', '-o', out, '--', process.execPath, emitter, 'blast', String(seconds)];
    if (pace) args.push(String(pace));
    const rec = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (rec.status !== 0) throw new Error(`record failed: ${rec.stderr}`);
    const emitted = Number(/emitted (\d+)/.exec(rec.stdout)?.[1]);
    const st = spawnSync(process.execPath, [cli, 'stats', out, '--json'], { encoding: 'utf8' });
    if (st.status !== 0) throw new Error(`stats failed: ${st.stderr}`);
    const s = JSON.parse(st.stdout) as Stats;
    const ok = emitted === s.events + s.lost;
    const where = target === '/dev/shm' ? 'tmpfs' : 'disk';
    const name = `consumer_${where}_${pace ? `${pace / 1e6}M` : 'max'}`;
    console.log(`bench ringtrace ${name} written_per_s=${(s.events / seconds).toFixed(0)} ` +
      `mb_per_s=${(s.bytes / seconds / 1e6).toFixed(1)} lost=${s.lost} ` +
      `lost_pct=${((100 * s.lost) / Math.max(emitted, 1)).toFixed(2)} emitted=${emitted} ` +
      `accounting=${ok ? 'exact' : `MISMATCH(${emitted} != ${s.events} + ${s.lost})`}`);
    return ok;
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}

const paces = quick ? [undefined, 4e6] : [undefined, 12e6, 8e6, 4e6];
let ok = true;
console.log(`# ${os.cpus().length} CPUs, ${seconds} s per case, default buffers (8 x 512 KiB per CPU)`);
for (const target of [os.tmpdir(), '/dev/shm']) {
  for (const pace of paces) ok = runCase(target, pace) && ok;
}
if (!ok) {
  console.error('accounting mismatch: emitted != written + lost');
  process.exit(1);
}
