// Putting a selection in force in a session (the recorder at start, and
// `trace-consume enable/disable` while it records): the file replaced whole,
// its generation announced, and a ringtrace:selection record so the trace says
// when each selection took effect.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, parseFields } from '../schema';
import type { Session } from '../session';
import { readPrivateFile } from './follow';
import { Selection } from './rules';

const RECORD_FIELDS = parseFields('ringtrace:selection', ['generation:u32', 'rules:string']);
/** Longest rules text (UTF-16 units) a record carries (the file holds them all). */
const MAX_RECORD_TEXT = 16 * 1024;

/** The selection in force (no file: everything). */
export function currentSelection(session: Session): Selection {
  const text = readPrivateFile(session.selectionPath(), 1 << 20);
  return text === null ? Selection.ALL : Selection.parse(text);
}

/** Put `selection` in force; returns its generation (the number it is announced with). */
export function publishSelection(session: Session, selection: Selection): number {
  const file = session.selectionPath();
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.rmSync(tmp, { force: true });
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL |
    fs.constants.O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, selection.toText());
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file); // readers see the old file or the new one, never half of one
  // The record goes in before the announcement: no app acts on the new selection before the
  // trace has it, so a recording that ends meanwhile cannot hold the change but not its record.
  const generation = session.selectionGeneration() + 1;
  recordSelection(session, generation, selection);
  session.bumpSelection();
  return generation;
}

/** A ringtrace:selection record (generation, the rules' text) written into the session's rings. */
function recordSelection(session: Session, generation: number, selection: Selection): void {
  const id = session.registerClass(describe('ringtrace', 'selection', 'event', RECORD_FIELDS));
  let text = selection.toText().split('\n').slice(1).join('\n').trimEnd();
  if (text.length > MAX_RECORD_TEXT) text = `${text.slice(0, MAX_RECORD_TEXT)}…`;
  const rules = Buffer.from(text, 'utf8');
  const payload = Buffer.alloc(12 + rules.length + 1); // pid, tid (the record context), generation, rules, NUL
  payload.writeUInt32LE(process.pid, 0);
  payload.writeUInt32LE(process.pid, 4);
  payload.writeUInt32LE(generation, 8);
  rules.copy(payload, 12);
  session.emitRaw(id, payload);
}
