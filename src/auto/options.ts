// Auto mode's options, from the environment (the app is not modified, so
// there is no other place for them):
//   RINGTRACE_AUTO              parts to record, comma-separated (default: all of AUTO_PARTS)
//   RINGTRACE_AUTO_INTERVAL_MS  how often runtime counters are recorded (default 1000)
//   RINGTRACE_AUTO_QUERY=1      keep query strings in recorded paths (default: cut at '?')
//   RINGTRACE_AUTO_HEADERS      request headers to record on server spans, comma-separated (default none)
//   RINGTRACE_AUTO_CONTEXT      when the request span becomes the handler's async context (what nests
//                               the app's spans and outgoing calls under it): unset, once something
//                               reads the current span; 1, from the first request; 0, never

/** What auto mode can record, each a RINGTRACE_AUTO name. */
export const AUTO_PARTS = ['http', 'fetch', 'net', 'child', 'worker', 'gc', 'loop', 'memory'] as const;
export type AutoPart = (typeof AUTO_PARTS)[number];

export const DEFAULT_INTERVAL_MS = 1000;

export type ContextPolicy = 'on-read' | 'always' | 'never';

function contextPolicy(value: string | undefined): ContextPolicy {
  return value === '0' ? 'never' : value === '1' ? 'always' : 'on-read';
}

export interface AutoOptions {
  parts: Set<AutoPart>;
  intervalMs: number;
  keepQuery: boolean;
  /** Lower-case header names to capture. */
  headers: string[];
  /**
   * When the request span is entered as the handler's async context (what
   * nests the app's spans under it): 'on-read' once anything reads the current
   * span, 'always' from the first request, 'never'.
   */
  context: ContextPolicy;
  /** Names in RINGTRACE_AUTO that are not parts (warned once, ignored). */
  unknown: string[];
}

/**
 * Parse a parts list ('http,gc'; '' or 'all': every part). Unknown names are
 * returned apart so the CLI can refuse them and the app can warn and go on.
 */
export function parseParts(text: string | undefined): { parts: Set<AutoPart>; unknown: string[] } {
  const names = (text ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (names.length === 0 || names.includes('all')) return { parts: new Set(AUTO_PARTS), unknown: [] };
  const parts = new Set<AutoPart>();
  const unknown: string[] = [];
  for (const n of names) {
    if ((AUTO_PARTS as readonly string[]).includes(n)) parts.add(n as AutoPart);
    else unknown.push(n);
  }
  return { parts, unknown };
}

export function readOptions(env: NodeJS.ProcessEnv = process.env): AutoOptions {
  const { parts, unknown } = parseParts(env['RINGTRACE_AUTO']);
  const ms = Number(env['RINGTRACE_AUTO_INTERVAL_MS']);
  return {
    parts,
    unknown,
    intervalMs: Number.isInteger(ms) && ms >= 10 && ms <= 3_600_000 ? ms : DEFAULT_INTERVAL_MS,
    keepQuery: env['RINGTRACE_AUTO_QUERY'] === '1',
    context: contextPolicy(env['RINGTRACE_AUTO_CONTEXT']),
    headers: (env['RINGTRACE_AUTO_HEADERS'] ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean),
  };
}
