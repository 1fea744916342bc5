// Follows a session's rings as data arrives, without consuming anything (the
// flight recorder evaluates its triggers on what writers just recorded).
// Writers never wait for it: what they overwrite before it is seen is skipped
// and counted (native/ring/snapshot.h, rt_peek_next).
import { loadNative, type PeekerHandle } from './native';
import { records, type RawRecord } from './records';

export class Peeker {
  constructor(private readonly handle: PeekerHandle, readonly nRings: number) {}

  /**
   * Records committed in `ring` since the last call, oldest first, up to the end of one sub-buffer
   * (call again until null); null when nothing new is committed. A record not yet committed holds
   * back those after it. Throws if a sub-buffer is damaged; it is stepped over, so the next call
   * goes on after it.
   */
  next(ring: number): RawRecord[] | null {
    const chunk = loadNative().peekerNext(this.handle, ring);
    if (!chunk) return null;
    return [...records(chunk.data, chunk.begin, `ring ${ring}, sub-buffer at ${chunk.subOffset}`)];
  }

  /** Bytes of `ring` (records, packet headers, padding) overwritten before this peeker saw them. */
  skipped(ring: number): number {
    return loadNative().peekerSkipped(this.handle, ring);
  }
}
