// top reading a session's rings directly. Beside a recorder or a flight
// recorder it peeks: it copies what writers committed, consuming nothing,
// so the recorder writes exactly what it would have (native/ring/snapshot.h:
// a reader that falls behind skips what writers overwrote, counted). With no
// consumer it is the consumer: it releases what it reads, as record would,
// so the apps' rings do not fill.
import type { ClassDescription } from '../schema';
import type { RawRecord } from '../records';
import type { Consumer, Session } from '../session';
import type { Peeker } from '../peeker';
import type { RecordFeed } from './feed';

/** Chunks read per ring per poll at most: one busy ring cannot hold up the others. */
const CHUNKS_PER_POLL = 256;

export interface CpuFacts {
  cpu: number;
  /** Events dropped because the CPU's rings were full, since the session began. */
  lost: number;
  /** Share of the CPU's ring written and not yet consumed (discard mode); null in overwrite mode. */
  fill: number | null;
}

export class SessionSource {
  private classes = new Map<number, ClassDescription>();
  private base: bigint | undefined;
  private readonly nsPerTick: number;
  private readonly offsets: Float64Array;
  /** Records of a class the session's registry does not describe (left out). */
  unknown = 0;

  private constructor(readonly session: Session, private readonly peeker: Peeker | undefined,
    private readonly consumer: Consumer | undefined) {
    const info = session.info;
    this.nsPerTick = info.clock === 'cycles' ? 1e9 / info.clockFreqHz : 1;
    this.offsets = new Float64Array(3 * info.nRings);
    this.classes = session.classes();
  }

  /** Read beside the session's consumer; what the rings already hold is not counted (top shows from now on). */
  static peek(session: Session): SessionSource {
    const peeker = session.peeker();
    for (let ring = 0; ring < session.info.nRings; ring++) {
      for (;;) { // skip what was there
        try {
          if (!peeker.next(ring)) break;
        } catch {
          // a damaged sub-buffer is stepped over: the ring's older records go on after it
        }
      }
    }
    return new SessionSource(session, peeker, undefined);
  }

  /** Be the session's consumer (its lock taken by the caller). */
  static consume(session: Session): SessionSource {
    return new SessionSource(session, undefined, session.consumer());
  }


  /** Hand over what was committed since the last poll; returns the records handed over. */
  poll(feed: RecordFeed): number {
    let n = 0;
    const cpus = this.session.info.nCpus;
    const take = (rec: RawRecord, ring: number) => {
      let cls = this.classes.get(rec.id);
      if (!cls) {
        this.classes = this.session.classes(); // a class registered since
        cls = this.classes.get(rec.id);
        if (!cls) {
          this.unknown++;
          return;
        }
      }
      this.base ??= rec.timestamp;
      feed.record(cls, ring < cpus ? ring : ring - cpus, Number(rec.timestamp - this.base) * this.nsPerTick,
        rec.payload, 0, rec.payload.length);
      n++;
    };
    if (this.consumer) {
      for (const rec of this.consumer.drain(true)) take(rec, rec.ring);
      return n;
    }
    for (let ring = 0; ring < this.session.info.nRings; ring++) {
      for (let i = 0; i < CHUNKS_PER_POLL; i++) {
        let recs: RawRecord[] | null;
        try {
          recs = this.peeker!.next(ring);
        } catch {
          continue; // a damaged sub-buffer: stepped over
        }
        if (!recs) break;
        for (const rec of recs) take(rec, ring);
      }
    }
    return n;
  }

  /** Bytes writers overwrote before top read them (peek mode: top fell behind). */
  skipped(): number {
    let bytes = 0;
    for (let ring = 0; this.peeker && ring < this.session.info.nRings; ring++) bytes += this.peeker.skipped(ring);
    return bytes;
  }

  cpuFacts(): CpuFacts[] {
    return cpuFacts(this.session, this.offsets);
  }
}

/** Per CPU (its rseq ring and its fallback ring together): losses and fill, read from the session's counters. */
export function cpuFacts(session: Session, offsets: Float64Array = new Float64Array(3 * session.info.nRings)): CpuFacts[] {
  const info = session.info;
  session.ringOffsets(offsets);
  const o = offsets;
  const ringSize = info.subSize * info.nSub;
  const facts: CpuFacts[] = [];
  for (let cpu = 0; cpu < info.nCpus; cpu++) {
    let lost = 0;
    let fill = 0;
    for (const ring of [cpu, cpu + info.nCpus]) {
      if (ring >= info.nRings) continue;
      lost += o[3 * ring + 2]!;
      fill = Math.max(fill, (o[3 * ring]! - o[3 * ring + 1]!) / ringSize);
    }
    facts.push({ cpu, lost, fill: info.mode === 'overwrite' ? null : Math.min(1, Math.max(0, fill)) });
  }
  return facts;
}
