// `trace-consume doctor`: checks that tracing works on this machine — the
// addon loads, rseq is registered, the clock is usable — by recording events
// through the API apps use, from this thread and a worker thread, into a
// throwaway session, reading them back and checking every record
// (doctor-checks.ts). Any anomaly fails the doctor.
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Session } from '../src/session';
import { currentTracer } from '../src/tracer';
import { DeliveryCheck } from './doctor-checks';
import { DONE, DOCTOR_RECORD_MAX, doctorEvent, emitBatch, GO } from './doctor-emitter';
import { PACKET_HEADER } from '../src/layout';
import { kernelClocksource } from '../src/clocksource';


export interface DoctorReport {
  ok: boolean;
  addon: string;
  rseq: boolean;
  clock: string;
  clockFreqHz: number;
  /** Why the session got that clock (the counter's checks, or RINGTRACE_CLOCK). */
  clockWhy: string;
  /** The kernel's clocksource (/sys), for comparison. */
  clocksource: string;
  cpus: number;
  threads: number;
  emitted: number;
  delivered: number;
  lost: number;
  remoteCommits: number;
  /** Rings each thread wrote into: more than one means it migrated between CPUs. */
  ringsPerThread: number[];
  /** Failures: time going backwards within a ring, events lost or missing, wrong values. */
  anomalies: string[];
  /** Worth knowing, not failures (the atomic fallback, migrations). */
  notes: string[];
}

const SUB_SIZE = 64 * 1024;
const SUBS = 4;
const STALL_MS = 10_000;

/**
 * Events per thread between two drains. Both threads may run on one CPU,
 * so one ring takes two batches; a drain leaves at most the sub-buffer being
 * filled unreleased, and each sub-buffer loses its packet header and up to
 * a record of padding. Half of that room: nothing can be lost.
 */
export const BATCH = Math.floor(((SUBS - 1) * (SUB_SIZE - PACKET_HEADER - DOCTOR_RECORD_MAX)) / (2 * DOCTOR_RECORD_MAX) / 2);

function failed(problem: string): DoctorReport {
  return { ok: false, addon: 'failed', rseq: false, clock: '-', clockFreqHz: 0, clockWhy: '',
    clocksource: kernelClocksource(), cpus: 0, threads: 0, emitted: 0, delivered: 0, lost: 0, remoteCommits: 0,
    ringsPerThread: [], anomalies: [problem], notes: [] };
}

/** The worker's first message: whether its events attached to the session. */
function workerReady(w: Worker): Promise<boolean> {
  return new Promise((resolve, reject) => {
    w.once('message', (m: { enabled: boolean }) => resolve(m.enabled));
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`the worker thread exited (code ${code}) before emitting`)));
  });
}

export async function runDoctor(events: number): Promise<DoctorReport> {
  const name = `doctor-${process.pid}-${Date.now()}`;
  let session: Session;
  try {
    session = Session.create(name, { subBufferSize: SUB_SIZE, subBuffers: SUBS });
  } catch (e) {
    return failed(e instanceof Error ? e.message : String(e));
  }
  const before = process.env['RINGTRACE_SESSION'];
  const counts = [Math.ceil(events / 2), Math.floor(events / 2)]; // this thread, the worker
  const batches = Math.ceil(counts[0]! / BATCH);
  const ctl = new Int32Array(new SharedArrayBuffer(8));
  let worker: Worker | undefined;
  try {
    // This thread's tracer reads RINGTRACE_SESSION when it starts (doctor is its first user).
    process.env['RINGTRACE_SESSION'] = name;
    const tracer = currentTracer();
    if (tracer.sessionName !== name) {
      return failed(`this thread already traces into session '${tracer.sessionName}'; run doctor in a process of its own`);
    }
    const ev = doctorEvent();
    tracer.poll();
    if (!ev.enabled) return failed(`the main thread's events did not attach to session '${name}'`);
    worker = new Worker(path.join(__dirname, 'doctor-emitter.js'), {
      workerData: { doctor: true, ctl: ctl.buffer, thread: 1, count: counts[1], batches, batch: BATCH },
      env: { ...process.env, RINGTRACE_SESSION: name },
    });
    if (!(await workerReady(worker))) return failed(`the worker thread's events did not attach to session '${name}'`);

    const classes = session.classes();
    const classId = [...classes].find(([, c]) => c.provider === 'doctor' && c.name === 'check')?.[0] ?? -1;
    // Nothing left behind even if we crash: the mappings stay valid. Both
    // threads emit synchronously from here on, so their tracers (which drop
    // an unlinked session at their next poll) keep emitting until the end.
    session.remove();
    const check = new DeliveryCheck({ classId, classes, emitted: counts, pid: process.pid });
    const consumer = session.consumer();
    const anomalies: string[] = [];
    for (let b = 0; b < batches; b++) {
      Atomics.add(ctl, GO, 1);
      Atomics.notify(ctl, GO);
      emitBatch(ev, 0, b * BATCH, Math.min(counts[0]!, (b + 1) * BATCH));
      const deadline = Date.now() + STALL_MS;
      while (Atomics.load(ctl, DONE) <= b && Date.now() < deadline) Atomics.wait(ctl, DONE, b, 100);
      if (Atomics.load(ctl, DONE) <= b) {
        anomalies.push(`the worker thread stopped emitting in batch ${b} (waited ${STALL_MS / 1000} s)`);
        break;
      }
      for (const r of consumer.drain(true)) check.add(r);
    }
    for (const r of consumer.drain(true)) check.add(r);
    let lost = 0;
    let remoteCommits = 0;
    for (let ring = 0; ring < session.info.nRings; ring++) {
      const s = session.ringStats(ring);
      lost += s.lost;
      remoteCommits += s.remoteCommits;
    }
    const result = check.result(lost);
    anomalies.push(...result.anomalies);
    const notes: string[] = [];
    if (!session.info.rseq) {
      notes.push('rseq is not registered in this process (glibc < 2.35, or disabled by ' +
        'GLIBC_TUNABLES=glibc.pthread.rseq=0): tracing works through the slower atomic rings');
    }
    result.ringsPerThread.forEach((n, t) => {
      if (n > 1) notes.push(`thread ${t} wrote into ${n} rings (it moved between CPUs); time is compared within each ring`);
    });
    return { ok: anomalies.length === 0, addon: 'loaded', rseq: session.info.rseq, clock: session.info.clock,
      clockFreqHz: session.info.clockFreqHz, clockWhy: session.info.clockWhy, clocksource: kernelClocksource(),
      cpus: session.info.nCpus, threads: 2, emitted: counts[0]! + counts[1]!,
      delivered: result.delivered, lost, remoteCommits, ringsPerThread: result.ringsPerThread, anomalies, notes };
  } finally {
    if (worker) await worker.terminate();
    if (before === undefined) delete process.env['RINGTRACE_SESSION'];
    else process.env['RINGTRACE_SESSION'] = before;
    try {
      session.remove();
    } catch {
      // removed above
    }
    session.close();
  }
}
