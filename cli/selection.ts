// The selection options of `record` (-e, --exclude, --level, --filter) and the
// `enable` / `disable` commands that change a running session's selection
// (docs/selection.md).
import { Session } from '../src/session';
import { currentSelection, publishSelection } from '../src/selection/publish';
import { checkLevel, checkPattern, type Level, type Rule, Selection } from '../src/selection/rules';
import { checkFilterSyntax, FilterError, formatFilterError, parseFilter } from '../src/filter';
import type { Command } from 'commander';
import { collect } from './args';
import { UsageError } from './usage-error';

export interface SelectionOptions {
  enable?: string[] | undefined;
  exclude?: string[] | undefined;
  level?: string | undefined;
  filter?: string[] | undefined;
}

/** The options choosing what apps record (record and flight take the same). */
export function addSelectionOptions(command: Command): Command {
  return command
    .option('-e, --enable <pattern>', 'record only the events matching these patterns (repeatable; provider:name, ' +
      '* and ? wildcards; default: every event)', collect)
    .option('--exclude <pattern>', 'do not record events matching this pattern (repeatable)', collect)
    .option('--level <level>', 'record only events at this level or above: trace, debug, info, warn, error')
    .option('--filter <rule>', "record the matching events only when their fields pass: 'PATTERN: EXPRESSION' " +
      '(repeatable; docs/filters.md)', collect);
}

/** `PATTERN: EXPRESSION` (the pattern's own colons come before the one followed by a space). */
export function parseFilterArg(arg: string): Rule {
  const m = /^(\S+):(?:\s+(.*))?$/s.exec(arg.trim());
  if (!m) {
    throw new UsageError(`--filter '${arg}': expected 'PATTERN: EXPRESSION', e.g. ` +
      `--filter 'http:request: status >= 500 && path != "/health"'`);
  }
  const expression = (m[2] ?? '').trim();
  try {
    if (expression) checkFilterSyntax(expression, `--filter '${arg}'`);
  } catch (e) {
    throw e instanceof FilterError ? new UsageError(`${e.message}\n${formatFilterError(e, expression)}`) : e;
  }
  return { kind: 'filter', pattern: checked(m[1]!), expression };
}

/** Each filter against the fields of the session's classes it would apply to (those known so far). */
function checkAgainstClasses(session: Session, selection: Selection): void {
  for (const cls of session.classes().values()) {
    const expression = cls.kind === 'span_end' ? null : selection.filterFor(cls.provider, cls.name);
    if (!expression) continue;
    try {
      parseFilter(expression, cls.fields, `filter on ${cls.provider}:${cls.name}`);
    } catch (e) {
      throw e instanceof FilterError ? new UsageError(`${e.message}\n${formatFilterError(e, expression)}`) : e;
    }
  }
}

function checked(pattern: string): string {
  try {
    return checkPattern(pattern);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

function levelArg(level: string | undefined): Level | undefined {
  try {
    return level === undefined ? undefined : checkLevel(level, '--level');
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The selection `record`'s options ask for, or undefined if they ask for none. */
export function selectionFromOptions(o: SelectionOptions): Selection | undefined {
  const enable = o.enable ?? [];
  const rules: Rule[] = [...enable.map((p): Rule => ({ kind: 'enable', pattern: checked(p) })),
    ...(o.exclude ?? []).map((p): Rule => ({ kind: 'disable', pattern: checked(p) })),
    ...(o.filter ?? []).map(parseFilterArg)];
  const level = levelArg(o.level);
  if (!rules.length && level === undefined) return undefined;
  return new Selection(enable.length === 0, level, rules); // -e: only what is named
}

/**
 * `trace-consume enable|disable -s NAME [PATTERN...] [--level L] [--filter 'P: E']`:
 * append rules to the session's selection; apps follow at once (at most
 * RINGTRACE_POLL_MS later). Returns the lines to print.
 */
export function changeSelection(kind: 'enable' | 'disable', name: string, patterns: string[],
  o: { level?: string | undefined; filter?: string[] | undefined }): string {
  const rules: Rule[] = [...patterns.map((p): Rule => ({ kind, pattern: checked(p) })),
    ...(o.filter ?? []).map(parseFilterArg)];
  const level = levelArg(o.level);
  if (!rules.length && level === undefined) {
    throw new UsageError(`nothing to ${kind}: give event patterns (e.g. 'http:*'), --level or --filter`);
  }
  const session = Session.open(name);
  try {
    const next = currentSelection(session).with(rules, level);
    checkAgainstClasses(session, next);
    const generation = publishSelection(session, next);
    return `session '${name}': selection ${generation} in force:\n${next.toText().split('\n').slice(1).join('\n').trimEnd()}`;
  } finally {
    session.close();
  }
}
