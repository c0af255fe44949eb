import { afterEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestApp, jobBody, type TestApp } from '../helpers/app.js';
import { testConfig } from '../helpers/config.js';
import { buildApp } from '../../src/api/app.js';
import { generateKey } from '../../src/storage/api-keys.repository.js';

/** A dependency that is away answers 503 with Retry-After and names it, on every protocol; never a 500. */
let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('PostgreSQL unreachable', () => {
  it('answers 503 with Retry-After naming PostgreSQL, as a problem on /v1 and as {"error"} on the serving protocols', async () => {
    const app = await buildApp(testConfig({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/nothing' }), { logger: false });
    await app.ready();
    try {
      const { key } = generateKey();
      for (const path of ['/v1/jobs', '/v1/models', '/v1/registered-models']) {
        const res = await request(app.server).get(path).set('authorization', `Bearer ${key}`);
        expect(res.status, path).toBe(503);
        expect(res.headers['retry-after']).toBe('5');
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body).toMatchObject({ code: 'service-unavailable', dependency: 'PostgreSQL', detail: 'PostgreSQL is unreachable right now; retry in a few seconds' });
      }
      const infer = await request(app.server).get('/v2/models/digits').set('authorization', `Bearer ${key}`);
      expect(infer.status).toBe(503);
      expect(infer.headers['retry-after']).toBe('5');
      expect(infer.body).toEqual({ error: 'PostgreSQL is unreachable right now; retry in a few seconds' });
      const ready = await request(app.server).get('/v2/health/ready');
      expect(ready.status).toBe(400);
      expect(ready.body).toEqual({ ready: false });
    } finally {
      await app.close();
    }
  });
});

describe('Redis unreachable', () => {
  it('answers 503 naming Redis where a route needs it, and keeps serving what does not', async () => {
    t = await createTestApp({ REDIS_URL: 'redis://127.0.0.1:1' });
    const workers = await t.http.get('/v1/workers');
    expect(workers.status, JSON.stringify(workers.body)).toBe(503);
    expect(workers.headers['retry-after']).toBe('5');
    expect(workers.body).toMatchObject({ code: 'service-unavailable', dependency: 'Redis' });
    // Reads from PostgreSQL do not need Redis.
    expect((await t.http.get('/v1/jobs')).status).toBe(200);
    expect((await t.http.post('/v1/plan').send(jobBody().model)).status).toBe(200);
  });
});
