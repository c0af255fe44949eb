import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../..', import.meta.url));
const hasCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;

// There is no Docker engine on our machines; docker-compose validates the file offline.
// .ci/run installs it, so in CI its absence is a failure, not a skip.
describe.skipIf(!hasCompose && !process.env.CI)('docker-compose.yml', () => {
  it('is valid and runs postgres, redis, migrations, the API and scalable workers', () => {
    const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { cwd: root, encoding: 'utf8' });
    expect(result.error, 'docker-compose is not installed').toBeUndefined();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const config = parse(result.stdout);
    expect(Object.keys(config.services).sort()).toEqual(['api', 'migrate', 'postgres', 'redis', 'worker']);
    expect(config.services.worker.ports).toBeUndefined(); // so that --scale worker=N does not clash
    expect(config.services.worker.command).toEqual(['npm', 'run', 'worker']);
    expect(config.services.api.depends_on.migrate.condition).toBe('service_completed_successfully');
    for (const svc of ['api', 'worker']) {
      expect(config.services[svc].environment.DATABASE_URL).toMatch(/@postgres:5432\//);
      expect(config.services[svc].environment.REDIS_URL).toBe('redis://redis:6379');
      expect(config.services[svc].build.dockerfile).toBe('docker/Dockerfile');
    }
  });
});
