// Errors in filter expressions: what is wrong and where (a 0-based offset into
// the expression), and a two-line caret display for command-line messages.

/** Longest filter expression accepted, in UTF-16 code units. */
export const MAX_FILTER_LENGTH = 4096;
/** Deepest nesting of '(' and '!' accepted (keeps parsing and code generation shallow). */
export const MAX_FILTER_DEPTH = 64;

export class FilterError extends Error {
  override name = 'FilterError';
  /**
   * @param where the event the filter is for (e.g. `http:request`)
   * @param problem what is wrong, without the position
   * @param position 0-based offset in the expression (its length for "at the end")
   */
  constructor(readonly where: string, readonly problem: string, readonly position: number) {
    super(`ringtrace: ${where}: bad filter at position ${position}: ${problem}`);
  }
}

/** Longest expression shown whole by formatFilterError; longer ones show a window around the error. */
const SHOWN = 100;
const CONTEXT = 40;

/**
 * The expression on one line and a `^` under the error's position, e.g.
 *     status >= 500 && pth != "/health"
 *                      ^
 * Tabs and line breaks show as spaces so the caret stays aligned.
 */
export function formatFilterError(err: FilterError, text: string): string {
  const pos = Math.max(0, Math.min(err.position, text.length));
  let start = 0;
  let end = text.length;
  if (text.length > SHOWN) {
    start = Math.max(0, pos - CONTEXT);
    end = Math.min(text.length, pos + CONTEXT);
  }
  const before = start > 0 ? '…' : '';
  const after = end < text.length ? '…' : '';
  const line = before + text.slice(start, end).replace(/[\t\n\r\v\f]/g, ' ') + after;
  // One column per code point: a surrogate pair before the error counts once.
  const column = [...text.slice(start, pos)].length + before.length;
  return `${line}\n${' '.repeat(column)}^`;
}
