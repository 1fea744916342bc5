// A span's events, kept until its end in one flat list rather than an
// object, an attributes object and a time array each: a request span with
// one event allocated ~1.7 KB through the OpenTelemetry API, and garbage is
// much of what a busy server pays for a tracer. Written into the end record
// as the JSON array the SDK's events make: {name, attributes, time: [s, ns],
// droppedAttributesCount} each.
import type { HrTime } from '@opentelemetry/api';
import { jsonParts, membersObject, SelfWrittenJson } from '../json-writer';
import { HRTIME_BASE_S } from '../serializer';
import { ATTRIBUTE_COUNT_LIMIT, keptAttribute } from './attributes';
import { type SpanTime, spanTimeToHrTime } from './time';

/** The SDK's default limit on a span's events (older ones are dropped first). */
export const EVENT_COUNT_LIMIT = 128;
/** Per event: name, time, dropped attributes, attribute count n, then n keys and values. */
const HEAD = 4;
const hasOwn = Object.prototype.hasOwnProperty;

export class SpanEvents extends SelfWrittenJson {
  private readonly flat: unknown[] = [];
  private count = 0;

  get length(): number {
    return this.count;
  }

  /**
   * An event with `attributes`' own keys (an object's keys are distinct, so
   * none replaces another), by the SDK's rules: invalid ones ignored, those
   * past the count limit dropped and counted.
   */
  add(name: string, attributes: object | null, time: SpanTime): void {
    const flat = this.flat;
    if (this.count >= EVENT_COUNT_LIMIT) flat.splice(0, HEAD + 2 * (flat[3] as number));
    else this.count++;
    const head = flat.length;
    flat.push(name, time, 0, 0);
    if (attributes === null) return;
    // The counts follow each step: a getter that throws leaves a well-formed event.
    for (const key in attributes) {
      if (!hasOwn.call(attributes, key)) continue;
      const value = (attributes as Record<string, unknown>)[key];
      if (!keptAttribute(key, value)) continue;
      if (flat[head + 3] === ATTRIBUTE_COUNT_LIMIT) {
        flat[head + 2] = (flat[head + 2] as number) + 1;
      } else {
        flat.push(key, Array.isArray(value) ? value.slice() : value);
        flat[head + 3] = (flat[head + 3] as number) + 1;
      }
    }
  }

  writeJson(depth: number): boolean {
    const { ascii, string, number, value, members } = jsonParts;
    const flat = this.flat;
    if (!ascii('[')) return false;
    for (let i = 0; i < flat.length; i += HEAD + 2 * (flat[i + 3] as number)) {
      const time = flat[i + 1] as SpanTime;
      const from = i + HEAD;
      if (!ascii(i === 0 ? '{"name":' : ',{"name":') || !string(flat[i] as string) ||
        !ascii(',"attributes":') || !members(flat, depth + 1, from, from + 2 * (flat[i + 3] as number)) ||
        !ascii(',"time":')) return false;
      if (typeof time === 'number') { // as spanTimeToHrTime's, without the array
        const s = Math.floor(time / 1e9);
        if (!ascii('[') || !number(HRTIME_BASE_S + s) || !ascii(',') || !number(time - s * 1e9) || !ascii(']')) {
          return false;
        }
      } else if (!value(time, depth + 1)) {
        return false;
      }
      if (!ascii(',"droppedAttributesCount":') || !number(flat[i + 2] as number) || !ascii('}')) return false;
    }
    return ascii(']');
  }

  toJSON(): { name: string; attributes: Record<string, unknown>; time: HrTime; droppedAttributesCount: number }[] {
    const out = [];
    const flat = this.flat;
    for (let i = 0; i < flat.length; i += HEAD + 2 * (flat[i + 3] as number)) {
      out.push({ name: flat[i] as string,
        attributes: membersObject(flat, i + HEAD, i + HEAD + 2 * (flat[i + 3] as number)),
        time: spanTimeToHrTime(flat[i + 1] as SpanTime), droppedAttributesCount: flat[i + 2] as number });
    }
    return out;
  }
}
