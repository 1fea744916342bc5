// `trace-consume list`: this user's sessions, who consumes them, which
// processes attached, and the event classes they registered.
import * as fs from 'node:fs';
import { loadNative } from '../src/native';
import { Session } from '../src/session';
import { currentSelection } from '../src/selection/publish';

export interface SessionListing {
  name: string;
  consumer: number | null; // pid, -1 unknown pid, null: none
  /** discard: a recording drains it; overwrite: a flight recorder holds the latest events. */
  mode: 'discard' | 'overwrite' | null;
  cpus: number;
  subBufferSize: number;
  subBuffers: number;
  lost: number;
  processes: { pid: number; tid: number; name: string; alive: boolean }[];
  classes: string[];
  /** The selection's rules in force (docs/selection.md). */
  selection: string[];
  error?: string;
}

const SIDE_FILE = /\.(classes|procs|lock|selection)$/;

export function listSessions(): SessionListing[] {
  const prefix = `ringtrace-${process.geteuid!()}-`;
  let entries: string[] = [];
  try {
    entries = fs.readdirSync('/dev/shm');
  } catch {
    return [];
  }
  const native = loadNative();
  return entries.filter((f) => f.startsWith(prefix) && !SIDE_FILE.test(f)).sort().map((f) => {
    const name = f.slice(prefix.length);
    const base = { name, consumer: null as number | null, mode: null as SessionListing['mode'], cpus: 0, subBufferSize: 0, subBuffers: 0,
      lost: 0, processes: [], classes: [], selection: [] };
    let s: Session;
    try {
      const holder = native.consumerLockHolder(name);
      base.consumer = holder === 0 ? null : holder;
      s = Session.open(name);
    } catch (e) { // not one of ours after all (a bad name, a foreign object): say so, list the rest
      return { ...base, error: (e as Error).message };
    }
    try {
      const procsPath = s.procsPath();
      const procs = procsPath && fs.existsSync(procsPath) ? fs.readFileSync(procsPath, 'utf8') : '';
      const processes = procs.split('\n').filter(Boolean).map((line) => {
        const [pid = '0', tid = '0', ...rest] = line.split(' ');
        return { pid: Number(pid), tid: Number(tid), name: rest.join(' '), alive: fs.existsSync(`/proc/${pid}/task/${tid}`) };
      });
      const classes = [...s.classes()].map(([id, c]) => `${id} ${c.provider}:${c.name} (${c.kind})`);
      let selection: string[];
      try {
        selection = currentSelection(s).toText().trimEnd().split('\n').slice(1);
      } catch (e) {
        selection = [`unreadable: ${(e as Error).message}`];
      }
      return { ...base, mode: s.info.mode, cpus: s.info.nCpus, subBufferSize: s.info.subSize, subBuffers: s.info.nSub,
        lost: s.lostEvents(), processes, classes, selection };
    } finally {
      s.close();
    }
  });
}

export function formatListing(list: SessionListing[]): string {
  if (!list.length) return 'no sessions\n';
  return list.map((s) => {
    const command = s.mode === 'overwrite' ? 'flight' : 'record';
    const consumer = s.consumer === null
      ? `none (left by a ${command === 'flight' ? 'flight recorder' : 'consumer'} that exited: ` +
        `\`trace-consume ${command} -s NAME\` takes it over, --clean discards it)`
      : `pid ${s.consumer > 0 ? s.consumer : '?'}${s.mode === 'overwrite' ? ' (flight recorder: latest events in memory)' : ''}`;
    if (s.error) return `${s.name}\n  consumer: ${consumer}\n  unusable: ${s.error}\n`;
    const procs = s.processes.map((p) => `    ${p.pid}/${p.tid} ${p.name}${p.alive ? '' : ' (exited)'}`);
    return [`${s.name}`, `  consumer: ${consumer}`,
      `  rings: ${s.cpus} CPUs x ${s.subBuffers} x ${s.subBufferSize} bytes, lost ${s.lost}`,
      `  processes (${s.processes.length}):`, ...procs,
      `  event classes (${s.classes.length}):`, ...s.classes.map((c) => `    ${c}`),
      '  selection:', ...s.selection.map((r) => `    ${r}`)].join('\n') + '\n';
  }).join('\n');
}
