// Filter expressions on an event's fields, e.g. `status >= 500 && path != "/health"`:
// parsed, checked against the event's schema, and compiled to a JS function
// that takes emit's values and says whether to record the event.
// The language is described in docs/filters.md.
import type { Field } from '../schema';
import type { FilterAst } from './ast';
import { check } from './check';
import { filterSource } from './codegen';
import { FilterError } from './errors';
import { parse } from './parser';

export type { CompareOp, FilterAst, FieldRef, Literal } from './ast';
export { FilterError, formatFilterError, MAX_FILTER_DEPTH, MAX_FILTER_LENGTH } from './errors';
export { filterSource } from './codegen';

/** Check `text`'s syntax alone (no event at hand yet); throws a FilterError naming the problem and position. */
export function checkFilterSyntax(text: string, where: string): void {
  parse(text, where);
}

/** Parse and check `text` against the event's fields; throws a FilterError naming the problem and position. */
export function parseFilter(text: string, fields: readonly Field[], where: string): FilterAst {
  if (typeof text !== 'string') throw new FilterError(where, `a filter is a string, not ${typeof text}`, 0);
  return check(parse(text, where), fields, where);
}

/**
 * Parse, check and compile: a function of emit's values (in field order)
 * returning whether the event passes. It never throws, whatever it is given.
 */
export function compileFilter(text: string, fields: readonly Field[], where: string): (...values: unknown[]) => boolean {
  const body = filterSource(parseFilter(text, fields, where), fields);
  return new Function(...fields.map((_, i) => `v${i}`), body) as (...values: unknown[]) => boolean;
}
