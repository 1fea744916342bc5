// Process and thread names for exports, from the trace's `.processes` file
// (the session's process log: "<pid> <tid> <label>" per attached thread,
// label = script name, "(worker N)" for worker threads). Lines that do not
// parse are skipped: names are cosmetic, events never depend on them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PROCESSES_FILE } from '../trace/writer';

export interface Names {
  process(pid: number): string;
  thread(pid: number, tid: number): string;
}

export interface ProcessLog {
  /** pid -> its label (the script name). */
  processes: Map<number, string>;
  /** tid -> thread name ("main", "worker N"). */
  threads: Map<number, string>;
}

export function readProcessLog(dir: string): ProcessLog {
  let text = '';
  try {
    text = fs.readFileSync(path.join(dir, PROCESSES_FILE), 'utf8');
  } catch {
    // older traces, or a consumer that died before writing it
  }
  return parseProcessLog(text);
}

/** A process log's text (a trace's copy, or the session's own): names by pid, thread labels by tid. */
export function parseProcessLog(text: string): ProcessLog {
  const processes = new Map<number, string>();
  const threads = new Map<number, string>();
  for (const line of text.split('\n')) {
    const m = /^(\d+) (\d+) (.{1,200})$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const tid = Number(m[2]);
    const label = m[3]!;
    const worker = /^(.*) \((worker \d+)\)$/.exec(label);
    if (!worker) processes.set(pid, label);
    else if (!processes.has(pid)) processes.set(pid, worker[1]!);
    threads.set(tid, pid === tid ? 'main' : worker ? worker[2]! : `thread ${tid}`);
  }
  return { processes, threads };
}

/** A thread's name from the log's names: logged, else 'main' for a process's first thread, else 'thread <tid>'. */
export function threadName(threads: Map<number, string>, pid: number, tid: number): string {
  return threads.get(tid) ?? (pid === tid ? 'main' : `thread ${tid}`);
}

export function readNames(dir: string): Names {
  const { processes, threads } = readProcessLog(dir);
  return {
    process: (pid) => `${processes.get(pid) ?? 'process'} (${pid})`,
    thread: (pid, tid) => threadName(threads, pid, tid),
  };
}
