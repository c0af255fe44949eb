import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, jobBody, type TestApp } from '../helpers/app.js';
import { SEED_MNIST_MODEL } from '../../src/model-spec/index.js';
import { tenantQuotas } from '../../src/storage/quotas.repository.js';
import { updateTenant } from '../../src/storage/api-keys.repository.js';
import { StoredJsonError } from '../../src/storage/stored-json.js';
import { defaultQuotas, type QuotaOverrides } from '../../src/config/quotas.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function withQuotas(quotas: QuotaOverrides, overrides = {}) {
  t = await createTestApp(overrides);
  await updateTenant(t.app.services.db, t.tenant, { quotas });
  return t;
}

describe('tenant quotas', () => {
  it.each([
    [{ maxParams: 1000 }, 'maxParams', 1000, 3_274_634, /the model has 3,274,634 parameters; tenant '.*' may train at most 1,000/, { model: SEED_MNIST_MODEL }],
    [{ maxMacs: 1000 }, 'maxMacs', 1000, 13_883_904, /needs 13,883,904 multiply-accumulates per example; tenant '.*' may train at most 1,000/, { model: SEED_MNIST_MODEL }],
    [{ epochSamples: 100 }, 'epochSamples', 100, 2 * 240, /2 epochs × 240 examples = 480; tenant '.*' may train at most 100 per job/, { dataset: { id: 'mnist', limit: 300 } }],
  ])('refuses a job over %j with 422 naming the limit and the value', async (quotas, quota, limit, value, detail, body) => {
    await withQuotas(quotas);
    const res = await t!.http.post('/v1/jobs').send(jobBody(body));
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'quota-exceeded', quota, limit, value });
    expect(res.body.detail).toMatch(detail);
  });

  it("are the server defaults with the tenant row's overrides, read the same inside a transaction", async () => {
    await withQuotas({ runningJobs: 5, datasetBytes: 0 }, { QUOTA_RUNNING_JOBS: 2, QUOTA_QUEUED_JOBS: 7 });
    const { db } = t!.app.services;
    const quotas = await tenantQuotas(db, t!.config, t!.tenant);
    expect(quotas).toEqual({ ...defaultQuotas(t!.config), runningJobs: 5, datasetBytes: 0 });
    expect(quotas.queuedJobs).toBe(7);
    expect(await db.$transaction((tx) => tenantQuotas(tx, t!.config, t!.tenant))).toEqual(quotas);
    expect(await tenantQuotas(db, t!.config, 'no-such-tenant')).toEqual(defaultQuotas(t!.config));
  });

  it('a hand-edited quotas column that does not match its schema is refused loudly, naming the tenant and the field, not ignored', async () => {
    t = await createTestApp();
    const { db } = t.app.services;
    try {
      for (const quotas of [{ queuedJobs: -1 }, { maxParams: 'many' }, { maxParms: 1000 }]) {
        await db.tenant.update({ where: { id: t.tenant }, data: { quotas } });
        const err = await tenantQuotas(db, t.config, t.tenant).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StoredJsonError);
        expect((err as Error).message).toContain(`quotas of tenant '${t.tenant}'`);
        expect((err as Error).message).toMatch(/queuedJobs|maxParams|maxParms/);
      }
    } finally {
      // Other files list every tenant of this database: leave none broken.
      await updateTenant(db, t.tenant, { quotas: {} });
    }
  });

  it('answers 429 when the tenant has too many queued jobs', async () => {
    await withQuotas({ queuedJobs: 2 });
    expect((await t!.http.post('/v1/jobs').send(jobBody())).status).toBe(202);
    expect((await t!.http.post('/v1/jobs').send(jobBody())).status).toBe(202);
    const res = await t!.http.post('/v1/jobs').send(jobBody());
    expect(res.status).toBe(429);
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.body).toMatchObject({ code: 'quota-exceeded', quota: 'queuedJobs', limit: 2, value: 2 });
    // Another tenant is not affected.
    const other = await t!.otherTenant();
    expect((await other.http.post('/v1/jobs').send(jobBody())).status).toBe(202);
  });
});

describe('rate limits', () => {
  it('limits submissions per API key with 429 and Retry-After', async () => {
    t = await createTestApp({ RATE_LIMIT_SUBMIT: 2 });
    const bad = { ...jobBody(), dataset: { id: 'nope' } }; // cheap requests: the limit counts them all
    expect((await t.http.post('/v1/jobs').send(bad)).status).toBe(400);
    expect((await t.http.post('/v1/jobs').send(bad)).status).toBe(400);
    const limited = await t.http.post('/v1/jobs').send(bad);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ code: 'rate-limited', limit: 2 });
    const other = await t.otherTenant();
    expect((await other.http.post('/v1/jobs').send(bad)).status).toBe(400);
  });
});

describe('hostile input', () => {
  it.each([
    ['deep nesting', `{"name":${'['.repeat(5000)}${']'.repeat(5000)}}`, 400, /nests deeper than 32 levels/],
    ['prototype poisoning', '{"name":"x","__proto__":{"admin":true}}', 400, /not valid JSON/],
    ['an empty body', '', 400, /empty/],
    ['a bare string', '"hello"', 400, /must be an object/],
  ])('rejects %s with a problem', async (_what, payload, status, detail) => {
    t = await createTestApp();
    const res = await t.http.post('/v1/jobs').set('content-type', 'application/json').send(payload);
    expect(res.status).toBe(status);
    expect(res.body.detail).toMatch(detail);
  });

  it('rejects oversized arrays in predict bodies', async () => {
    t = await createTestApp({ BODY_LIMIT: 16 * 1024 * 1024 });
    const res = await t.http
      .post('/v1/models/00000000-0000-4000-8000-000000000000/predict')
      .set('content-type', 'application/json')
      .send(`{"instances":[[${Array(300_000).fill(0).join(',')}]]}`);
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/an array of 300,000 items; at most 200,000/);
  });

  it('sets security headers without breaking the docs', async () => {
    t = await createTestApp();
    const res = await t.http.get('/v1/jobs');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(res.headers['strict-transport-security']).toBeDefined();
    const docs = await t.http.get('/docs/');
    expect(docs.status).toBe(200);
    expect(docs.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(docs.headers['content-security-policy']).not.toMatch(/upgrade-insecure-requests/);
  });

  it('never puts keys or database URLs in error bodies', async () => {
    t = await createTestApp();
    const res = await t.http.get('/v1/jobs/00000000-0000-4000-8000-000000000000');
    const text = JSON.stringify(res.body);
    expect(text).not.toContain(t.key);
    expect(text).not.toContain('postgresql://');
  });
});
