// Auto mode's record classes, made once per thread: stopping auto mode and
// starting it again (the benchmarks switch it on and off) reuses them, where
// new copies would each register with the tracer and have their emit
// functions generated and optimized again, costing every restart's first
// thousands of requests.
const made = new Map<string, unknown>();

/** The value `make` returned the first time this thread asked for `key`. */
export function madeOnce<T>(key: string, make: () => T): T {
  let v = made.get(key) as T | undefined;
  if (v === undefined) made.set(key, v = make());
  return v;
}
