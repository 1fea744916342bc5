// bench:http at a fixed request rate (--rate R): one steady load
// (steady-load.ts) holds the rate throughout, while the server switches tools every --window ms: none,
// a tool, none, another tool, none, ... (the tools in a new order every
// round). Each tool's window is compared with the untraced windows just before
// and after it: this host's speed drifts over seconds, so short windows close
// together compare work, where separate multi-second runs differed by ±4 µs per
// request between neighbours. No window includes a switch: the server reports
// its counters as a run ends (after the tool's deferred work) and as the next
// starts (after a collection), see app.ts /mode.
import { sleep } from './harness';
import { steadyLoad } from './steady-load';

/**
 * The server's requests served and CPU time so far: all its threads (user +
 * system; user alone) and its main thread alone (without V8's and libuv's
 * helper threads, whose work comes and goes: its windows spread 2-3x less).
 */
export interface Counters { served: number; cpuUs: number; userUs: number; mainUs: number }
export interface Window { tool: string; served: number; cpuUs: number; userUs: number; mainUs: number; recorderUs: number }

export interface WindowPlan {
  url: (path: string) => string;
  port: number;
  rate: number;
  windowMs: number;
  rounds: number;
  /** The tools in the order of one round; 'none' goes between them. */
  order: (round: number) => string[];
  /**
   * Untraced windows after each tool's (default 1). With 2, the first takes
   * what the tool left behind and the second is clean: see withLeftover.
   */
  trailing?: number;
  /** The recorder's CPU time so far, in µs. */
  recorderCpuUs: () => number;
  log: (line: string) => void;
}

async function switchTo(plan: WindowPlan, tool: string): Promise<{ end: Counters; start: Counters }> {
  // none_control: untraced like none, and measured as a tool (what two untraced windows differ by).
  const res = await fetch(plan.url(`/mode?tool=${tool === 'none_control' ? 'none' : tool}`));
  if (!res.ok) throw new Error(`cannot switch to ${tool}: ${await res.text()}`);
  return await res.json() as { end: Counters; start: Counters };
}

/** Run the plan: the windows in order, each with its requests served and CPU used. */
export async function runWindows(plan: WindowPlan): Promise<Window[]> {
  const sequence: string[] = [];
  const trailing = plan.trailing ?? 1;
  sequence.push('none');
  for (let round = 0; round < plan.rounds; round++) {
    for (const tool of plan.order(round)) {
      sequence.push(tool);
      for (let k = 0; k < trailing; k++) sequence.push('none');
    }
  }
  const load = await steadyLoad(plan.port, plan.rate);
  const windows: Window[] = [];
  try {
    await sleep(1000); // the load at its rate
    let { start } = await switchTo(plan, sequence[0]!);
    let recorderStart = plan.recorderCpuUs();
    for (let i = 0; i < sequence.length; i++) {
      await sleep(plan.windowMs);
      const recorderEnd = plan.recorderCpuUs();
      const next = await switchTo(plan, sequence[i + 1] ?? 'none');
      windows.push({ tool: sequence[i]!, served: next.end.served - start.served, cpuUs: next.end.cpuUs - start.cpuUs,
        userUs: next.end.userUs - start.userUs, mainUs: next.end.mainUs - start.mainUs,
        recorderUs: recorderEnd - recorderStart });
      start = next.start;
      recorderStart = plan.recorderCpuUs();
      if (i % 20 === 19) plan.log(`# ${i + 1} of ${sequence.length} windows`);
    }
  } finally {
    const r = await load.stop();
    plan.log(`# load: ${r.sent} requests, ${r.errors} errors, at most ${r.maxBacklog} waiting for a connection`);
    if (r.errors) throw new Error(`load: ${r.errors} responses were not 200`);
  }
  return windows;
}

export interface Added {
  added: number[]; addedUser: number[]; addedMain: number[]; recorder: number[];
  /** With two trailing windows (withLeftover): the same, what the tool left to the window after it included. */
  leftover: number[]; leftoverMain: number[];
}

/**
 * Per tool, each window's CPU per request minus the mean of its untraced
 * neighbours' (all of it; user time alone: the kernel's share moves with
 * how the load generator's wake-ups fall, on 2 CPUs that it shares; the main
 * thread alone).
 */
export function addedPerRequest(windows: Window[]): Map<string, Added> {
  const out = new Map<string, Added>();
  const cpu = (w: Window) => w.cpuUs / w.served;
  const user = (w: Window) => w.userUs / w.served;
  const main = (w: Window) => w.mainUs / w.served;
  for (let i = 1; i + 1 < windows.length; i++) {
    const [before, w, after] = [windows[i - 1]!, windows[i]!, windows[i + 1]!];
    if (w.tool === 'none') continue;
    let t = out.get(w.tool);
    if (!t) out.set(w.tool, t = { added: [], addedUser: [], addedMain: [], recorder: [], leftover: [], leftoverMain: [] });
    t.added.push(cpu(w) - (cpu(before) + cpu(after)) / 2);
    t.addedUser.push(user(w) - (user(before) + user(after)) / 2);
    t.addedMain.push(main(w) - (main(before) + main(after)) / 2);
    t.recorder.push(w.recorderUs / w.served);
    const clean = windows[i + 2];
    if (after.tool === 'none' && clean?.tool === 'none') { // two trailing windows
      t.leftover.push(withLeftover(cpu(before), cpu(w), cpu(after), cpu(clean)));
      t.leftoverMain.push(withLeftover(main(before), main(w), main(after), main(clean)));
    }
  }
  return out;
}

/**
 * A tool's added CPU per request, counting what it left to the untraced
 * window after it (V8's helper threads collecting its garbage: the
 * OpenTelemetry SDK's raised that window by several µs per request): its
 * window and that one against the clean untraced windows on either side,
 * `before` (after the previous tool's two) and `clean` (the second after it).
 * Zero for a tool that adds nothing and leaves nothing: the control checks it.
 */
function withLeftover(before: number, tool: number, after: number, clean: number): number {
  const base = (before + clean) / 2;
  return (tool - base) + (after - base);
}
