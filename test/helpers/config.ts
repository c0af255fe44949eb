import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { loadConfig, type AppConfig } from '../../src/config/config.js';

/** A config of its own for each test: the run's database, a fresh queue name and artifact directory. */
export function testConfig(overrides: Partial<AppConfig> = {}): AppConfig {
  return loadConfig(
    {},
    {
      DATABASE_URL: inject('databaseUrl'),
      QUEUE_NAME: `test-${randomBytes(6).toString('hex')}`,
      ARTIFACT_DIR: mkdtempSync(path.join(tmpdir(), 'trainyard-artifacts-')),
      ENGINE: (process.env.TEST_ENGINE as AppConfig['ENGINE'] | undefined) ?? 'auto',
      LOG_LEVEL: 'silent',
      // Workers started as processes serve /metrics on a free port each, not all on 9464.
      WORKER_METRICS_PORT: 0,
      ...overrides,
    },
  );
}
