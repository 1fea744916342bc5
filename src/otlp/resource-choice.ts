// The resource the user chooses for every process of an OTLP export: the
// --service-name option and OpenTelemetry's resource variables,
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (resource.ts applies it).

export interface ResourceChoice {
  /** service.name for every process of the trace. */
  serviceName?: string | undefined;
  /** Attributes for every process of the trace (OTEL_RESOURCE_ATTRIBUTES's), in order. */
  attributes?: readonly (readonly [string, string])[] | undefined;
}

type Env = Record<string, string | undefined>;

/**
 * The resource the user chose: `serviceName` (--service-name) over the
 * environment's OTEL_SERVICE_NAME, over service.name in
 * OTEL_RESOURCE_ATTRIBUTES (`key=value,key2=value2`, values URL-encoded, as
 * the OpenTelemetry specification defines it). An empty variable counts as
 * unset; a malformed one is an error naming it, as the exporter variables are.
 */
export function resolveResourceChoice(serviceName: string | undefined, env: Env = process.env): ResourceChoice {
  const attributes = parseResourceAttributes(env['OTEL_RESOURCE_ATTRIBUTES'] ?? '');
  const fromAttributes = attributes.find(([k]) => k === 'service.name')?.[1];
  const others = attributes.filter(([k]) => k !== 'service.name');
  const chosen = serviceName ?? (env['OTEL_SERVICE_NAME'] || undefined) ?? fromAttributes;
  return { ...(chosen !== undefined ? { serviceName: chosen } : {}), attributes: others };
}

function parseResourceAttributes(text: string): [string, string][] {
  const pairs = new Map<string, string>(); // a key given twice: the last value, at the first place
  for (const entry of text.split(',')) {
    if (entry.trim() === '') continue;
    const eq = entry.indexOf('=');
    const key = eq < 0 ? '' : entry.slice(0, eq).trim();
    if (key === '') throw new Error(`OTEL_RESOURCE_ATTRIBUTES: '${entry.trim()}' is not key=value`);
    const raw = entry.slice(eq + 1).trim();
    try {
      pairs.set(key, decodeURIComponent(raw));
    } catch {
      throw new Error(`OTEL_RESOURCE_ATTRIBUTES: the value of '${key}' is not valid URL encoding: '${raw}'`);
    }
  }
  return [...pairs];
}
