// Which of Node's built-in diagnostics channels this Node has, and a
// subscription that can never throw into the app.
//
// diagnostics_channel cannot tell whether anything publishes on a name
// (channel(name) makes any name; hasSubscribers says only whether someone
// listens), so the Node version each channel appeared in is written down here
// (20.0, the oldest Node ringtrace supports, where the first version was not
// checked: every Node 20 has those). Subscribing to a channel this Node lacks
// would do no harm but record nothing; the table keeps docs/auto.md honest.
import * as dc from 'node:diagnostics_channel';

/** Channel name -> first Node version (major, minor) that publishes it. */
export const CHANNEL_SINCE: Record<string, [number, number]> = {
  'http.server.request.start': [15, 1],
  'http.server.response.finish': [15, 1],
  'http.client.request.start': [18, 7],
  'http.client.response.finish': [18, 7],
  'http.client.request.error': [20, 0], // absent from 18.20; present in the Node 20 line (checked on 20.20)
  // First minor not checked; present in every Node 20 (ringtrace's oldest).
  'net.client.socket': [20, 0],
  'net.server.socket': [20, 0],
  'child_process': [20, 0],
  'worker_threads': [20, 0],
  // undici (global fetch) publishes these in every Node >= 18 whose fetch is on by default.
  'undici:request:create': [18, 0],
  'undici:request:headers': [18, 0],
  'undici:request:error': [18, 0],
};

const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];

/** True if this Node publishes on `name` (per CHANNEL_SINCE). */
export function channelExists(name: string, version: [number, number] = [major, minor]): boolean {
  const since = CHANNEL_SINCE[name];
  if (!since) return false;
  return version[0] > since[0] || (version[0] === since[0] && version[1] >= since[1]);
}

/**
 * Subscribe to `name` if this Node has it. A throw in a subscriber would reach
 * the app as an uncaught exception (Node rethrows it on the next tick), so
 * everything `fn` does is caught here; `failed` hears of it (to warn once).
 * Returns whether it subscribed.
 */
export function subscribe<T>(name: string, fn: (message: T) => void, failed: (e: unknown) => void): boolean {
  if (!channelExists(name)) return false;
  const guarded = (message: unknown) => {
    try {
      fn(message as T);
    } catch (e) {
      try {
        failed(e);
      } catch {
        // nothing may escape
      }
    }
  };
  dc.subscribe(name, guarded);
  subscribed.push([name, guarded]);
  return true;
}

const subscribed: [string, (message: unknown) => void][] = [];

/** Undo every subscribe (stopAuto). */
export function unsubscribeAll(): void {
  for (const [name, fn] of subscribed.splice(0)) dc.unsubscribe(name, fn);
}
