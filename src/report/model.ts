// What `trace-consume report` shows, as queries.ts computes it and both the
// text summary (text.ts) and the page (html.ts, page/*.js) read it. Times
// are ns since the trace's first event (numbers: exact up to 104 days),
// durations ns; `startNs` alone is since the epoch (a decimal string).

export interface ReportLimits {
  /** Slowest spans listed with their trees. */
  slowest: number;
  /** Spans the timeline holds at most (plus the slowest spans' trees). */
  maxSpans: number;
}

export interface TraceInfo {
  dir: string;
  startNs: string;
  durationNs: number;
  events: number;
  spans: number;
  /** Spans with a begin and no end. */
  openSpans: number;
  processes: { pid: number; name: string }[];
  threads: number;
  lostEvents: number;
  /** Damaged streams: everything before the damage is in the report. */
  errors: string[];
}

export interface LatencyRow {
  provider: string;
  name: string;
  /** Finished spans (those the percentiles are over). */
  count: number;
  open: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  total: number | null;
  /** [bucket, spans]: bucket b holds durations in [2^(b/2), 2^((b+1)/2)) ns. */
  histogram: [number, number][];
}

export interface SpanRow {
  pid: number;
  tid: number;
  id: string;
  /** The parent's id, or null for a root. */
  parent: string | null;
  thread: string;
  provider: string;
  name: string;
  start: number;
  /** null: never ended. */
  dur: number | null;
  depth: number;
  /** Begin and end fields as JSON text, cut at FIELDS_CHARS ("…" added). */
  fields: string | null;
  endFields: string | null;
}

/** A descendant of a slow span: `level` 1 for its children, 2 for theirs, ... */
export interface TreeSpan extends SpanRow {
  level: number;
}

export interface SlowTree {
  root: SpanRow;
  /** Its descendants, earliest first (on equal starts, the lower level first), at most CHILDREN_PER_TREE. */
  children: TreeSpan[];
  /** Descendants left out past that. */
  moreChildren: number;
}

export interface TimelineThread {
  pid: number;
  tid: number;
  thread: string;
  process: string;
}

export interface RateSeries {
  provider: string;
  name: string;
  total: number;
  /** Records per bucket (a span counts once, at its begin). */
  counts: number[];
}

export interface GcPause {
  pid: number;
  tid: number;
  /** When the pause began. */
  start: number;
  kind: string;
  ms: number;
}

export interface GcKindRow {
  kind: string;
  count: number;
  totalMs: number;
  p50Ms: number;
  maxMs: number;
}

/** A node.runtime counter of one thread over time. */
export interface CounterSeries {
  pid: number;
  tid: number;
  thread: string;
  name: string;
  points: [number, number][];
}

export interface LoopSummaryRow {
  pid: number;
  tid: number;
  thread: string;
  samples: number;
  p50MeanMs: number | null;
  p99MaxMs: number | null;
  maxMs: number | null;
  utilizationMean: number | null;
}

export interface LostCpuRow {
  cpu: number;
  events: number;
  packets: number;
  first: number;
  last: number;
}

export interface ReportData {
  trace: TraceInfo;
  limits: ReportLimits;
  latency: { rows: LatencyRow[]; names: number };
  slowest: SlowTree[];
  timeline: { threads: TimelineThread[]; spans: SpanRow[]; total: number };
  rates: { bucketNs: number; buckets: number; classes: number; series: RateSeries[]; other: RateSeries | null };
  gc: { pauses: GcPause[]; total: number; byKind: GcKindRow[] } | null;
  loop: { summary: LoopSummaryRow[]; series: CounterSeries[] } | null;
  memory: { series: CounterSeries[] } | null;
  lost: { perCpu: LostCpuRow[]; bucketNs: number; buckets: number; counts: { cpu: number; counts: number[] }[] };
}
