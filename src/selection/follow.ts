// Following a session's selection from a traced thread: the session header's
// selection generation says whether the file changed (one load per look); the
// file is read only then, validated as any file another process wrote, and a
// bad one is refused with one warning, keeping the selection in force.
import * as fs from 'node:fs';
import type { NativeAddon, SessionHandle } from '../native';
import { Selection } from './rules';

const MAX_SELECTION_BYTES = 1 << 20;

/** The text of a private file of ours (regular, owned by us, no group/other access), or null if absent. */
export function readPrivateFile(path: string, maxBytes: number): string | null {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const st = fs.fstatSync(fd);
    const uid = typeof process.geteuid === 'function' ? process.geteuid() : st.uid;
    if (!st.isFile() || st.uid !== uid || (st.mode & 0o077) !== 0) {
      throw new Error(`${path} is not a private regular file of yours`);
    }
    if (st.size > maxBytes) throw new Error(`${path} is ${st.size} bytes; at most ${maxBytes}`);
    return fs.readFileSync(fd, 'utf8');
  } finally {
    fs.closeSync(fd);
  }
}

export class SelectionFollower {
  private generation = -1;
  selection = Selection.ALL;
  /** Base name of the selection file (a /dev/shm watch reports names). */
  readonly fileName: string | undefined;
  private readonly path: string | null;

  constructor(private readonly native: NativeAddon, private readonly handle: SessionHandle,
    private readonly warn: (message: string) => void) {
    this.path = native.selectionPath(handle);
    this.fileName = this.path?.slice(this.path.lastIndexOf('/') + 1);
  }

  /** Look at the generation; true if a new selection is now in force. */
  refresh(): boolean {
    const generation = this.native.selectionGeneration(this.handle);
    if (generation === this.generation || !this.path) return false;
    this.generation = generation;
    try {
      const text = readPrivateFile(this.path, MAX_SELECTION_BYTES);
      this.selection = text === null ? Selection.ALL : Selection.parse(text);
      return true;
    } catch (e) {
      this.warn(`ignoring the session's new selection (the previous one stays): ${this.path}: ${(e as Error).message}`);
      return false;
    }
  }
}
