// Command-line options of the benchmark scripts: `--name value`, or a default.
export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1]! : def;
}
