// What `trace-consume top` shows, over a sliding window: events per class,
// per process and per CPU, and the durations of the spans that ended, kept
// in slots of SLOT_MS by the time top received them (the sources hand data
// over within ~50 ms of its recording). Rates divide by the window's span,
// or by the time top has been watching while that is shorter.
import { type ClassDescription, displayName } from '../schema';

const SLOT_MS = 100;
/** Durations kept per span name per slot at most (a sample beyond: percentiles of a bounded sort). */
const MAX_DURATIONS_PER_SLOT = 4096;

interface Slot {
  at: number; // slot number (ms / SLOT_MS)
  events: number;
  classes: Map<string, number>;
  pids: Map<number, number>;
  cpus: Map<number, number>;
  spans: Map<string, { n: number; durations: number[] }>;
}

export interface SpanRow {
  name: string;
  perS: number;
  /** Nanoseconds. */
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface WindowView {
  /** Seconds the rates are over. */
  seconds: number;
  perS: number;
  classes: { name: string; perS: number }[];
  spans: SpanRow[];
  pids: { pid: number; perS: number }[];
  cpus: { cpu: number; perS: number }[];
}

/** The value at quantile q of sorted values (nearest rank). */
export function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export class LiveWindow {
  private readonly slots: Slot[] = [];
  private readonly names = new WeakMap<ClassDescription, string>();

  constructor(private readonly windowMs: number, private readonly startedAt: number) {}

  private slot(now: number): Slot {
    const at = Math.floor(now / SLOT_MS);
    const last = this.slots[this.slots.length - 1];
    if (last && last.at === at) return last;
    const s: Slot = { at, events: 0, classes: new Map(), pids: new Map(), cpus: new Map(), spans: new Map() };
    this.slots.push(s);
    return s;
  }

  /** The name a class is counted under: "provider:name", spans' begin and end records apart. */
  nameOf(cls: ClassDescription): string {
    let n = this.names.get(cls);
    if (n === undefined) {
      n = displayName(cls);
      this.names.set(cls, n);
    }
    return n;
  }

  event(now: number, cls: ClassDescription, pid: number, cpu: number): void {
    const s = this.slot(now);
    s.events++;
    const name = this.nameOf(cls);
    s.classes.set(name, (s.classes.get(name) ?? 0) + 1);
    s.pids.set(pid, (s.pids.get(pid) ?? 0) + 1);
    s.cpus.set(cpu, (s.cpus.get(cpu) ?? 0) + 1);
  }

  spanEnded(now: number, name: string, durationNs: number): void {
    const s = this.slot(now);
    let e = s.spans.get(name);
    if (!e) s.spans.set(name, e = { n: 0, durations: [] });
    e.n++;
    if (e.durations.length < MAX_DURATIONS_PER_SLOT) e.durations.push(durationNs);
  }

  view(now: number): WindowView {
    const from = Math.floor((now - this.windowMs) / SLOT_MS);
    while (this.slots.length && this.slots[0]!.at <= from) this.slots.shift();
    const seconds = Math.max(Math.min(this.windowMs, now - this.startedAt), 1) / 1000;
    let events = 0;
    const classes = new Map<string, number>();
    const pids = new Map<number, number>();
    const cpus = new Map<number, number>();
    const spans = new Map<string, { n: number; durations: number[] }>();
    const add = <K>(into: Map<K, number>, from: Map<K, number>) => {
      for (const [k, n] of from) into.set(k, (into.get(k) ?? 0) + n);
    };
    for (const s of this.slots) {
      events += s.events;
      add(classes, s.classes);
      add(pids, s.pids);
      add(cpus, s.cpus);
      for (const [name, e] of s.spans) {
        let t = spans.get(name);
        if (!t) spans.set(name, t = { n: 0, durations: [] });
        t.n += e.n;
        for (const d of e.durations) t.durations.push(d);
      }
    }
    const rates = <K>(m: Map<K, number>) => [...m].map(([k, n]) => ({ k, perS: n / seconds }))
      .sort((a, b) => b.perS - a.perS);
    return {
      seconds, perS: events / seconds,
      classes: rates(classes).map(({ k, perS }) => ({ name: k, perS })),
      pids: rates(pids).map(({ k, perS }) => ({ pid: k, perS })),
      cpus: [...cpus].sort(([a], [b]) => a - b).map(([cpu, n]) => ({ cpu, perS: n / seconds })),
      spans: [...spans].map(([name, e]) => {
        const d = e.durations.sort((a, b) => a - b);
        return { name, perS: e.n / seconds, p50: quantile(d, 0.5), p90: quantile(d, 0.9), p99: quantile(d, 0.99),
          max: d.length ? d[d.length - 1]! : NaN };
      }).sort((a, b) => b.perS - a.perS),
    };
  }
}
