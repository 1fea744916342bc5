// OpenTelemetry attribute rules, as the API specifies them and the SDK applies
// them: a value is a string, number or boolean, or an array of one of those
// (null/undefined elements allowed); a key is a non-empty string; null and
// undefined values are ignored; at most ATTRIBUTE_COUNT_LIMIT attributes per
// span, event or link (the SDK's default: 128), later new keys are dropped and counted.
import type { Attributes, AttributeValue } from '@opentelemetry/api';

export const ATTRIBUTE_COUNT_LIMIT = 128;

function primitive(t: string): boolean {
  return t === 'string' || t === 'number' || t === 'boolean';
}

export function isAttributeValue(value: unknown): value is AttributeValue {
  if (value == null) return true;
  if (!Array.isArray(value)) return primitive(typeof value);
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

/**
 * Set one attribute in `into`, which holds `count` of them, by the rules
 * above (an array is copied: the caller may change its own afterwards).
 * Returns the new count, or -1 if the count limit dropped it (an invalid key
 * or value is ignored: the count is returned unchanged).
 */
export function addAttribute(into: Attributes, key: unknown, value: unknown, count: number): number {
  if (value == null || typeof key !== 'string' || key === '' || !isAttributeValue(value)) return count;
  const isNew = !Object.prototype.hasOwnProperty.call(into, key);
  if (isNew && count >= ATTRIBUTE_COUNT_LIMIT) return -1;
  into[key] = Array.isArray(value) ? value.slice() : value;
  return isNew ? count + 1 : count;
}

/** addAttribute for each of `from`'s own properties. Returns the new count and how many the limit dropped. */
export function addAttributes(into: Attributes, from: unknown, count: number): { count: number; dropped: number } {
  let dropped = 0;
  if (typeof from !== 'object' || from === null) return { count, dropped };
  for (const key in from) {
    if (!Object.prototype.hasOwnProperty.call(from, key)) continue;
    const next = addAttribute(into, key, (from as Record<string, unknown>)[key], count);
    if (next < 0) dropped++;
    else count = next;
  }
  return { count, dropped };
}
