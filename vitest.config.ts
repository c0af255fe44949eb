import { configDefaults, defineConfig } from 'vitest/config';

/** Tests that need no database, Redis or server: `npm run test:unit` runs them alone, in seconds. */
const UNIT = ['test/unit/**/*.test.ts', 'test/model-spec/**/*.test.ts', 'test/data/**/*.test.ts', 'test/engine/**/*.test.ts', 'test/contract/**/*.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    // Two cores: training-heavy files must not run side by side with each other.
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      {
        extends: true,
        test: {
          // Everything else talks to PostgreSQL and Redis: one migrated database per run.
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...UNIT],
          globalSetup: ['./test/global-setup.ts'],
        },
      },
    ],
  },
});
