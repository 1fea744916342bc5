// `trace-consume snapshot -s NAME [-o DIR]`: write the latest data of a
// flight recorder's session as a trace directory, now, while recording goes
// on. It only reads the rings (producers never wait for it), so it works
// beside a running `trace-consume flight`, or after one was killed.
import * as path from 'node:path';
import { Session } from '../src/session';
import { snapshotName, writeSnapshot, type SnapshotSummary } from '../src/flight/snapshot-dir';
import { UsageError } from './usage-error';

export interface SnapshotOptions {
  session: string;
  output?: string;
  reason?: string;
}

export function runSnapshot(opts: SnapshotOptions): SnapshotSummary {
  const session = Session.open(opts.session);
  try {
    if (session.info.mode !== 'overwrite') {
      throw new UsageError(`session '${opts.session}' is being recorded to disk (trace-consume record), ` +
        'not held by a flight recorder: its data is in the recording\'s trace directory. Snapshots are of ' +
        'sessions started with trace-consume flight');
    }
    const dir = opts.output ?? path.join('.', `${opts.session}-${snapshotName(1, new Date()).replace(/^snapshot-0001-/, 'snapshot-')}`);
    return writeSnapshot(session, dir, [opts.reason ?? 'trace-consume snapshot']);
  } finally {
    session.close();
  }
}
