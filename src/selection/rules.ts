// A session's selection: which event classes its apps record (docs/selection.md).
// An ordered list of rules and a default; the last enable/disable rule whose
// pattern matches a class decides, else the default; a level rule sets the
// lowest level recorded; the last matching filter rule gives the class's
// filter expression. This module parses and prints the selection file and
// answers for a class; it knows nothing of sessions or files.

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type Level = (typeof LEVELS)[number];
/** A class without a level of its own. */
export const DEFAULT_LEVEL: Level = 'info';
/** The library's own records are always recorded (they account for the others). */
const OWN_PROVIDER = 'ringtrace';

export const SELECTION_HEADER = 'ringtrace-selection 1';
const MAX_RULES = 1024;
const MAX_LINE = 8192;
const PATTERN = /^[A-Za-z0-9_.*?-]+(:[A-Za-z0-9_*?]+)?$/;

export type Rule =
  | { kind: 'enable' | 'disable'; pattern: string }
  | { kind: 'filter'; pattern: string; expression: string };

export class SelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectionError';
  }
}

export function checkLevel(level: unknown, where: string): Level {
  if (typeof level !== 'string' || !(LEVELS as readonly string[]).includes(level)) {
    throw new TypeError(`${where}: ${JSON.stringify(level)} is not a level; use one of ${LEVELS.join(', ')}`);
  }
  return level as Level;
}

/** A `provider:name` glob: `*` any run, `?` one character; no `:` means the provider's every class. */
export function checkPattern(pattern: string): string {
  if (!PATTERN.test(pattern)) {
    throw new SelectionError(`'${pattern}' is not an event pattern: use provider:name, with * for any run of ` +
      `characters and ? for one (e.g. 'http:*', 'db:query', 'db')`);
  }
  return pattern.includes(':') ? pattern : `${pattern}:*`;
}

export function patternRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

export class Selection {
  private readonly matchers: { rule: Rule; re: RegExp }[];
  private readonly minLevel: number;

  constructor(readonly byDefault: boolean, readonly level: Level | undefined, readonly rules: readonly Rule[]) {
    if (rules.length > MAX_RULES) throw new SelectionError(`${rules.length} rules: at most ${MAX_RULES}`);
    this.matchers = rules.map((rule) => ({ rule, re: patternRegExp(checkPattern(rule.pattern)) }));
    this.minLevel = level === undefined ? 0 : LEVELS.indexOf(level);
  }

  /** Everything, as a session without a selection file. */
  static readonly ALL = new Selection(true, undefined, []);

  /** Is class `provider:name`, at `level`, recorded? */
  selects(provider: string, name: string, level: Level = DEFAULT_LEVEL): boolean {
    if (provider === OWN_PROVIDER) return true;
    if (LEVELS.indexOf(level) < this.minLevel) return false;
    const full = `${provider}:${name}`;
    let on = this.byDefault;
    for (const { rule, re } of this.matchers) {
      if (rule.kind !== 'filter' && re.test(full)) on = rule.kind === 'enable';
    }
    return on;
  }

  /** The filter expression for class `provider:name`, or null (none, or removed by an empty one). */
  filterFor(provider: string, name: string): string | null {
    if (provider === OWN_PROVIDER) return null;
    const full = `${provider}:${name}`;
    let expression: string | null = null;
    for (const { rule, re } of this.matchers) {
      if (rule.kind === 'filter' && re.test(full)) expression = rule.expression === '' ? null : rule.expression;
    }
    return expression;
  }

  /** This selection with more rules (and a new level, if given): what enable/disable do at run time. */
  with(rules: readonly Rule[], level?: Level): Selection {
    return new Selection(this.byDefault, level ?? this.level, [...this.rules, ...rules]);
  }

  /** The selection file's text. */
  toText(): string {
    const lines = [SELECTION_HEADER, `default ${this.byDefault ? 'on' : 'off'}`];
    if (this.level) lines.push(`level ${this.level}`);
    for (const r of this.rules) {
      lines.push(r.kind === 'filter' ? `filter ${r.pattern} ${r.expression}`.trimEnd() : `${r.kind} ${r.pattern}`);
    }
    return lines.join('\n') + '\n';
  }

  /** Parse a selection file; a SelectionError names the bad line. */
  static parse(text: string): Selection {
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    if (lines[0] !== SELECTION_HEADER) throw new SelectionError(`line 1: expected '${SELECTION_HEADER}'`);
    let byDefault = true;
    let level: Level | undefined;
    const rules: Rule[] = [];
    lines.slice(1).forEach((line, i) => {
      const at = `line ${i + 2}`;
      if (line.length > MAX_LINE) throw new SelectionError(`${at}: longer than ${MAX_LINE} characters`);
      const [word = '', rest = ''] = splitFirst(line);
      try {
        if (word === 'default' && (rest === 'on' || rest === 'off')) byDefault = rest === 'on';
        else if (word === 'level') level = checkLevel(rest, 'level');
        else if (word === 'enable' || word === 'disable') rules.push({ kind: word, pattern: checkPattern(rest) });
        else if (word === 'filter') {
          const [pattern = '', expression = ''] = splitFirst(rest);
          rules.push({ kind: 'filter', pattern: checkPattern(pattern), expression });
        } else throw new SelectionError(`expected default on|off, level, enable, disable or filter; got '${line}'`);
      } catch (e) {
        throw new SelectionError(`${at}: ${(e as Error).message}`);
      }
    });
    return new Selection(byDefault, level, rules);
  }
}

function splitFirst(s: string): [string, string] {
  const i = s.indexOf(' ');
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}
