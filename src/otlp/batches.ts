// Batching encoded spans, log records and gauge points into OTLP requests.
// Each item is encoded once, when it is complete, into the writer of its
// group (one per process and instrumentation scope; for gauges also per
// metric name) already framed as its scope's repeated field. A batch becomes
// one request: the groups wrapped in their resource and scope messages
// around the bytes as they are, no item encoded twice.
import { ProtoWriter, putVarint } from '../export/protowire';
import type { OtlpTags } from './schema';
import { writeKeyValue } from './anyvalue';

export type Signal = 'traces' | 'logs' | 'metrics';

/** A process's resource attributes, as key/value pairs. */
export type ResourceOf = (pid: number) => readonly (readonly [string, unknown])[];

interface Group {
  pid: number;
  scope: string;
  metric: string; // gauges: the metric's name ('' for spans and logs)
  w: ProtoWriter;
  items: number;
}

const GROUP_START_BYTES = 1 << 14;

export class SignalBatch {
  private groups = new Map<string, Group>();
  items = 0;
  bytes = 0;

  constructor(readonly signal: Signal, private readonly T: OtlpTags) {}

  /** The writer to encode one more item of (pid, scope[, metric]) into; call added() after. */
  writer(pid: number, scope: string, metric = ''): ProtoWriter {
    let g = this.current;
    if (!g || g.pid !== pid || g.scope !== scope || g.metric !== metric) { // else: the same group as the last item
      const key = `${pid}\u0000${scope}\u0000${metric}`;
      g = this.groups.get(key);
      if (!g) this.groups.set(key, g = { pid, scope, metric, w: new ProtoWriter(GROUP_START_BYTES), items: 0 });
      this.current = g;
    }
    this.before = g.w.pos;
    return g.w;
  }
  private current: Group | undefined;
  private before = 0;

  /** The item just written into writer()'s writer is complete. */
  added(): void {
    const g = this.current!;
    g.items++;
    this.items++;
    this.bytes += g.w.pos - this.before;
  }

  /**
   * The batch as one request body, and empty again. The body is sized first
   * and its items copied into it once, into memory of its own that it starts
   * (it moves to the sender's thread without another copy): a spare buffer
   * when `spare` has one that large, else a new one with room to be reused
   * for later bodies (fresh memory costs page faults and zeroing each time:
   * ~9 % of an export).
   */
  take(resourceOf: ResourceOf, spare?: (bytes: number) => ArrayBuffer | undefined): Uint8Array {
    const T = this.T;
    const byPid = new Map<number, Group[]>();
    for (const g of this.groups.values()) {
      if (g.items === 0) continue;
      let list = byPid.get(g.pid);
      if (!list) byPid.set(g.pid, list = []);
      list.push(g);
    }
    const [requestTag, resourceTag, scopeGroupTag, scopeTag] = this.signal === 'traces'
      ? [T.traceRequest.resource_spans, T.resourceSpans.resource, T.resourceSpans.scope_spans, T.scopeSpans.scope]
      : this.signal === 'logs'
        ? [T.logsRequest.resource_logs, T.resourceLogs.resource, T.resourceLogs.scope_logs, T.scopeLogs.scope]
        : [T.metricsRequest.resource_metrics, T.resourceMetrics.resource, T.resourceMetrics.scope_metrics,
          T.scopeMetrics.scope];
    // The envelope's own bytes (resources, scopes, metric names) into `head`, in pieces with their sizes.
    const head = new ProtoWriter(4096);
    const pieces: (Piece | Group)[] = [];
    let total = 0;
    for (const [pid, groups] of byPid) {
      groups.sort((a, b) => (a.scope < b.scope ? -1 : a.scope > b.scope ? 1 : 0));
      const rsAt = pieces.push(mark(head)) - 1; // the ResourceSpans tag and length, once known
      const resStart = head.pos;
      for (const [k, v] of resourceOf(pid)) writeKeyValue(head, T, T.resource.attributes, k, v);
      let rsLen = field(resourceTag, head.pos - resStart);
      pieces.push({ prefix: [resourceTag, head.pos - resStart], from: resStart, to: head.pos });
      for (let i = 0; i < groups.length;) {
        const scope = groups[i]!.scope;
        const ssStart = head.pos;
        head.varint(T.scope.name);
        head.string(scope);
        const scopeLen = head.pos - ssStart;
        const ss: Piece = { from: ssStart, to: head.pos, prefix: [scopeGroupTag, 0], inner: [scopeTag, scopeLen] };
        pieces.push(ss);
        let ssLen = field(scopeTag, scopeLen);
        for (; i < groups.length && groups[i]!.scope === scope; i++) {
          const g = groups[i]!;
          if (this.signal === 'metrics') { // the points wrapped in their Metric and Gauge
            const mStart = head.pos;
            head.varint(T.metric.name);
            head.string(g.metric);
            const nameLen = head.pos - mStart;
            const metricLen = nameLen + field(T.metric.gauge, g.w.pos);
            pieces.push({ from: mStart, to: head.pos, prefix: [T.scopeMetrics.metrics, metricLen],
              after: [T.metric.gauge, g.w.pos] });
            ssLen += field(T.scopeMetrics.metrics, metricLen);
          } else {
            ssLen += g.w.pos;
          }
          pieces.push(g);
        }
        ss.prefix[1] = ssLen;
        rsLen += field(scopeGroupTag, ssLen);
      }
      (pieces[rsAt] as Piece).prefix = [requestTag, rsLen];
      total += field(requestTag, rsLen);
    }
    const body = new Uint8Array(spare?.(total) ?? new ArrayBuffer(roomy(total)), 0, total);
    let p = 0;
    for (const piece of pieces) {
      if ('w' in piece) {
        body.set(piece.w.buf.subarray(0, piece.w.pos), p);
        p += piece.w.pos;
        continue;
      }
      if (piece.prefix[0]) p = putVarint(body, putVarint(body, p, piece.prefix[0]), piece.prefix[1]);
      if (piece.inner) p = putVarint(body, putVarint(body, p, piece.inner[0]), piece.inner[1]);
      body.set(head.buf.subarray(piece.from, piece.to), p);
      p += piece.to - piece.from;
      if (piece.after) p = putVarint(body, putVarint(body, p, piece.after[0]), piece.after[1]);
    }
    if (p !== total) throw new Error(`OTLP request sized ${total} bytes, written ${p}`); // a bug, not data
    this.discard();
    return body;
  }

  /** Empty again, without making a body (a signal with nowhere to go). */
  discard(): void {
    for (const g of this.groups.values()) {
      g.w.pos = 0;
      g.items = 0;
    }
    if (this.groups.size > 256) { // many short-lived processes: let their writers go
      this.groups.clear();
      this.current = undefined;
    }
    this.items = 0;
    this.bytes = 0;
  }
}

/**
 * Part of the envelope: a tag and length (prefix; tag 0: none), an inner
 * tag and length, bytes of `head` [from, to), a tag and length after them
 * (a Gauge's, before its points).
 */
interface Piece {
  prefix: [number, number];
  inner?: [number, number];
  from: number;
  to: number;
  after?: [number, number];
}

/** A piece with no bytes of its own yet, at head's position. */
function mark(head: ProtoWriter): Piece {
  return { prefix: [0, 0], from: head.pos, to: head.pos };
}

/** A new body's buffer size: n and an eighth more, in 64 KiB steps (the next bodies are about as large). */
function roomy(n: number): number {
  return Math.ceil((n + (n >> 3)) / 65536) * 65536;
}

function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Bytes of a length-delimited field: its tag, its length, its n bytes. */
function field(tag: number, n: number): number {
  return varintSize(tag) + varintSize(n) + n;
}
