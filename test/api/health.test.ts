import { afterEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { testConfig } from '../helpers/config.js';
import { buildApp } from '../../src/api/app.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('health', () => {
  it('GET /healthz answers while the process is up', async () => {
    t = await createTestApp();
    const res = await t.http.get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz is 200 when PostgreSQL and Redis answer, and names the compute threads and their engine', async () => {
    t = await createTestApp({ COMPUTE_THREADS: 1 });
    // The server starts its compute threads before listening; an app built in a test starts them on first use.
    expect((await t.http.get('/readyz')).body.compute).toEqual({ threads: 1, started: false });
    await t.app.services.compute.start();
    const res = await t.http.get('/readyz');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('ready');
    expect(res.body.checks.postgres.ok).toBe(true);
    expect(res.body.checks.redis.ok).toBe(true);
    expect(res.body.compute).toEqual({ threads: 1, started: true });
    expect(['tensorflow', 'native', 'wasm', 'cpu']).toContain(res.body.engine.name);
  });

  it('GET /readyz is 503 naming Redis when Redis is unreachable', async () => {
    t = await createTestApp({ REDIS_URL: 'redis://127.0.0.1:1' });
    const res = await t.http.get('/readyz');
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('unavailable');
    expect(res.body.checks.postgres.ok).toBe(true);
    expect(res.body.checks.redis.ok).toBe(false);
    expect(res.body.checks.redis.error).toEqual(expect.any(String));
  });

  it('GET /readyz is 503 naming PostgreSQL when the database is unreachable, without leaking the URL', async () => {
    // No tenant can be created without a database: build the bare app.
    const app = await buildApp(testConfig({ DATABASE_URL: 'postgresql://trainyard:s3cret@127.0.0.1:1/nothing' }), { logger: false });
    await app.ready();
    const res = await request(app.server).get('/readyz');
    await app.close();
    expect(res.status).toBe(503);
    expect(res.body.checks.postgres.ok).toBe(false);
    expect(res.body.checks.redis, JSON.stringify(res.body.checks.redis)).toMatchObject({ ok: true });
    expect(JSON.stringify(res.body)).not.toContain('s3cret');
  });
});
