// The instrumentation API: providers own typed events, spans and counters.
//   const http = provider('http');
//   const request = http.event('request', ['method:string', 'status:u16', 'bytes:u64']);
//   request.emit('GET', 200, 1234);             // positional, checked, no allocation
//   if (request.enabled) request.emit(costly(), 200, 0);
//   await http.withSpan('handle', async () => { ... });
// Event classes are in event.ts, spans in spans.ts.
import { type EventOptions, TracedEvent } from './event';
import { checkLevel, DEFAULT_LEVEL, type Level } from './selection/rules';
import { describeValue, setInvalidRecorder } from './invalid-values';
import { setFilteredRecorder } from './tracer';
import { type ArgsOf, checkEventName, checkProviderName, type FieldSpec, parseFields } from './schema';
import { ActiveSpan, argsJson, checkFunction, currentParent, nextSpanSeq, NOOP_SPAN, runInSpan, spanBeginClass,
  spanEndClass, type SpanClass, type SpanHandle, SpanType } from './spans';

export { configure, type Configuration, type EventOptions, TracedEvent } from './event';

export interface SpanTypeOptions extends EventOptions {
  /** Its spans are roots: their parent_id is 0 whatever span is current. Default false. */
  root?: boolean;
}
export { LEVELS, type Level } from './selection/rules';
export { type SpanHandle, SpanType } from './spans';

export class Provider {
  private readonly spans = new Map<string, SpanClass>();
  // Most call sites pass the same literal name: a pointer compare skips the Map.
  private lastSpanName = '';
  private lastSpanClass: SpanClass | undefined;
  private readonly counters = new Map<string, Counter>();

  /** The level of its events that set none (sessions may record only some levels). */
  readonly level: Level;

  constructor(readonly name: string, options: ProviderOptions = {}) {
    checkProviderName(name);
    this.level = options.level === undefined ? DEFAULT_LEVEL : checkLevel(options.level, `ringtrace: provider '${name}'`);
  }

  /** Define an event class: fields are 'name:type' specs, in emit's argument order. */
  event<const S extends readonly FieldSpec[]>(name: string, fields: S,
    options?: EventOptions): TracedEvent<ArgsOf<S>> {
    checkEventName(this.name, name);
    return new TracedEvent<ArgsOf<S>>(this.name, name, 'event',
      parseFields(`${this.name}:${name}`, fields), this.options(options));
  }

  /** Options for a class of this provider: its level unless the class sets one. */
  private options(options: EventOptions = {}): EventOptions {
    return options.level === undefined ? { ...options, level: this.level } : options;
  }

  /** Start a span; its parent is the span current in this async context. */
  span(name: string, fields?: Record<string, unknown>): SpanHandle {
    const cls = this.spanClass(name);
    const begin = cls.begin!;
    if (!begin.enabled) return NOOP_SPAN;
    const seq = nextSpanSeq();
    begin.emit(seq, currentParent(), argsJson(fields)); // span_id: SPAN_ID_BASE + seq
    return new ActiveSpan(seq, cls.ends);
  }

  /**
   * Run fn inside a span (sync or async); spans started within it, also after
   * awaits, are its children. A throw or rejection ends the span with `error`.
   */
  withSpan<T>(name: string, fn: () => T, fields?: Record<string, unknown>): T {
    checkFunction(`${this.name}.withSpan('${name}', fn)`, fn);
    return runInSpan(this.span(name, fields), fn);
  }

  /**
   * A span class whose start records typed fields, like an event's (no JSON:
   * ~10x cheaper than span(name, fields) with four fields). The fields follow
   * span_id and parent_id in the begin record; `span_id`, `parent_id` and
   * `args` are the span's own names. `options.root`: its spans never take the
   * current span as parent (work that arrives from elsewhere, such as a
   * server's request).
   */
  spanType<const S extends readonly FieldSpec[]>(name: string, fields: S, options?: SpanTypeOptions):
    SpanType<ArgsOf<S>> {
    checkEventName(this.name, name);
    const where = `${this.name}:${name}`;
    const own = parseFields(where, fields).find((f) => ['span_id', 'parent_id', 'args'].includes(f.name));
    if (own) throw new TypeError(`ringtrace: ${where}: field '${own.name}' is a span's own field; choose another name`);
    return new SpanType<ArgsOf<S>>(spanBeginClass(this.name, name, fields, this.options(options)),
      this.spanClass(name, options?.level, false).ends, options?.root === true);
  }

  /** A counter track; values are f64. `options.level` as for events (set when first defined). */
  counter(name: string, options?: { level?: Level }): Counter {
    let c = this.counters.get(name);
    if (!c) {
      checkEventName(this.name, name);
      c = new Counter(new TracedEvent<[number]>(this.name, name, 'counter',
        parseFields(`${this.name}:${name}`, ['value:f64']), this.options(options)));
      this.counters.set(name, c);
    }
    return c;
  }

  /**
   * The classes of span `name`: its end records (shared by span() and
   * spanType()) and, made only when span() uses it, the untyped begin record
   * (a typed span's begin is its SpanType's). `level` is theirs if this makes
   * them (a span name has one level).
   */
  private spanClass(name: string, level?: Level, untypedBegin = true): SpanClass {
    if (name === this.lastSpanName && this.lastSpanClass?.begin) return this.lastSpanClass;
    let cls = this.spans.get(name);
    if (!cls) {
      checkEventName(this.name, name);
      const options = this.options({ ...(level === undefined ? {} : { level }) });
      cls = {
        begin: undefined,
        options,
        ends: {
          withFields: spanEndClass(this.name, name, ['args:string'], options),
          bare: spanEndClass(this.name, name, [], options),
        },
      };
      this.spans.set(name, cls);
    }
    if (untypedBegin && !cls.begin) {
      cls.begin = spanBeginClass(this.name, name, ['args:string'], cls.options);
    }
    if (cls.begin) {
      this.lastSpanName = name;
      this.lastSpanClass = cls;
    }
    return cls;
  }
}

/**
 * set(v) records v; add(d) adds to this thread's running value and records it.
 * A value that is not a number (or a delta that is not finite, which would
 * poison the running value) changes nothing and is handled like an invalid
 * emit value: dropped and counted, or thrown in strict mode.
 */
export class Counter {
  private value = 0;
  constructor(private readonly event: TracedEvent<[number]>) {}
  get enabled(): boolean {
    return this.event.enabled;
  }
  set(v: number): void {
    if (typeof v !== 'number') {
      this.event.invalid.value(0, v);
      return;
    }
    this.value = v;
    if (this.event.enabled) this.event.emit(v);
  }
  add(d: number): void {
    if (typeof d !== 'number' || !Number.isFinite(d)) {
      this.event.invalid.other('value', () => new TypeError(`ringtrace: ${this.event.provider}:${this.event.name}: ` +
        `add expects a finite number, got ${describeValue(d)}; nothing was recorded`));
      return;
    }
    this.value += d;
    if (this.event.enabled) this.event.emit(this.value);
  }
}

const providers = new Map<string, Provider>();

/** The library's own records (ringtrace:invalid_value, :filtered); users cannot define this provider. */
const OWN_PROVIDER = 'ringtrace';
let invalidValue: TracedEvent<[string, string, string]> | undefined;
setInvalidRecorder((event, field, problem) => {
  invalidValue ??= new TracedEvent(OWN_PROVIDER, 'invalid_value', 'event',
    parseFields(`${OWN_PROVIDER}:invalid_value`, ['event:string', 'field:string', 'problem:string']));
  invalidValue.emit(event, field, problem);
});

export interface ProviderOptions {
  /** The level of its events that set none (default 'info'; docs/selection.md). */
  level?: Level;
}

let filtered: TracedEvent<[string, number]> | undefined;
setFilteredRecorder((event, count) => {
  filtered ??= new TracedEvent(OWN_PROVIDER, 'filtered', 'event',
    parseFields(`${OWN_PROVIDER}:filtered`, ['event:string', 'count:u64']));
  filtered.emit(event, count);
});

/** The provider of that name (one per name per thread; options count when it is first made). */
export function provider(name: string, options?: ProviderOptions): Provider {
  let p = providers.get(name);
  if (!p) {
    if (name === OWN_PROVIDER) throw new TypeError(`ringtrace: provider name '${OWN_PROVIDER}' is reserved for the library's own records`);
    p = new Provider(name, options);
    providers.set(name, p);
  } else if (options?.level !== undefined && options.level !== p.level) {
    throw new TypeError(`ringtrace: provider '${name}' was made with level '${p.level}'; it cannot become '${options.level}'`);
  }
  return p;
}
