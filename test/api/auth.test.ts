import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestApp, jobBody, type TestApp } from '../helpers/app.js';
import { createKey, revokeKey } from '../../src/storage/api-keys.repository.js';
import { waitFor } from '../helpers/wait-for.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp({ ADMIN_TOKEN: 'admin-token-for-tests-0123456789' });
});
afterEach(async () => {
  await t.close();
});

const anonymous = () => request(t.app.server);

describe('API keys', () => {
  it.each([
    [undefined, /missing API key: send Authorization: Bearer <API key>/],
    ['Basic dXNlcjpwYXNz', /the Authorization header must be 'Bearer <API key>'/],
    ['Bearer not-a-key', /the API key is not valid or has been revoked/],
    ['Bearer ty_AAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', /the API key is not valid or has been revoked/],
  ])('answers 401 with a problem for authorization %s', async (header, detail) => {
    const req = anonymous().get('/v1/jobs');
    const res = header ? await req.set('authorization', header) : await req;
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'unauthorized', status: 401 });
    expect(res.body.detail).toMatch(detail);
  });

  it('stops accepting a key revoked through the admin API at once', async () => {
    const { id, key } = await createKey(t.app.services.db, t.tenant, 'temporary');
    expect((await anonymous().get('/v1/jobs').set('authorization', `Bearer ${key}`)).status).toBe(200);
    const revoked = await anonymous().delete(`/v1/admin/keys/${id}`).set('authorization', 'Bearer admin-token-for-tests-0123456789');
    expect(revoked.status).toBe(204);
    expect((await anonymous().get('/v1/jobs').set('authorization', `Bearer ${key}`)).status).toBe(401);
  });

  it('stops accepting a key revoked elsewhere (npm run keys) within API_KEY_CACHE_MS', async () => {
    const { id, key } = await createKey(t.app.services.db, t.tenant, 'temporary');
    expect((await anonymous().get('/v1/jobs').set('authorization', `Bearer ${key}`)).status).toBe(200);
    await revokeKey(t.app.services.db, id);
    const status = await waitFor(
      async () => (await anonymous().get('/v1/jobs').set('authorization', `Bearer ${key}`)).status,
      (s) => s === 401,
      { timeoutMs: t.config.API_KEY_CACHE_MS + 10_000, intervalMs: 100, what: 'the revoked key refused' },
    );
    expect(status).toBe(401);
  });

  it('leaves health checks and the docs open', async () => {
    expect((await anonymous().get('/healthz')).status).toBe(200);
    expect((await anonymous().get('/readyz')).status).toBe(200);
    expect((await anonymous().get('/docs/json')).status).toBe(200);
  });

  it('records when a key was last used', async () => {
    const lastUsed = async () => (await t.app.services.db.apiKey.findFirstOrThrow({ where: { tenantId: t.tenant } })).lastUsedAt;
    expect(await lastUsed()).toBeNull();
    const before = Date.now();
    expect((await t.http.get('/v1/jobs')).status).toBe(200);
    // The write is fire-and-forget after the request: wait for it, not for a fixed time.
    const at = await waitFor(lastUsed, (d) => d !== null, { timeoutMs: 10_000, intervalMs: 20, what: 'lastUsedAt written' });
    expect(at!.getTime()).toBeGreaterThanOrEqual(before);
  });
});

describe('admin routes', () => {
  const admin = () => ({ authorization: 'Bearer admin-token-for-tests-0123456789' });

  it('create a tenant and a key shown once, list keys without secrets, revoke', async () => {
    const tenant = `acme-${Date.now()}`;
    const created = await anonymous().post('/v1/admin/tenants').set(admin()).send({ id: tenant, name: 'Acme' });
    expect(created.status).toBe(201);
    const dup = await anonymous().post('/v1/admin/tenants').set(admin()).send({ id: tenant });
    expect(dup.status).toBe(409);
    const key = await anonymous().post(`/v1/admin/tenants/${tenant}/keys`).set(admin()).send({ name: 'ci' });
    expect(key.status).toBe(201);
    expect(key.body.key).toMatch(/^ty_/);
    expect((await anonymous().get('/v1/jobs').set('authorization', `Bearer ${key.body.key}`)).status).toBe(200);
    const list = await anonymous().get(`/v1/admin/tenants/${tenant}/keys`).set(admin());
    expect(list.body.items).toEqual([expect.objectContaining({ id: key.body.id, name: 'ci', prefix: key.body.prefix, revokedAt: null })]);
    expect(JSON.stringify(list.body)).not.toContain(key.body.key);
    expect((await anonymous().delete(`/v1/admin/keys/${key.body.id}`).set(admin())).status).toBe(204);
    expect((await anonymous().get('/v1/jobs').set('authorization', `Bearer ${key.body.key}`)).status).toBe(401);
  });

  it("set a tenant's quotas: listed as overrides and as effective quotas, applied to its next submission; bad limits are 400s naming the field", async () => {
    const tenant = `quota-${Date.now()}`;
    const created = await anonymous()
      .post('/v1/admin/tenants')
      .set(admin())
      .send({ id: tenant, quotas: { queuedJobs: 3 } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      id: tenant,
      name: tenant,
      quotas: { queuedJobs: 3 },
      effectiveQuotas: { queuedJobs: 3, maxParams: t.config.QUOTA_MODEL_PARAMS },
      activeKeys: 0,
    });

    const patched = await anonymous()
      .patch(`/v1/admin/tenants/${tenant}`)
      .set(admin())
      .send({ name: 'Quota Co', quotas: { maxParams: 1000 } });
    expect(patched.status).toBe(200);
    // `quotas` replaces the overrides: queuedJobs is back to the server default.
    expect(patched.body).toMatchObject({ name: 'Quota Co', quotas: { maxParams: 1000 }, effectiveQuotas: { maxParams: 1000, queuedJobs: t.config.QUOTA_QUEUED_JOBS } });
    const listRes = await anonymous().get('/v1/admin/tenants').set(admin());
    expect(listRes.status, JSON.stringify(listRes.body)).toBe(200);
    const listed = listRes.body.items.find((x: { id: string }) => x.id === tenant);
    expect(listed).toEqual(patched.body);

    const key = await anonymous().post(`/v1/admin/tenants/${tenant}/keys`).set(admin()).send({ name: 'ci' });
    const submit = await anonymous().post('/v1/jobs').set('authorization', `Bearer ${key.body.key}`).send(jobBody());
    expect(submit.status).toBe(422);
    expect(submit.body).toMatchObject({ code: 'quota-exceeded', quota: 'maxParams', limit: 1000 });

    for (const [body, field] of [
      [{ quotas: { maxParams: -1 } }, 'quotas.maxParams'],
      [{ quotas: { maxParams: 1.5 } }, 'quotas.maxParams'],
      [{ quotas: { maxParms: 1000 } }, 'quotas.maxParms'],
    ] as const) {
      const res = await anonymous().patch(`/v1/admin/tenants/${tenant}`).set(admin()).send(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(res.body.errors ?? res.body)).toContain(field.split('.')[1]);
    }
    expect((await anonymous().patch(`/v1/admin/tenants/${tenant}`).set(admin()).send({})).status).toBe(400);
    expect((await anonymous().patch('/v1/admin/tenants/no-such-tenant').set(admin()).send({ name: 'x' })).status).toBe(404);
    // Nothing stored was changed by the refused requests (the key made since is counted).
    expect((await anonymous().get('/v1/admin/tenants').set(admin())).body.items.find((x: { id: string }) => x.id === tenant)).toEqual({ ...patched.body, activeKeys: 1 });
  });

  it('needs the admin token, and a tenant key is not one', async () => {
    expect((await anonymous().get('/v1/admin/tenants')).status).toBe(401);
    expect((await t.http.get('/v1/admin/tenants')).status).toBe(401);
    expect((await anonymous().get('/v1/admin/tenants').set('authorization', 'Bearer wrong-token-wrong-token')).status).toBe(401);
  });

  it('are disabled without ADMIN_TOKEN', async () => {
    await t.close();
    t = await createTestApp();
    const res = await anonymous().get('/v1/admin/tenants').set('authorization', 'Bearer anything-anything-anything');
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/the admin API is disabled: set ADMIN_TOKEN/);
  });
});

describe('tenant isolation', () => {
  it("answers 404 for another tenant's job, its metrics, events and cancel", async () => {
    const { body: job } = await t.http.post('/v1/jobs').send(jobBody());
    const other = await t.otherTenant();
    for (const [method, url] of [
      ['get', `/v1/jobs/${job.id}`],
      ['get', `/v1/jobs/${job.id}/metrics`],
      ['get', `/v1/jobs/${job.id}/events`],
      ['post', `/v1/jobs/${job.id}/cancel`],
    ] as const) {
      const res = await other.http[method](url);
      expect(res.status, `${method} ${url}`).toBe(404);
    }
    expect((await other.http.get('/v1/jobs')).body.items).toEqual([]);
  });
});
