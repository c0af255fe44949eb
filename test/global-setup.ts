import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { ensureDatabase, prismaCli } from '../scripts/migrate.js';
import { pgConfigFromUrl } from '../src/storage/pg-adapter.js';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

/**
 * One database per test run, migrated with the same command as production,
 * dropped afterwards. Tests never share rows with a developer's database.
 */
export default async function setup(project: TestProject) {
  const server = process.env.TEST_DATABASE_SERVER ?? 'postgresql://postgres@127.0.0.1:5432';
  const name = `trainyard_test_${randomBytes(4).toString('hex')}`;
  const databaseUrl = `${server}/${name}`;
  await ensureDatabase(databaseUrl);
  prismaCli(['migrate', 'deploy'], databaseUrl);
  project.provide('databaseUrl', databaseUrl);

  return async () => {
    const admin = new pg.Client({ ...pgConfigFromUrl(databaseUrl), database: 'postgres' });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  };
}
