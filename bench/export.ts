// Export benchmark: records a trace of N events of every kind (spans,
// events with 3 ints + a string, counters; `fixtures/emitter.js mixed`), then
// times `trace-consume export` to each format in a fresh process and reads
// its peak RSS. Prints
//   bench ringtrace export_<format> events_per_s=… peak_rss_mb=… out_mb=…
// Usage: node dist/bench/export.js [--events N] [--keep] [--trace DIR (reuse a recorded trace)] [--formats a,b]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { arg, helpOnRequest } from './arg';

helpOnRequest();

const root = path.join(__dirname, '..');
const cli = path.join(root, 'cli', 'trace-consume.js');
const emitter = path.join(root, 'fixtures', 'emitter.js');
const events = Number(arg('--events', '10000000'));
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-bench-export-'));
const given = arg('--trace', '');
const trace = given || path.join(base, 'trace');
const formats = arg('--formats', 'jsonl,perfetto,chrome').split(',');

try {
  if (!given) {
    // Paced so that nothing is lost: the benchmark is about reading, not the consumer.
    const rec = spawnSync(process.execPath, [cli, 'record', '-q', '-o', trace, '--subbuffers', '32', '--',
      process.execPath, emitter, 'mixed', String(events), '3000000'], { encoding: 'utf8' });
    if (rec.status !== 0) throw new Error(`record failed: ${rec.stderr}`);
    // The kernel writes the fresh trace back to the disk in the background: let that finish
    // first, or it competes with the first export for the CPUs.
    spawnSync('sync');
  }
  const st = JSON.parse(spawnSync(process.execPath, [cli, 'stats', trace, '--json'], { encoding: 'utf8' }).stdout) as
    { events: number; lost: number; bytes: number };
  console.log(`# trace: ${st.events} events (${st.lost} lost), ${(st.bytes / 1e6).toFixed(0)} MB, ${os.cpus().length} CPUs`);
  for (const format of formats) {
    const out = path.join(base, `out.${format}`);
    const script = `const t=process.hrtime.bigint();process.argv=[process.argv[0],${JSON.stringify(cli)},'export',` +
      `${JSON.stringify(trace)},'-q','-f','${format}','-o',${JSON.stringify(out)}];` +
      `process.on('exit',()=>console.log(JSON.stringify({s:Number(process.hrtime.bigint()-t)/1e9,` +
      `rss:process.resourceUsage().maxRSS})));require(${JSON.stringify(cli)});`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`export ${format} failed: ${r.stderr}`);
    const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as { s: number; rss: number };
    console.log(`bench ringtrace export_${format} events_per_s=${(st.events / m.s).toFixed(0)} ` +
      `seconds=${m.s.toFixed(2)} peak_rss_mb=${(m.rss / 1024).toFixed(0)} out_mb=${(fs.statSync(out).size / 1e6).toFixed(0)}`);
    fs.rmSync(out);
  }
} finally {
  if (process.argv.includes('--keep')) console.log(`# kept ${trace}`);
  else fs.rmSync(base, { recursive: true, force: true });
}
