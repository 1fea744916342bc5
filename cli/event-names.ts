// Event names on the command line (`view --event`): which classes a name
// selects, and for a name the trace does not have, the names it was
// probably meant to be.
import { displayName, type ClassDescription } from '../src/schema';
import { UsageError } from './usage-error';

/** The names that select a class: "provider:event", "event", and a span's "provider:span:begin" / ":end". */
export function namesOf(cls: ClassDescription): string[] {
  const suffix = cls.kind === 'span_begin' ? ':begin' : cls.kind === 'span_end' ? ':end' : '';
  return [`${cls.provider}:${cls.name}`, cls.name, displayName(cls), `${cls.name}${suffix}`];
}

/** Levenshtein distance (insert, delete, substitute: 1 each). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * Display names of the classes `name` most likely meant: a name containing
 * it or contained in it (3 characters at least), or within a few edits of
 * one of the class's names; closest first, at most `max`.
 */
export function nearNames(name: string, classes: Iterable<ClassDescription>, max = 5): string[] {
  const want = name.toLowerCase();
  const scored = new Map<string, number>();
  for (const cls of classes) {
    let best = Infinity;
    for (const form of namesOf(cls).map((f) => f.toLowerCase())) {
      const within = Math.min(want.length, form.length) >= 3 && (form.includes(want) || want.includes(form));
      const d = within ? 0.5 : editDistance(want, form);
      best = Math.min(best, d);
    }
    const limit = Math.max(2, Math.floor(want.length / 3));
    const shown = displayName(cls);
    if (best <= limit && best < (scored.get(shown) ?? Infinity)) scored.set(shown, best);
  }
  return [...scored].sort(([a, x], [b, y]) => x - y || a.localeCompare(b)).slice(0, max).map(([n]) => n);
}

/** A UsageError for names no class of the trace has, or undefined if every name selects some class. */
export function unknownEvents(names: string[], classes: Map<number, ClassDescription>): UsageError | undefined {
  const known = new Set([...classes.values()].flatMap(namesOf));
  const lines = names.filter((n) => !known.has(n)).map((n) => {
    const near = nearNames(n, classes.values());
    if (near.length) return `no event '${n}' in this trace; near names: ${near.join(', ')}`;
    const all = [...new Set([...classes.values()].map(displayName))].sort();
    if (!all.length) return `no event '${n}' in this trace; it has no event classes`;
    const shown = all.slice(0, 10).join(', ') + (all.length > 10 ? `, and ${all.length - 10} more` : '');
    return `no event '${n}' in this trace; its events: ${shown}`;
  });
  return lines.length ? new UsageError(lines.join('\n')) : undefined;
}
