// Auto mode: the runtime's health, per thread. GC pauses as events (from
// perf_hooks' 'gc' entries, delivered shortly after the pause: `ago_ms` says
// how long before the record it began), and once per interval counters:
// event-loop delay (p50, p99, max over the interval), event-loop utilization,
// heap used and RSS. The interval's timer is unref'd: it never keeps the app
// alive.
import { constants, monitorEventLoopDelay, performance, PerformanceObserver,
  type EventLoopUtilization, type PerformanceEntry } from 'node:perf_hooks';
import { provider } from '../provider';
import type { AutoOptions } from './options';
import { madeOnce } from './classes';

const eventLoopUtilization = performance.eventLoopUtilization;

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** Stops what was started (tests; the app never needs to). */
export type Stop = () => void;

export function traceGc(failed: (e: unknown) => void): Stop {
  const gc = madeOnce('gc', () => provider('node.runtime').event('gc', ['kind:string', 'duration_ms:f64', 'ago_ms:f64']));
  const observer = new PerformanceObserver((list) => {
    try {
      if (!gc.enabled) return;
      const now = performance.now();
      for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
        const kind = entry.detail?.kind ?? -1;
        gc.emit(GC_KINDS[kind] ?? String(kind), entry.duration, now - entry.startTime);
      }
    } catch (e) {
      failed(e);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}

/** Counters every interval: loop delay and utilization (`loop`), heap and RSS (`memory`). */
export function traceRuntimeCounters(options: AutoOptions, failed: (e: unknown) => void): Stop {
  const runtime = provider('node.runtime');
  const loop = options.parts.has('loop');
  const memory = options.parts.has('memory');
  if (!loop && !memory) return () => {};
  const p50 = runtime.counter('loop_delay_p50_ms');
  const p99 = runtime.counter('loop_delay_p99_ms');
  const max = runtime.counter('loop_delay_max_ms');
  const utilization = runtime.counter('loop_utilization');
  const heapUsed = runtime.counter('heap_used_bytes');
  const rss = runtime.counter('rss_bytes');
  // 10 ms resolution: the histogram's own timer wakes the loop that often, but only while enabled.
  const delay = loop ? monitorEventLoopDelay({ resolution: 10 }) : undefined;
  delay?.enable();
  let lastElu: EventLoopUtilization | undefined = loop ? eventLoopUtilization() : undefined;
  const timer = setInterval(() => {
    try {
      if (delay && lastElu) {
        if (p50.enabled && delay.count > 0) { // no sample yet: nothing measured, nothing recorded
          p50.set(delay.percentile(50) / 1e6);
          p99.set(delay.percentile(99) / 1e6);
          max.set(delay.max / 1e6);
        }
        delay.reset();
        const now = eventLoopUtilization();
        utilization.set(eventLoopUtilization(now, lastElu).utilization);
        lastElu = now;
      }
      if (memory && heapUsed.enabled) {
        const m = process.memoryUsage();
        heapUsed.set(m.heapUsed);
        rss.set(m.rss);
      }
    } catch (e) {
      failed(e);
    }
  }, options.intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    delay?.disable();
  };
}
