import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Where the console's sources live: its own folder, which talks to the API over HTTP only. */
export const CONSOLE_SOURCE_DIR = fileURLToPath(new URL('../../../console/', import.meta.url));

export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
}

export interface ConsoleBundle {
  /** The page, naming the hashed script and stylesheet. */
  index: Buffer;
  /** Files under /console/, by name: hashed bundles (cached forever) and the favicon. */
  assets: Map<string, ConsoleAsset>;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * Bundles src/console (TypeScript, uPlot from node_modules) with esbuild into
 * memory: nothing built is committed or written to disk, and `npm start` needs
 * no build command. File names carry a hash of their content.
 */
export async function buildConsoleBundle(): Promise<ConsoleBundle> {
  const result = await build({
    entryPoints: [path.join(CONSOLE_SOURCE_DIR, 'main.ts')],
    bundle: true,
    format: 'esm',
    target: ['chrome111', 'firefox115', 'safari16.4'],
    minify: true,
    sourcemap: 'linked',
    write: false,
    outdir: '/console',
    entryNames: '[name]-[hash]',
    logLevel: 'silent',
    legalComments: 'eof',
  });
  const assets = new Map<string, ConsoleAsset>();
  for (const file of result.outputFiles) {
    const name = path.basename(file.path);
    assets.set(name, {
      body: Buffer.from(file.contents),
      contentType: TYPES[path.extname(name)] ?? 'application/octet-stream',
    });
  }
  const script = [...assets.keys()].find((n) => n.endsWith('.js'));
  const style = [...assets.keys()].find((n) => n.endsWith('.css'));
  if (!script || !style) throw new Error(`the console bundle lacks a script or a stylesheet: ${[...assets.keys()].join(', ')}`);
  const favicon = await readFile(path.join(CONSOLE_SOURCE_DIR, 'favicon.svg'));
  const faviconName = `favicon-${createHash('sha256').update(favicon).digest('hex').slice(0, 8)}.svg`;
  assets.set(faviconName, { body: favicon, contentType: TYPES['.svg'] });
  const template = await readFile(path.join(CONSOLE_SOURCE_DIR, 'index.html'), 'utf8');
  const index = template.replace('%SCRIPT%', `/console/${script}`).replace('%STYLE%', `/console/${style}`).replace('%FAVICON%', `/console/${faviconName}`);
  return { index: Buffer.from(index), assets };
}

let pending: Promise<ConsoleBundle> | null = null;

/** The bundle, built once per process on first use (a failed build is tried again next time). */
export function consoleBundle(): Promise<ConsoleBundle> {
  pending ??= buildConsoleBundle().catch((err) => {
    pending = null;
    throw err;
  });
  return pending;
}
