import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/config.js';
import { artifactStoreSettings } from '../../src/storage/artifact-store.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const hasCompose = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0;

// There is no Docker engine on our machines; docker-compose validates the file offline.
// .ci/run installs it, so in CI its absence is a failure, not a skip.
describe.skipIf(!hasCompose && !process.env.CI)('docker-compose.yml', () => {
  it('is valid and runs postgres, redis, migrations, the API, scalable workers and the webhook sender', () => {
    const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { cwd: root, encoding: 'utf8' });
    expect(result.error, 'docker-compose is not installed').toBeUndefined();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const config = parse(result.stdout);
    // Services behind a profile (`--profile monitoring`, ...) do not start by default.
    const byDefault = Object.entries(config.services as Record<string, { profiles?: string[] }>).filter(([, svc]) => !svc.profiles?.length);
    expect(byDefault.map(([name]) => name).sort()).toEqual(['api', 'migrate', 'postgres', 'redis', 'webhooks', 'worker']);
    expect(config.services.webhooks.command).toEqual(['npm', 'run', 'webhooks']);
    expect(config.services.worker.ports).toBeUndefined(); // so that --scale worker=N does not clash
    expect(config.services.worker.command).toEqual(['npm', 'run', 'worker']);
    expect(config.services.api.depends_on.migrate.condition).toBe('service_completed_successfully');
    for (const svc of ['api', 'worker', 'webhooks']) {
      expect(config.services[svc].environment.DATABASE_URL).toMatch(/@postgres:5432\//);
      expect(config.services[svc].environment.REDIS_URL).toBe('redis://redis:6379');
      expect(config.services[svc].build.dockerfile).toBe('docker/Dockerfile');
    }
  });

  it('has a monitoring profile: Prometheus scraping the API and every worker, Grafana with the dashboard', () => {
    const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', '--profile', 'monitoring', 'config'], { cwd: root, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const config = parse(result.stdout);
    expect(config.services.prometheus.profiles).toEqual(['monitoring']);
    expect(config.services.grafana.profiles).toEqual(['monitoring']);
    // docker-compose 1.29 writes bind mounts as "source:target:mode".
    const mounted = (svc: string) => (config.services[svc].volumes as string[]).map((v) => v.split(':')).map(([source, target]) => [path.relative(root, source), target]);
    expect(mounted('prometheus')).toEqual([['docker/prometheus/prometheus.yml', '/etc/prometheus/prometheus.yml']]);
    expect(mounted('grafana')).toEqual([
      ['docker/grafana/provisioning', '/etc/grafana/provisioning'],
      ['docker/grafana/trainyard-dashboard.json', '/var/lib/grafana/dashboards/trainyard.json'],
    ]);
    for (const [source] of [...mounted('prometheus'), ...mounted('grafana')]) expect(existsSync(path.join(root, source)), source).toBe(true);

    // It scrapes the API on its port and each worker replica on the default WORKER_METRICS_PORT.
    const scrape = parse(readFileSync(path.join(root, 'docker/prometheus/prometheus.yml'), 'utf8')).scrape_configs;
    const job = (name: string) => scrape.find((j: { job_name: string }) => j.job_name === name);
    expect(job('trainyard-api').static_configs[0].targets).toEqual([`api:${config.services.api.ports[0].target}`]);
    expect(job('trainyard-worker').dns_sd_configs[0]).toMatchObject({ names: ['worker'], type: 'A', port: loadConfig({}).WORKER_METRICS_PORT });
    expect(config.services.worker.environment.WORKER_METRICS_PORT ?? String(loadConfig({}).WORKER_METRICS_PORT)).toBe('9464');
    // The dashboard the provisioning points at is the one committed.
    const provider = parse(readFileSync(path.join(root, 'docker/grafana/provisioning/dashboards/trainyard.yml'), 'utf8')).providers[0];
    expect(provider.options.path).toBe('/var/lib/grafana/dashboards');
  });

  it('keeps artifacts on the shared volume by default, and on MinIO with docker/minio.env and the minio profile', () => {
    const envOf = (config: { services: Record<string, { environment: Record<string, unknown> }> }, svc: string) =>
      Object.fromEntries(Object.entries(config.services[svc].environment).map(([k, v]) => [k, String(v ?? '')]));
    const plain = parse(spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], { cwd: root, encoding: 'utf8' }).stdout);
    for (const svc of ['api', 'worker']) expect(artifactStoreSettings(loadConfig(envOf(plain, svc)))).toEqual({ kind: 'disk', dir: '/data/artifacts' });

    const result = spawnSync('docker-compose', ['-f', 'docker-compose.yml', '--env-file', 'docker/minio.env', '--profile', 'minio', 'config'], { cwd: root, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const config = parse(result.stdout);
    expect(config.services.minio.profiles).toEqual(['minio']);
    expect(config.services['minio-bucket'].profiles).toEqual(['minio']);
    expect(config.services['minio-bucket'].depends_on.minio.condition).toBe('service_healthy');
    const minio = config.services.minio.environment;
    const bucketJob = config.services['minio-bucket'].environment;
    for (const svc of ['api', 'worker']) {
      const env = envOf(config, svc);
      const store = artifactStoreSettings(loadConfig(env));
      // The store the app uses is the MinIO service (its default API port), the bucket the one-shot service creates, with MinIO's own user.
      expect(store).toMatchObject({ kind: 's3', endpoint: 'http://minio:9000', forcePathStyle: true, bucket: 'trainyard', prefix: 'artifacts/' });
      expect(env.STORAGE_URL).toBe(bucketJob.STORAGE_URL);
      expect(store.kind === 's3' && store.credentials).toEqual({ accessKeyId: minio.MINIO_ROOT_USER, secretAccessKey: minio.MINIO_ROOT_PASSWORD });
    }
    expect(config.services.minio.command).toEqual(['server', '/data', '--console-address', ':9001']);
  });
});
