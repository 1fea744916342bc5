// Auto mode: the runtime's health, per thread, as counters once per interval:
// event-loop delay (p50, p99, max over the interval), event-loop utilization,
// heap used and RSS (GC pauses: gc.ts). The interval's timer is unref'd: it
// never keeps the app alive.
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { provider } from '../provider';
import type { AutoOptions } from './options';

const eventLoopUtilization = performance.eventLoopUtilization;

/** Stops what was started (tests; the app never needs to). */
export type Stop = () => void;

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
