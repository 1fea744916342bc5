// OpenTelemetry attribute rules, as the API specifies them and the SDK applies
// them: a value is a string, number or boolean, or an array of one of those
// (null/undefined elements allowed); a key is a non-empty string; null and
// undefined values are ignored; at most ATTRIBUTE_COUNT_LIMIT attributes per
// span, event or link (the SDK's default: 128), later new keys are dropped and counted.
import type { AttributeValue } from '@opentelemetry/api';

export const ATTRIBUTE_COUNT_LIMIT = 128;

function primitive(t: string): boolean {
  return t === 'string' || t === 'number' || t === 'boolean';
}

export function isAttributeValue(value: unknown): value is AttributeValue {
  // typeof compared with literals where it is taken: TurboFan makes each a type check, where a
  // typeof result passed on (to primitive()) is a builtin call; the common case before isArray
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return true;
  if (value == null) return true;
  if (!Array.isArray(value)) return false;
  let kind: string | undefined;
  for (const e of value as unknown[]) {
    if (e == null) continue;
    const t = typeof e;
    if (kind === undefined) {
      if (!primitive(t)) return false;
      kind = t;
    } else if (t !== kind) {
      return false;
    }
  }
  return true;
}

/** Whether an attribute is kept (not ignored): a non-empty key other than __proto__, a valid value not null. */
export function keptAttribute(key: unknown, value: unknown): boolean {
  return value != null && typeof key === 'string' && key !== '' && key !== '__proto__' && isAttributeValue(value);
}

/**
 * Set one attribute in the key/value list `kv` by the rules above (an array
 * is copied: the caller may change its own afterwards); a key already there
 * keeps its place. Returns false if the count limit (`limit` distinct keys)
 * dropped it (an invalid key or value is ignored, not dropped; so is
 * `__proto__`, which the SDK's attribute object never holds). A list, not an
 * object: see JsonMembers (json-writer.ts); its linear search is over at most
 * the limit.
 */
export function addAttribute(kv: unknown[], key: unknown, value: unknown, limit = ATTRIBUTE_COUNT_LIMIT): boolean {
  if (!keptAttribute(key, value)) return true;
  const v = Array.isArray(value) ? value.slice() : value;
  for (let i = 0; i < kv.length; i += 2) {
    if (kv[i] === key) {
      kv[i + 1] = v;
      return true;
    }
  }
  if (kv.length >= 2 * limit) return false;
  kv.push(key, v);
  return true;
}

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * addAttribute for each of `from`'s own enumerable properties. Returns how
 * many the limit dropped. for-in, not Object.keys: it visits the own keys in
 * the same order without making an array of them (V8's enum cache).
 */
export function addAttributes(kv: unknown[], from: unknown, limit = ATTRIBUTE_COUNT_LIMIT): number {
  if (typeof from !== 'object' || from === null) return 0;
  let dropped = 0;
  for (const key in from) {
    if (hasOwn.call(from, key) && !addAttribute(kv, key, (from as Record<string, unknown>)[key], limit)) dropped++;
  }
  return dropped;
}

/** What fillAttributes wrote: one object, reused by every call (read it before the next). */
export interface Filled { end: number; dropped: number }
const filled: Filled = { end: 0, dropped: 0 };

/** `from`'s own enumerable keys: the room its attributes take at most, in pairs. */
export function ownKeyCount(from: object): number {
  let n = 0;
  for (const key in from) if (hasOwn.call(from, key)) n++;
  return n;
}

/**
 * Write the attributes of `from`, an object whose own keys are distinct (so
 * none replaces another), into `list` from index `at` as keys and values,
 * by addAttribute's rules, at most `limit` of them: onto the end of `list`
 * (`at` its length), or into room made for them (ownKeyCount: a list made
 * at its exact size allocates no more, where appending to an empty one
 * allocates room for 17 values).
 */
export function fillAttributes(list: unknown[], at: number, from: object, limit = ATTRIBUTE_COUNT_LIMIT): Filled {
  let end = at;
  let dropped = 0;
  for (const key in from) {
    if (!hasOwn.call(from, key)) continue;
    const value = (from as Record<string, unknown>)[key];
    if (!keptAttribute(key, value)) continue;
    if (end - at === 2 * limit) {
      dropped++;
    } else {
      list[end++] = key;
      list[end++] = Array.isArray(value) ? value.slice() : value;
    }
  }
  filled.end = end;
  filled.dropped = dropped;
  return filled;
}
