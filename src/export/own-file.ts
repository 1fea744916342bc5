// Output files of the readers (exports, the report): the trace's data, so
// the user's own (0600), and never written through a symbolic link.
import * as fs from 'node:fs';

const O_OUTPUT = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW;

/**
 * Create or truncate `file` for writing, never through a symbolic link; a
 * regular file is made 0600 even if it existed (a device such as /dev/null
 * keeps its mode). An error says why in words.
 */
export function openOwnFile(file: string): number {
  let fd: number;
  try {
    fd = fs.openSync(file, O_OUTPUT, 0o600);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ELOOP' ? 'it is a symbolic link (not followed)'
      : err.code === 'EISDIR' ? 'it is a directory'
        : err.code === 'ENOENT' ? 'its directory does not exist'
          : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new Error(`cannot write ${file}: ${why}`);
  }
  if (fs.fstatSync(fd).isFile()) fs.fchmodSync(fd, 0o600);
  return fd;
}
