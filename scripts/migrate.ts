/**
 * Applies committed migrations: creates the database named in DATABASE_URL if
 * it does not exist yet (so a fresh machine needs no manual step), then runs
 * `prisma migrate deploy` through the offline driver-adapter setup.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config/config.js';
import { pgConfigFromUrl } from '../src/storage/pg-adapter.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const target = pgConfigFromUrl(databaseUrl);
  const name = target.database;
  if (!name) throw new Error('DATABASE_URL names no database');
  const admin = new pg.Client({ ...target, database: 'postgres' });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount) return false;
    await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
    return true;
  } finally {
    await admin.end();
  }
}

// With the driver adapter, the CLI warns that the schema's datasource url is unused; but without that
// url it tries to download an engine (see prisma/schema.prisma). The warning would only mislead.
const UNUSED_URL_WARNING = /\n?WARNING: Your schema specifies the following datasource properties[\s\S]*?We recommend you to remove those properties[^\n]*\n/;

export function prismaCli(args: string[], databaseUrl: string): void {
  const require = createRequire(import.meta.url);
  const cli = require.resolve('prisma/build/index.js');
  const result = spawnSync(process.execPath, ['--require', path.join(root, 'scripts/unref-timers.cjs'), cli, ...args], {
    cwd: root,
    stdio: ['inherit', 'pipe', 'pipe'],
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: databaseUrl },
  });
  process.stdout.write((result.stdout ?? '').replace(UNUSED_URL_WARNING, ''));
  process.stderr.write((result.stderr ?? '').replace(UNUSED_URL_WARNING, ''));
  if (result.status !== 0) throw new Error(`prisma ${args.join(' ')} exited with ${result.status ?? result.signal}`);
}

async function main() {
  const { DATABASE_URL } = loadConfig();
  if (await ensureDatabase(DATABASE_URL)) console.log(`created database ${pgConfigFromUrl(DATABASE_URL).database}`);
  prismaCli(['migrate', 'deploy'], DATABASE_URL);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
