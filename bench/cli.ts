import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

/**
 * A bench's command line of `--name value` options, each with its default.
 * A bad option stops the bench at once (exit code 2) with a plain message
 * naming it: once the wasm backend is loaded, an uncaught error would print
 * Emscripten's whole minified source line instead.
 */
export function benchCli<K extends string>(bench: string, defaults: Record<K, string>) {
  usageOnRequest();
  const fail = (message: string): never => {
    console.error(`${bench}: ${message}`);
    process.exit(2);
  };
  let args: Record<K, string>;
  try {
    const options = Object.fromEntries(Object.entries(defaults).map(([name, value]) => [name, { type: 'string' as const, default: value as string }]));
    args = parseArgs({ options }).values as Record<K, string>;
  } catch (err) {
    return fail((err as Error).message);
  }
  /** A numeric option: at least `min`, and a whole number when `integer`. */
  const number = (name: K, { min = 1, integer = false }: { min?: number; integer?: boolean } = {}): number => {
    const value = Number(args[name]);
    const ok = integer ? Number.isInteger(value) : Number.isFinite(value);
    if (!ok || value < min) fail(`--${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got ${args[name]}`);
    return value;
  };
  return { args, fail, number };
}

/**
 * `--help` (or `-h`) prints the running bench's own description, the doc
 * comment at the top of its file, which lists its options, and exits.
 */
export function usageOnRequest(): void {
  if (!process.argv.slice(2).some((a) => a === '--help' || a === '-h')) return;
  const source = readFileSync(process.argv[1], 'utf8');
  const comment = /\/\*\*([\s\S]*?)\*\//.exec(source)?.[1] ?? '';
  console.log(
    comment
      .split('\n')
      .map((line) => line.replace(/^\s*\* ?/, ''))
      .join('\n')
      .trim(),
  );
  process.exit(0);
}
