// `record --auto` and `flight --auto`: run the command with auto mode loaded
// into every Node process and thread it starts (NODE_OPTIONS, which children
// and workers inherit), so an app with no ringtrace line is traced
// (src/auto/, docs/auto.md).
import { InvalidArgumentError } from 'commander';
import * as path from 'node:path';
import { AUTO_PARTS, parseParts } from '../src/auto/options';

/** The compiled auto module next to this CLI (dist/src/auto/index.js). */
export const AUTO_MODULE = path.join(__dirname, '..', 'src', 'auto', 'index.js');

/** commander's parser for --auto[=LIST]: the list checked, kept as given ('' for all). */
export function autoArg(value: string): string {
  const { unknown } = parseParts(value);
  if (unknown.length) {
    throw new InvalidArgumentError(`unknown part(s) ${unknown.map((u) => `'${u}'`).join(', ')}; ` +
      `known: ${AUTO_PARTS.join(', ')}, all (give the command after --)`);
  }
  return value;
}

/** NODE_OPTIONS quoting: a value with spaces or quotes goes in double quotes, \ and " escaped. */
function quote(p: string): string {
  return /[\s"'\\]/.test(p) ? `"${p.replace(/[\\"]/g, (c) => `\\${c}`)}"` : p;
}

/**
 * The environment additions for a command traced in auto mode: NODE_OPTIONS
 * keeps what it had and gains `-r <auto module>`; RINGTRACE_AUTO names the parts.
 * `auto`: true (commander's value for a bare --auto) or the list.
 */
export function autoEnvironment(auto: string | true, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const before = env['NODE_OPTIONS']?.trim() ?? '';
  const nodeOptions = `${before ? `${before} ` : ''}-r ${quote(AUTO_MODULE)}`;
  return { NODE_OPTIONS: nodeOptions, RINGTRACE_AUTO: auto === true || auto === '' ? 'all' : auto };
}
