// `trace-consume doctor`: checks that tracing works on this machine — the addon
// loads, rseq is registered, the clock is usable — by recording and reading back
// events through a throwaway session.
import { Session } from '../src/session';

export interface DoctorReport {
  ok: boolean;
  addon: string;
  rseq: boolean;
  clock: string;
  clockFreqHz: number;
  cpus: number;
  emitted: number;
  delivered: number;
  lost: number;
  problems: string[];
}

export function runDoctor(events: number): DoctorReport {
  const name = `doctor-${process.pid}-${Date.now()}`;
  const problems: string[] = [];
  let session: Session;
  try {
    session = Session.create(name, { subBufferSize: 64 * 1024, subBuffers: 4 });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return { ok: false, addon: 'failed', rseq: false, clock: '-', clockFreqHz: 0, cpus: 0,
      emitted: 0, delivered: 0, lost: 0, problems: [msg] };
  }
  try {
    Session.unlink(name); // nothing left behind even if we crash
    const consumer = session.consumer();
    const payload = Buffer.alloc(24);
    let delivered = 0;
    let lastTs = -1n;
    for (let i = 0; i < events; i++) {
      payload.writeBigUInt64LE(BigInt(i), 0);
      session.emitRaw(1, payload);
      if (i % 1000 === 999) delivered += countChecked(consumer.drain(false));
    }
    for (const r of consumer.drain(true)) {
      if (r.timestamp < lastTs) problems.push('timestamps went backwards');
      lastTs = r.timestamp;
      delivered++;
    }
    const lost = session.lostEvents();
    if (delivered + lost !== events) {
      problems.push(`emitted ${events} but delivered ${delivered} + lost ${lost}`);
    }
    if (!session.info.rseq) {
      problems.push('rseq is not registered in this process (glibc < 2.35, or disabled by ' +
        'GLIBC_TUNABLES=glibc.pthread.rseq=0): tracing works through the slower atomic rings');
    }
    return { ok: delivered + lost === events, addon: 'loaded', rseq: session.info.rseq,
      clock: session.info.clock, clockFreqHz: session.info.clockFreqHz, cpus: session.info.nCpus,
      emitted: events, delivered, lost, problems };
  } finally {
    session.close();
  }
}

function countChecked(it: Iterable<unknown>): number {
  let n = 0;
  for (const _ of it) n++;
  return n;
}
