// The resource each process's spans, logs and gauges are sent under:
// service.name (the user's choice, resource-choice.ts; else what the app's
// OpenTelemetry resource said, else its script's name), host.name,
// process.pid, process.command, and the ringtrace session. An app traced
// through ringtrace/otel records its OpenTelemetry resource once; its
// attributes are kept. The user's chosen attributes go on every process,
// over the app's own and under what ringtrace knows of the process.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ProcessLog } from '../export/processes';
import type { ResourceChoice } from './resource-choice';

/** A trace's hostname and session, from its CTF metadata's env block ('' when absent). */
export function traceEnv(dir: string): { hostname: string; session: string } {
  let meta = '';
  try {
    meta = fs.readFileSync(path.join(dir, 'metadata'), 'utf8');
  } catch {
    // openTrace has already said what is wrong with a trace without metadata
  }
  const env = /env \{([^}]*)\}/.exec(meta)?.[1] ?? '';
  const text = (key: string) => {
    const m = new RegExp(`\\b${key} = "((?:[^"\\\\]|\\\\.)*)";`).exec(env);
    return m ? m[1]!.replace(/\\(.)/g, '$1') : '';
  };
  return { hostname: text('hostname'), session: text('session') };
}

/** A script's name without its directory and extension: "server" for /srv/app/server.js. */
function scriptName(label: string): string {
  return label.split(/\s+/)[0]!.split('/').pop()!.replace(/\.(c|m)?(j|t)s$/, '') || label;
}

export class Resources {
  private readonly recorded = new Map<number, Record<string, unknown>>();
  private readonly made = new Map<number, (readonly [string, unknown])[]>();

  constructor(private readonly choice: ResourceChoice, private readonly env: { hostname: string; session: string },
    private log: ProcessLog) {}

  /** The process log again (while recording, processes keep arriving). */
  refresh(log: ProcessLog): void {
    for (const [pid, label] of log.processes) if (this.log.processes.get(pid) !== label) this.made.delete(pid);
    this.log = log;
  }

  /** An app's own OpenTelemetry resource attributes (an otel:resource record's JSON object). */
  setRecorded(pid: number, json: string): void {
    let attrs: unknown;
    try {
      attrs = JSON.parse(json);
    } catch {
      return; // a cut or damaged record: the defaults stand
    }
    if (attrs === null || typeof attrs !== 'object' || Array.isArray(attrs)) return;
    this.recorded.set(pid, attrs as Record<string, unknown>);
    this.made.delete(pid);
  }

  /** The attributes of process pid's resource. */
  readonly of = (pid: number): readonly (readonly [string, unknown])[] => {
    let pairs = this.made.get(pid);
    if (pairs) return pairs;
    const label = this.log.processes.get(pid);
    const own = this.recorded.get(pid) ?? {};
    const ownService = typeof own['service.name'] === 'string' && !own['service.name'].startsWith('unknown_service')
      ? own['service.name'] : undefined;
    const attrs: Record<string, unknown> = {
      ...own,
      ...Object.fromEntries(this.choice.attributes ?? []),
      'service.name': this.choice.serviceName ?? ownService ?? (label ? scriptName(label) : 'unknown_service:node'),
      'process.pid': pid,
    };
    if (label) attrs['process.command'] = label;
    if (this.env.hostname) attrs['host.name'] = this.env.hostname;
    if (this.env.session) attrs['ringtrace.session'] = this.env.session;
    pairs = Object.entries(attrs);
    this.made.set(pid, pairs);
    return pairs;
  };
}
