// A span's events, kept until its end in one flat list rather than an
// object, an attributes object and a time array each: a request span with
// one event allocated ~1.7 KB through the OpenTelemetry API, and garbage is
// much of what a busy server pays for a tracer. Written into the end record
// as the JSON array the SDK's events make: {name, attributes, time: [s, ns],
// droppedAttributesCount} each.
import type { HrTime } from '@opentelemetry/api';
import { jsonParts, membersObject, SelfWrittenJson } from '../json-writer';
import { HRTIME_BASE_S } from '../serializer';
import { fillAttributes, ownKeyCount } from './attributes';
import { type SpanTime, spanTimeToHrTime } from './time';

/** The SDK's default limit on a span's events (older ones are dropped first). */
export const EVENT_COUNT_LIMIT = 128;
/** Per event: name, time, dropped attributes, attribute count n, then n keys and values. */
const HEAD = 4;

export class SpanEvents extends SelfWrittenJson {
  /** Made with the first event, with its exact room (see fillAttributes). */
  private flat: unknown[] | null = null;
  private count = 0;

  get length(): number {
    return this.count;
  }

  /**
   * An event with `attributes`' own keys, by the SDK's rules: invalid ones
   * ignored, those past the count limit dropped and counted. An attribute
   * getter that throws leaves the events as they were.
   */
  add(name: string, attributes: object | null, time: SpanTime): void {
    let flat = this.flat;
    if (flat !== null && this.count === EVENT_COUNT_LIMIT) {
      flat.splice(0, HEAD + 2 * (flat[3] as number));
      this.count--;
    }
    const head = flat === null ? 0 : flat.length;
    flat ??= new Array<unknown>(HEAD + (attributes === null ? 0 : 2 * ownKeyCount(attributes)));
    flat[head] = name;
    flat[head + 1] = time;
    flat[head + 2] = 0;
    flat[head + 3] = 0;
    if (attributes !== null) {
      try {
        const filled = fillAttributes(flat, head + HEAD, attributes);
        flat[head + 2] = filled.dropped;
        flat[head + 3] = (filled.end - head - HEAD) / 2;
        if (flat.length !== filled.end) flat.length = filled.end; // invalid values left room unused
      } catch (e) {
        if (this.flat !== null) flat.length = head;
        throw e;
      }
    }
    this.flat = flat;
    this.count++;
  }

  writeJson(depth: number): boolean {
    const { ascii, string, number, value, members } = jsonParts;
    const flat = this.flat ?? [];
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
    const flat = this.flat ?? [];
    for (let i = 0; i < flat.length; i += HEAD + 2 * (flat[i + 3] as number)) {
      out.push({ name: flat[i] as string,
        attributes: membersObject(flat, i + HEAD, i + HEAD + 2 * (flat[i + 3] as number)),
        time: spanTimeToHrTime(flat[i + 1] as SpanTime), droppedAttributesCount: flat[i + 2] as number });
    }
    return out;
  }
}
