// OTLP export benchmark: records a trace of N request spans (bench/otlp-app.ts:
// typed fields, one event inside each), then times `trace-consume export -f
// otlp` to an endpoint in another process (bench/otlp-sink.ts) in a fresh
// process per run, gzip and none alternating, and reads its peak RSS (the
// sender thread included). Prints
//   bench ringtrace otlp_<compression> spans_per_s=… seconds=… peak_rss_mb=… wire_mb=…
// and, for reference, OpenTelemetry JS's own OTLP serializer on like spans
// (bench/otlp-otel-serializer.ts: serialization alone, in this process's CPU).
// Usage: node dist/bench/otlp.js [--spans N] [--events E per span (1)] [--rounds R] [--trace DIR (reuse)] [--keep]
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { median } from './median';
import { arg, helpOnRequest } from './arg';

helpOnRequest();

const root = path.join(__dirname, '..');
const cli = path.join(root, 'cli', 'trace-consume.js');
const spans = Number(arg('--spans', '1000000'));
const eventsPerSpan = Number(arg('--events', '1'));
const rounds = Number(arg('--rounds', '3'));
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-bench-otlp-'));
const given = arg('--trace', '');
const trace = given || path.join(base, 'trace');

async function startSink(): Promise<{ url: string; stop: () => Promise<{ requests: number; bytes: number }> }> {
  const p = spawn(process.execPath, [path.join(__dirname, 'otlp-sink.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const port = await new Promise<string>((resolve) => p.stdout.on('data', () => {
    if (out.includes('\n')) resolve(out.split('\n')[0]!);
  }));
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => {
      p.on('close', () => resolve(JSON.parse(out.trim().split('\n').pop()!)));
      p.kill('SIGTERM');
    }),
  };
}

async function main(): Promise<void> {
  if (!given) {
    const rec = spawnSync(process.execPath, [cli, 'record', '-q', '-o', trace, '--subbuffers', '32', '--',
      process.execPath, path.join(__dirname, 'otlp-app.js'), String(spans), String(eventsPerSpan)], { encoding: 'utf8' });
    if (rec.status !== 0) throw new Error(`record failed: ${rec.stderr}`);
    spawnSync('sync');
  }
  const stats = spawnSync(process.execPath, [cli, 'stats', trace, '--json'], { encoding: 'utf8' });
  if (stats.status !== 0) throw new Error(`${given ? '--trace ' : ''}${trace}: no trace to export (${String(stats.stderr ?? stats.error).trim()})`);
  const st = JSON.parse(stats.stdout) as { events: number; lost: number; bytes: number; perClass: Record<string, number> };
  const clock = fs.readFileSync('/sys/devices/system/clocksource/clocksource0/current_clocksource', 'utf8').trim();
  console.log(`# trace: ${st.events} events (${st.lost} lost), ${(st.bytes / 1e6).toFixed(0)} MB; ${os.cpus().length} CPUs, ` +
    `clocksource ${clock}, Node ${process.version}`);
  const results: Record<string, { s: number[]; rss: number[]; wire: number[]; spans: number }> = {};
  for (let r = 0; r < rounds; r++) {
    for (const compression of r % 2 ? ['none', 'gzip'] : ['gzip', 'none']) {
      const sink = await startSink();
      const script = `const t=process.hrtime.bigint();process.argv=[process.argv[0],${JSON.stringify(cli)},'export',` +
        `${JSON.stringify(trace)},'-q','-f','otlp','--endpoint','${sink.url}','--compression','${compression}'];` +
        `process.on('exit',()=>console.log(JSON.stringify({s:Number(process.hrtime.bigint()-t)/1e9,` +
        `rss:process.resourceUsage().maxRSS})));require(${JSON.stringify(cli)});`;
      const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, ['-e', script]);
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
        p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
        p.on('close', (code) => resolve({ code, stdout, stderr }));
      });
      const got = await sink.stop();
      if (out.code !== 0) throw new Error(`export failed: ${out.stderr}`);
      const m = JSON.parse(out.stdout.trim().split('\n').pop()!) as { s: number; rss: number };
      const res = results[compression] ??= { s: [], rss: [], wire: [], spans: 0 };
      res.s.push(m.s);
      res.rss.push(m.rss / 1024);
      res.wire.push(got.bytes / 1e6);
      console.log(`# round ${r + 1} ${compression}: ${m.s.toFixed(2)} s, peak RSS ${(m.rss / 1024).toFixed(0)} MB, ` +
        `${got.requests} requests, ${(got.bytes / 1e6).toFixed(1)} MB on the wire`);
    }
  }
  const n = st.perClass['bench:request:end'] ?? 0; // the spans the trace holds (a --trace given: whatever it was made with)
  for (const [c, r] of Object.entries(results)) {
    const s = median(r.s);
    console.log(`bench ringtrace otlp_${c} spans_per_s=${(n / s).toFixed(0)} seconds=${s.toFixed(2)} ` +
      `peak_rss_mb=${Math.max(...r.rss).toFixed(0)} wire_mb=${median(r.wire).toFixed(1)}`);
  }
  const ref = spawnSync(process.execPath, [path.join(__dirname, 'otlp-otel-serializer.js')], { encoding: 'utf8' });
  process.stdout.write(ref.stdout);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
}).finally(() => {
  if (process.argv.includes('--keep')) console.log(`# kept ${trace}`);
  else if (!given) fs.rmSync(base, { recursive: true, force: true });
});
