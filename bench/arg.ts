// Command-line options of the benchmark scripts: `--name value`, or a default;
// `--help` prints the running script's header comment.
import * as fs from 'node:fs';
import * as path from 'node:path';

export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1]! : def;
}

/**
 * With `--help` or `-h`: print the running benchmark's header comment (what
 * it measures, how to run it, its options), read from its source in bench/,
 * and exit before it does anything.
 */
export function helpOnRequest(): void {
  if (!process.argv.includes('--help') && !process.argv.includes('-h')) return;
  const name = path.basename(process.argv[1] ?? '').replace(/\.js$/, '.ts');
  const source = path.join(__dirname, '..', '..', 'bench', name);
  let text = `(no help: see ${source})`;
  try {
    const header: string[] = [];
    for (const line of fs.readFileSync(source, 'utf8').split('\n')) {
      if (!line.startsWith('//')) break;
      header.push(line.replace(/^\/\/ ?/, ''));
    }
    if (header.length) text = header.join('\n');
  } catch {
    // no source beside the build: the hint above
  }
  console.log(text);
  process.exit(0);
}
