// Triggers on events, evaluated by the flight recorder as data arrives:
//   'app:error'                             any event of a matching class
//   'http:request: status >= 500'           one whose fields pass a filter (docs/filters.md)
//   'http:request: duration > 200ms'        a span that lasted longer (checked when it ends;
//                                           `duration` in ns, numbers may carry a unit)
// A span's condition sees the fields of its start record, those of its end
// record (where both have a name, the end's value: what was known last) and
// `duration`.
import { decodeValues, type FieldValue } from '../decode';
import { checkFilterSyntax, compileFilter, FilterError, formatFilterError } from '../filter';
import type { RawRecord } from '../records';
import type { ClassDescription, Field } from '../schema';
import { checkPattern, patternRegExp } from '../selection/rules';
import { unitsToNanoseconds } from './durations';

export interface TriggerSpec {
  text: string;
  re: RegExp;
  /** The condition with units turned into ns; null: the class appearing is enough. */
  expression: string | null;
}

/** A trigger that fired: which, on what record. */
export interface Firing {
  trigger: string;
  event: string;
  pid: number;
  tid: number;
  timestamp: bigint;
}

/** Parse `PATTERN` or `PATTERN: CONDITION`; throws an Error naming the problem (and its position). */
export function parseTrigger(arg: string): TriggerSpec {
  const m = /^(\S+?)(?::\s+(.*))?$/s.exec(arg.trim());
  if (!m) throw new Error(`--trigger '${arg}': expected 'PATTERN' or 'PATTERN: CONDITION', e.g. 'app:error' or ` +
    `'http:request: duration > 200ms'`);
  const pattern = checkPattern(m[1]!);
  const expression = m[2]?.trim() ? unitsToNanoseconds(m[2].trim()) : null;
  if (expression) {
    try {
      checkFilterSyntax(expression, `--trigger '${arg}'`);
    } catch (e) {
      throw e instanceof FilterError ? new Error(`${e.message}\n${formatFilterError(e, expression)}`) : e;
    }
  }
  return { text: arg.trim(), re: patternRegExp(pattern), expression };
}

type Condition = (...values: unknown[]) => boolean;

/** What to do with records of one class id. */
interface ClassPlan {
  cls: ClassDescription;
  /** Fire on the record itself (events, counters, span starts without a condition). */
  now: { spec: TriggerSpec; test: Condition | null }[];
  /** Span start: keep its time and values for these conditions, checked at its end. */
  keepStart: boolean;
  /** Span end: conditions per start class id. */
  atEnd: { spec: TriggerSpec; tests: Map<number, EndTest> }[];
}

/** A span condition for one start class: which start values it takes (those the end does not name), then the end's. */
interface EndTest { test: Condition; startValues: number[] }

const DURATION: Field = { name: 'duration', type: 'f64' };
const MAX_OPEN_SPANS = 65536;

export class TriggerWatch {
  private plans = new Map<number, ClassPlan | null>();
  private classes = new Map<number, ClassDescription>();
  private readonly openSpans = new Map<string, { id: number; ts: bigint; values: FieldValue[] }>();
  private readonly values: FieldValue[] = [];
  /** Span ends whose start was not seen (before the recorder followed, or overwritten): not checked. */
  unpaired = 0;
  /** Span starts forgotten because too many spans were open at once. */
  forgotten = 0;

  /** `classes`: the session's registry, re-read when an unknown class id appears; `notice`: a misfit condition. */
  constructor(private readonly specs: readonly TriggerSpec[], private readonly readClasses: () => Map<number, ClassDescription>,
    private readonly ticksToNs: (ticks: bigint) => number, private readonly notice: (message: string) => void) {}

  /** Look at one record; returns what it fired, if anything. */
  feed(rec: RawRecord): Firing | null {
    let plan = this.plans.get(rec.id);
    if (plan === undefined) plan = this.planFor(rec.id);
    if (!plan) return null;
    const p = rec.payload;
    const pid = p.readUInt32LE(0);
    const tid = p.readUInt32LE(4);
    const fire = (spec: TriggerSpec): Firing => ({ trigger: spec.text, event: `${plan.cls.provider}:${plan.cls.name}`,
      pid, tid, timestamp: rec.timestamp });
    const values = this.values;
    try {
      decodeValues(plan.cls, p, 0, p.length, values);
    } catch {
      return null; // a record that does not match its class: readers report it; a trigger ignores it
    }
    const own = values.slice(0, plan.cls.fields.length);
    if (plan.keepStart) this.keepStart(`${pid}:${String(values[0])}`, rec, own);
    for (const { spec, test } of plan.now) {
      if (!test || test(...own)) return fire(spec);
    }
    if (plan.atEnd.length) {
      const key = `${pid}:${String(values[0])}`;
      const start = this.openSpans.get(key);
      if (!start) {
        this.unpaired++;
        return null;
      }
      this.openSpans.delete(key);
      const duration = this.ticksToNs(rec.timestamp - start.ts);
      for (const { spec, tests } of plan.atEnd) {
        const end = tests.get(start.id);
        if (end === undefined) continue; // a start class this condition does not fit
        if (end.test(...end.startValues.map((i) => start.values[i]), ...own.slice(1), duration)) return fire(spec);
      }
    }
    return null;
  }

  private keepStart(key: string, rec: RawRecord, values: FieldValue[]): void {
    if (this.openSpans.size >= MAX_OPEN_SPANS) {
      const oldest = this.openSpans.keys().next().value as string;
      this.openSpans.delete(oldest);
      this.forgotten++;
    }
    this.openSpans.set(key, { id: rec.id, ts: rec.timestamp, values });
  }

  private planFor(id: number): ClassPlan | null {
    if (!this.classes.has(id)) {
      this.classes = this.readClasses();
      this.plans.clear(); // span ends plan against every start class: plan again with the new ones
    }
    const cls = this.classes.get(id);
    if (!cls) return null; // not registered yet: asked again next time
    const full = `${cls.provider}:${cls.name}`;
    const specs = this.specs.filter((s) => s.re.test(full));
    const plan: ClassPlan = { cls, now: [], keepStart: false, atEnd: [] };
    for (const spec of specs) {
      if (cls.kind === 'span_end') {
        if (!spec.expression) continue; // fired at the start
        const tests = new Map<number, EndTest>();
        const endFields = cls.fields.slice(1); // after its span_id
        const endNames = new Set(endFields.map((f) => f.name));
        for (const [startId, start] of this.classes) {
          if (start.kind !== 'span_begin' || start.provider !== cls.provider || start.name !== cls.name) continue;
          const startValues = start.fields.flatMap((f, i) => endNames.has(f.name) ? [] : [i]);
          const test = this.compile(spec, [...startValues.map((i) => start.fields[i]!), ...endFields, DURATION], full);
          if (test) tests.set(startId, { test, startValues });
        }
        plan.atEnd.push({ spec, tests });
      } else if (cls.kind === 'span_begin' && spec.expression) {
        plan.keepStart = true;
      } else {
        const test = spec.expression ? this.compile(spec, cls.fields, full) : null;
        if (!spec.expression || test) plan.now.push({ spec, test });
      }
    }
    const useful = plan.now.length || plan.keepStart || plan.atEnd.length;
    this.plans.set(id, useful ? plan : null);
    return useful ? plan : null;
  }

  private readonly misfits = new Set<string>();

  private compile(spec: TriggerSpec, fields: readonly Field[], event: string): Condition | null {
    try {
      return compileFilter(spec.expression!, fields, `--trigger '${spec.text}' on ${event}`);
    } catch (e) {
      const key = `${spec.text}\n${event}`;
      if (!this.misfits.has(key)) {
        this.misfits.add(key);
        this.notice(`trigger '${spec.text}' does not apply to ${event}: ${(e as Error).message}`);
      }
      return null;
    }
  }
}
