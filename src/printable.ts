// Text from a trace (names, field values) shown on a terminal: its control
// characters as visible escapes, so a terminal never obeys one (a cursor
// move, a colour, a title change hidden in an event's string).

/** printable(s) in at most `width` characters: cut, its last one `mark`, when longer. */
export function printableCut(s: string, width: number, mark = '…'): string {
  const p = printable(s);
  return p.length > width ? `${p.slice(0, width - 1)}${mark}` : p;
}

/** Control characters (C0, DEL, C1) as \uXXXX escapes. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
