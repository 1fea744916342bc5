// Per-function costs from a callgrind output written with --dump-instr=yes,
// JIT code included: callgrind names V8's generated code only by address,
// so those addresses are looked up in the perf map node writes with
// --perf-basic-prof (/tmp/perf-<pid>.map: start, size, name per code
// object). Used by bench:http-callgrind --functions to say which functions
// a tool adds per request (instructions and L1 instruction misses: a
// function's code runs cold once per request, so its size shows as misses).
// Reads the format's compressed names ("(12) name" once, "(12)" after) and
// relative addresses ("+3", "-8", "*"); a cost line after "calls=" is the
// call's inclusive cost and is skipped (self costs only).
import * as fs from 'node:fs';

interface CodeRange { start: number; end: number; name: string }

/** The perf map's code ranges, sorted by start. */
export function readPerfMap(file: string): CodeRange[] {
  const ranges: CodeRange[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    if (m) ranges.push({ start: parseInt(m[1]!, 16), end: parseInt(m[1]!, 16) + parseInt(m[2]!, 16), name: m[3]! });
  }
  return ranges.sort((a, b) => a.start - b.start);
}

function rangeOf(ranges: CodeRange[], addr: number): CodeRange | undefined {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid]!.start <= addr) lo = mid + 1;
    else hi = mid - 1;
  }
  const r = ranges[hi];
  return r && addr < r.end ? r : undefined;
}

/** Self cost per function of `events` (names as callgrind's header lists them), JIT code named by `ranges`. */
export function functionCosts(out: string, ranges: CodeRange[], events: readonly string[]): Map<string, number[]> {
  const costs = new Map<string, number[]>();
  const names = { fn: new Map<string, string>(), ob: new Map<string, string>() };
  const nameOf = (table: Map<string, string>, text: string) => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(text.trim());
    if (!m) return text.trim();
    if (m[2] !== undefined) table.set(m[1]!, m[2]);
    return table.get(m[1]!) ?? '?';
  };
  let columns: number[] = [];
  let fn = '?';
  let ob = '?';
  let addr = 0;
  let callCost = false;
  for (const line of fs.readFileSync(out, 'utf8').split('\n')) {
    if (line.startsWith('events:')) {
      const header = line.slice(7).trim().split(/\s+/);
      columns = events.map((e) => header.indexOf(e));
    } else if (line.startsWith('fn=')) fn = nameOf(names.fn, line.slice(3));
    else if (line.startsWith('ob=')) ob = nameOf(names.ob, line.slice(3));
    else if (line.startsWith('cfn=')) nameOf(names.fn, line.slice(4));
    else if (line.startsWith('cob=')) nameOf(names.ob, line.slice(4));
    else if (line.startsWith('calls=')) callCost = true;
    else if (/^(0x|[+*-])/.test(line)) {
      const t = line.split(' ');
      const a = t[0]!;
      if (a.startsWith('0x')) addr = parseInt(a, 16);
      else if (a !== '*') addr += (a[0] === '-' ? -1 : 1) * Number(a.slice(1)); // (relative ones are decimal)
      if (callCost) {
        callCost = false;
        continue;
      }
      const jit = ob === '???' || fn.startsWith('0x');
      const key = jit ? rangeOf(ranges, addr)?.name ?? 'JIT code not in the perf map' : fn;
      let c = costs.get(key);
      if (!c) costs.set(key, c = events.map(() => 0));
      // Positions "instr line", then the events in header order (missing ones are 0).
      for (let i = 0; i < columns.length; i++) c[i]! += Number(t[2 + columns[i]!] ?? 0);
    }
  }
  return costs;
}

/**
 * The functions whose cost grew most from `base` to `tool` (per request:
 * both divided by `requests`), as printable lines: the change in each event, then the name.
 */
export function grownFunctions(base: Map<string, number[]>, tool: Map<string, number[]>, events: readonly string[],
  requests: number, top: number): string[] {
  // V8 marks a function's tier in its name (~ interpreted, ^ baseline, + Maglev, * TurboFan): one row per function.
  const merged = (m: Map<string, number[]>) => {
    const out = new Map<string, number[]>();
    for (const [k, v] of m) {
      const name = k.replace(/^JS:[~^+*]/, 'JS:');
      const c = out.get(name) ?? events.map(() => 0);
      out.set(name, c.map((x, i) => x + v[i]!));
    }
    return out;
  };
  const b = merged(base);
  const t = merged(tool);
  const rows = [...new Set([...b.keys(), ...t.keys()])].map((name) => {
    const d = events.map((_, i) => ((t.get(name)?.[i] ?? 0) - (b.get(name)?.[i] ?? 0)) / requests);
    return { name, d };
  }).sort((x, y) => y.d[0]! - x.d[0]!);
  return rows.slice(0, top).map((r) =>
    `${r.d.map((x, i) => `${events[i]}=${x >= 0 ? '+' : ''}${x.toFixed(0)}`).join(' ')}  ${r.name.slice(0, 120)}`);
}
