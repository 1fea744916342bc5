// Where and how OTLP/HTTP requests go: explicit options (the CLI's
// --endpoint, --header, --compression) over the OpenTelemetry exporter
// environment variables, as the OpenTelemetry specification defines them:
//   OTEL_EXPORTER_OTLP_ENDPOINT            base URL; /v1/traces, /v1/logs, /v1/metrics are appended
//   OTEL_EXPORTER_OTLP_{TRACES,LOGS,METRICS}_ENDPOINT   a signal's full URL, used as given
//   OTEL_EXPORTER_OTLP_HEADERS             k=v,k2=v2 with URL-encoded values
//   OTEL_EXPORTER_OTLP_COMPRESSION         gzip | none
//   OTEL_EXPORTER_OTLP_TIMEOUT             per request, in ms
//   OTEL_EXPORTER_OTLP_{TRACES,LOGS,METRICS}_{HEADERS,COMPRESSION,TIMEOUT}
//                                          a signal's own, over the general one (headers: per name)
//   OTEL_EXPORTER_OTLP_PROTOCOL            only checked: grpc is refused (OTLP/HTTP only) unless
//                                          --endpoint is given; http/json is sent protobuf bodies
// An empty variable counts as unset. No default port or host is filled in:
// a URL is used as the user wrote it. Everything is checked here, so that a
// mistake is one clear error at the start rather than failed requests later.

export type OtlpSignal = 'traces' | 'logs' | 'metrics';
export const OTLP_SIGNALS: readonly OtlpSignal[] = ['traces', 'logs', 'metrics'];

/** Body bytes a sender holds (queued, or waiting to be handed to its thread) by default. */
export const DEFAULT_MAX_QUEUE_BYTES = 64 << 20;

export interface OtlpOptions {
  /** Base URL, as OTEL_EXPORTER_OTLP_ENDPOINT: wins over every endpoint variable. */
  endpoint?: string;
  /** "name=value" each, value taken literally (not URL-decoded); wins over OTEL_EXPORTER_OTLP_HEADERS per name. */
  headers?: string[];
  /** The option `headers` came from, as errors name it (default --header). */
  headerOption?: string;
  /** The option `endpoint` came from, as errors name it (default --endpoint). */
  endpointOption?: string;
  compression?: 'gzip' | 'none';
  timeoutMs?: number;
}

/** How requests are made. */
export interface OtlpRequestSettings {
  /** Lower-case names. */
  headers: Record<string, string>;
  compression: 'gzip' | 'none';
  timeoutMs: number;
}

/** Where each signal goes and how its requests are made. */
export interface OtlpConfig {
  /** Each signal's full URL; '' for a signal no endpoint covers (only a per-signal variable was set). */
  urls: Record<OtlpSignal, string>;
  /** What a signal's requests use: the general settings with its own variables over them (options still win). */
  signals: Record<OtlpSignal, OtlpRequestSettings>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
// RFC 9110 token characters, and the value characters Node's http accepts.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

type Env = Record<string, string | undefined>;

export function resolveOtlpConfig(opts: OtlpOptions, env: Env = process.env): OtlpConfig {
  const get = (name: string) => (env[name] === '' ? undefined : env[name]);
  const urls = resolveUrls(opts.endpoint, get, opts.endpointOption ?? '--endpoint');
  const signals = {} as Record<OtlpSignal, OtlpRequestSettings>;
  for (const signal of OTLP_SIGNALS) signals[signal] = resolveSettings(opts, get, signal);
  return { urls, signals };
}

/** The settings from the general variables, then `signal`'s own over them, then the options over both. */
function resolveSettings(opts: OtlpOptions, get: (name: string) => string | undefined, signal: OtlpSignal):
  OtlpRequestSettings {
  // The variables to read, the signal's own last (it wins).
  const vars = (what: string): [string, string | undefined][] => [`OTEL_EXPORTER_OTLP_${what}`,
    `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_${what}`].map((name) => [name, get(name)]);
  const last = (what: string): [string, string] | undefined =>
    vars(what).filter((v): v is [string, string] => v[1] !== undefined).pop();
  return {
    headers: resolveHeaders(opts.headers, vars('HEADERS'), opts.headerOption ?? '--header'),
    compression: resolveCompression(opts.compression, last('COMPRESSION')),
    timeoutMs: resolveTimeout(opts.timeoutMs, last('TIMEOUT')),
  };
}

function resolveUrls(endpoint: string | undefined, get: (name: string) => string | undefined, option: string):
  Record<OtlpSignal, string> {
  if (endpoint !== undefined) return fromBase(endpoint, option);
  const base = get('OTEL_EXPORTER_OTLP_ENDPOINT');
  const urls = base !== undefined ? fromBase(base, 'OTEL_EXPORTER_OTLP_ENDPOINT') : { traces: '', logs: '', metrics: '' };
  for (const signal of OTLP_SIGNALS) {
    const name = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`;
    const url = get(name);
    if (url === undefined) continue;
    checkedUrl(url, name);
    urls[signal] = url.trim(); // as given, no path appended
  }
  if (!urls.traces && !urls.logs && !urls.metrics) {
    throw new Error(`no OTLP endpoint: pass ${option} URL or set OTEL_EXPORTER_OTLP_ENDPOINT ` +
      '(e.g. http://localhost:4318, the base URL of an OTLP/HTTP receiver)');
  }
  for (const signal of OTLP_SIGNALS) {
    // A signal's protocol variable over the general one, as the specification has it. Its endpoint from
    // the variables is then most likely a gRPC port (4317), where OTLP/HTTP requests only fail.
    const own = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_PROTOCOL`;
    const [name, protocol] = get(own) !== undefined ? [own, get(own)] : ['OTEL_EXPORTER_OTLP_PROTOCOL',
      get('OTEL_EXPORTER_OTLP_PROTOCOL')];
    if (urls[signal] && protocol?.trim().toLowerCase() === 'grpc') {
      throw new Error(`${name}=grpc: ringtrace sends OTLP over HTTP (http/protobuf) only; give ${option} the ` +
        'receiver\'s OTLP/HTTP base URL (a Collector listens on port 4318 for it)');
    }
  }
  return urls;
}

/** The three signal URLs under a base URL: its path, without trailing slashes, + /v1/<signal>. */
function fromBase(base: string, source: string): Record<OtlpSignal, string> {
  const u = checkedUrl(base, source);
  const at = (signal: OtlpSignal) => {
    const s = new URL(u.href);
    s.pathname = `${u.pathname.replace(/\/+$/, '')}/v1/${signal}`;
    return s.href;
  };
  return { traces: at('traces'), logs: at('logs'), metrics: at('metrics') };
}

function checkedUrl(text: string, source: string): URL {
  let u: URL;
  try {
    u = new URL(text.trim());
  } catch {
    throw new Error(`${source}: '${text}' is not a URL (expected e.g. http://localhost:4318)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new Error(`${source}: '${text}' is not an http: or https: URL (OTLP/HTTP only)`);
  }
  return u;
}

/** Headers from `variables` in order (a later one's value wins per name), then the explicit ones. */
function resolveHeaders(explicit: string[] | undefined, variables: [string, string | undefined][], option: string):
  Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [variable, fromEnv] of variables) {
    if (fromEnv === undefined) continue;
    for (const entry of fromEnv.split(',')) {
      if (entry.trim() === '') continue;
      const [name, raw] = splitHeader(entry, variable);
      let value: string;
      try {
        value = decodeURIComponent(raw);
      } catch {
        throw new Error(`${variable}: the value of '${name}' is not valid URL encoding: '${raw}'`);
      }
      headers[name] = checkedValue(name, value, variable);
    }
  }
  for (const entry of explicit ?? []) {
    const [name, value] = splitHeader(entry, option);
    headers[name] = checkedValue(name, value, option);
  }
  return headers;
}

/** "name=value" as [lower-case name, trimmed value]. */
function splitHeader(entry: string, source: string): [string, string] {
  const eq = entry.indexOf('=');
  if (eq < 0) throw new Error(`${source}: '${entry}' is not name=value`);
  const name = entry.slice(0, eq).trim();
  if (!HEADER_NAME.test(name)) throw new Error(`${source}: '${name}' (in '${entry}') is not a valid HTTP header name`);
  return [name.toLowerCase(), entry.slice(eq + 1).trim()];
}

function checkedValue(name: string, value: string, source: string): string {
  if (!HEADER_VALUE.test(value)) {
    throw new Error(`${source}: the value of header '${name}' has characters HTTP does not allow (control or non-Latin-1)`);
  }
  return value;
}

/** `fromEnv`: the variable that sets it and its value, if any does. */
function resolveCompression(explicit: string | undefined, fromEnv: [string, string] | undefined): 'gzip' | 'none' {
  const [source, value] = explicit !== undefined ? ['compression', explicit] : fromEnv ?? ['', undefined];
  if (value === undefined) return 'gzip';
  const v = value.trim().toLowerCase();
  if (v === 'gzip' || v === 'none') return v;
  throw new Error(`${source}: '${value}' is not a compression ringtrace supports (gzip or none)`);
}

function resolveTimeout(explicit: number | undefined, fromEnv: [string, string] | undefined): number {
  if (explicit !== undefined) {
    if (!(Number.isFinite(explicit) && explicit > 0)) {
      throw new Error(`timeoutMs: ${explicit} is not a positive number of ms`);
    }
    return explicit;
  }
  if (fromEnv === undefined) return DEFAULT_TIMEOUT_MS;
  const [variable, text] = fromEnv;
  const ms = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : NaN;
  if (!(ms > 0)) throw new Error(`${variable}: '${text}' is not a positive number of milliseconds`);
  return ms;
}
