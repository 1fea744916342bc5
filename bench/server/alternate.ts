// bench:http --alternate (with --rate): a server process per tool, --replicas
// of each (untraced ones too), all started and warmed up at once; then the
// load (steady-load.ts, --rate) goes to one process at a time for --window ms:
// an untraced process, a traced one, an untraced one, ..., every traced
// process once per round in a new order. One process per tool and run
// (--fresh) compared tools minutes apart, while this host's speed drifts by
// several µs per request within a minute; here each traced window is
// compared with the untraced windows just before and after it, and each
// process is measured many times, so what stays is the process's own cost
// (its JIT outcome included: compare the replicas). Requests arrive evenly
// here, one at a time, where --fresh's autocannon sends each second's in a
// burst: a tool's cost per request reads higher here, and falls as the rate
// rises (requests then come back to back, on code still in the caches).
// A window's CPU per request is its process's CPU from the start of the
// window to TAIL_MS after its end (the work a tool leaves to V8's helper
// threads counted; read while the next window runs) over its requests.
// Separate processes keep one tool's leftovers off another's account. A
// process idle for more than 8 s would run V8's memory reducer (full
// collections to shrink the heap, which a server under steady load never
// does), so the servers run without it (--no-memory-reducer).
import { median } from '../median';
import { processCpuUs, sleep } from './harness';
import { checkArrivals, type Server, startServer, stats } from './processes';
import { steadyLoad } from './steady-load';

export interface AlternatePlan {
  tools: string[];
  replicas: number;
  rate: number;
  windowMs: number;
  rounds: number;
  warmupSeconds: number;
  pin: boolean;
  /** Whether a tool's records go through the recorder (its CPU is then the tool's). */
  recorded: (tool: string) => boolean;
  order: <T>(xs: T[]) => T[];
  log: (line: string) => void;
}

interface PerRequest { cpu: number; user: number; main: number; recorder: number }

interface Proc { tool: string; server: Server }

export interface AlternateResult {
  /** Per tool, per window of its: its CPU per request minus the mean of the untraced windows either side (µs). */
  added: Map<string, PerRequest[]>;
  /** Per tool: each process's median added CPU per request. */
  perProcess: Map<string, number[]>;
  /** False if some process's records did not all arrive (logged). */
  complete: boolean;
}

const TAIL_MS = 1000;

async function loadFor(p: Proc, rate: number, ms: number): Promise<void> {
  const load = await steadyLoad(p.server.port, rate);
  await sleep(ms);
  const r = await load.stop();
  if (r.errors) throw new Error(`${p.tool}: ${r.errors} responses were not 200`);
}

export async function runAlternating(plan: AlternatePlan): Promise<AlternateResult> {
  const procs: Proc[] = [];
  for (const tool of ['none', ...plan.tools]) {
    for (let r = 0; r < plan.replicas; r++) {
      procs.push({ tool, server: await startServer(plan.pin, tool, ['--no-memory-reducer']) });
    }
  }
  for (const p of procs) await loadFor(p, plan.rate, plan.warmupSeconds * 1000); // the JIT and the heap settle
  plan.log(`# ${procs.length} processes warmed up (${plan.warmupSeconds} s each)`);
  // Every round: each traced process once, in a new order, with an untraced window before and after each.
  const untraced = procs.filter((p) => p.tool === 'none');
  const traced = procs.filter((p) => p.tool !== 'none');
  const sequence: Proc[] = [];
  for (let round = 0; round < plan.rounds; round++) {
    for (const p of plan.order(traced)) sequence.push(untraced[sequence.length % untraced.length]!, p);
  }
  sequence.push(untraced[sequence.length % untraced.length]!);
  const values: PerRequest[] = [];
  const tails: Promise<void>[] = [];
  for (const [i, p] of sequence.entries()) {
    const start = await stats(p.server);
    const recorderBefore = processCpuUs(p.server.recorder.pid!);
    await loadFor(p, plan.rate, plan.windowMs);
    const recorderUs = plan.recorded(p.tool) ? processCpuUs(p.server.recorder.pid!) - recorderBefore : 0;
    // (a process comes back one window later at the soonest: its tail is read before that)
    tails.push(sleep(Math.min(TAIL_MS, plan.windowMs / 2)).then(() => stats(p.server)).then((end) => {
      const n = end.served - start.served;
      values[i] = { cpu: (end.cpuUs - start.cpuUs) / n, user: (end.userUs - start.userUs) / n,
        main: (end.mainUs - start.mainUs) / n, recorder: recorderUs / n };
    }));
    if (i % 40 === 39) plan.log(`# ${i + 1} of ${sequence.length} windows`);
  }
  await Promise.all(tails);
  let complete = true;
  for (const p of procs) {
    for (const [tool, how] of await checkArrivals(p.server, true)) {
      if (how === 'all') continue;
      plan.log(`# ${p.tool} process: ${tool}: ${how}`);
      complete = false;
    }
  }
  return { ...addedOf(sequence, values, plan.tools), complete };
}

function addedOf(sequence: Proc[], values: PerRequest[], tools: string[]): Omit<AlternateResult, 'complete'> {
  const added = new Map<string, PerRequest[]>(tools.map((t) => [t, []]));
  const byProcess = new Map<Proc, number[]>();
  for (let i = 1; i + 1 < sequence.length; i += 2) { // traced windows sit at odd places, untraced around them
    const [before, w, after] = [values[i - 1]!, values[i]!, values[i + 1]!];
    const base = (k: keyof PerRequest) => (before[k] + after[k]) / 2;
    const a = { cpu: w.cpu - base('cpu'), user: w.user - base('user'), main: w.main - base('main'), recorder: w.recorder };
    added.get(sequence[i]!.tool)!.push(a);
    const mine = byProcess.get(sequence[i]!) ?? [];
    byProcess.set(sequence[i]!, [...mine, a.cpu]);
  }
  const perProcess = new Map<string, number[]>(tools.map((t) => [t, []]));
  for (const [p, xs] of byProcess) perProcess.get(p.tool)!.push(median(xs));
  return { added, perProcess };
}
