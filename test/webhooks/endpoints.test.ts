import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { MAX_WEBHOOK_ENDPOINTS_PER_TENANT } from '../../src/storage/webhooks.repository.js';

/**
 * Registering, reading, changing and deleting webhook endpoints, and the
 * URLs refused at registration. This server keeps the defaults of
 * WEBHOOK_ALLOW_PRIVATE_NETWORKS (off) except where a test says otherwise;
 * it allows http so that the address checks are what refuses.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ WEBHOOK_ALLOW_HTTP: 'true' });
});
afterAll(async () => {
  await t?.close();
});

const PUBLIC_URL = 'https://93.184.216.34/hooks';
const create = (body: Record<string, unknown>, http = t.http) => http.post('/v1/webhooks').send(body);

describe('registering an endpoint', () => {
  it('answers 201 with the endpoint and its whsec_ secret, which no later answer shows', async () => {
    const res = await create({ url: PUBLIC_URL, events: ['job.succeeded', 'job.failed'], description: 'CI notifier' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ url: PUBLIC_URL, events: ['job.succeeded', 'job.failed'], description: 'CI notifier', enabled: true });
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(res.headers.location).toBe(`/v1/webhooks/${res.body.id}`);
    const got = await t.http.get(`/v1/webhooks/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).not.toHaveProperty('secret');
    expect(got.body.links).toEqual({ self: `/v1/webhooks/${res.body.id}`, deliveries: `/v1/webhooks/${res.body.id}/deliveries` });
    const listed = (await t.http.get('/v1/webhooks')).body.items.find((e: { id: string }) => e.id === res.body.id);
    expect(listed).toBeDefined();
    expect(listed).not.toHaveProperty('secret');
  });

  it('rotates the secret, showing the new one once', async () => {
    const { body: created } = await create({ url: PUBLIC_URL, events: ['job.epoch'] });
    const rotated = await t.http.post(`/v1/webhooks/${created.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.secret);
  });

  it.each([
    [{ events: ['job.succeeded'] }, 'url', /must have required property 'url'|url/],
    [{ url: PUBLIC_URL, events: [] }, 'events', /events/],
    [{ url: PUBLIC_URL, events: ['job.finished'] }, 'events[0]', /job\.queued.*model\.registered/],
    [{ url: PUBLIC_URL, events: ['job.failed', 'job.failed'] }, 'events', /events/],
    [{ url: PUBLIC_URL, events: ['job.failed'], secret: 'whsec_mine' }, 'secret', /secret/],
    [{ url: 'not a url', events: ['job.failed'] }, 'url', /url must be an absolute URL such as https:\/\/example.com\/hooks, got "not a url"/],
    [{ url: 'ftp://93.184.216.34/', events: ['job.failed'] }, 'url', /url must use https or http, got ftp/],
    [{ url: 'https://me:pw@93.184.216.34/', events: ['job.failed'] }, 'url', /url must not carry a user name or password/],
  ])('refuses %j with a 400 naming %s', async (body, field, message) => {
    const res = await create(body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.errors[0].field).toBe(field);
    expect(res.body.detail).toMatch(message);
  });

  it('refuses plain http unless the server allows it', async () => {
    const strict = await createTestApp();
    try {
      const res = await create({ url: 'http://93.184.216.34/hooks', events: ['job.failed'] }, strict.http);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ field: 'url', message: 'url must use https (this server refuses plain http: WEBHOOK_ALLOW_HTTP is off)' }]);
    } finally {
      await strict.close();
    }
  });

  it(`allows at most ${MAX_WEBHOOK_ENDPOINTS_PER_TENANT} endpoints per tenant`, async () => {
    const other = await t.otherTenant();
    for (let i = 0; i < MAX_WEBHOOK_ENDPOINTS_PER_TENANT; i++) expect((await create({ url: `${PUBLIC_URL}/${i}`, events: ['job.failed'] }, other.http)).status).toBe(201);
    const res = await create({ url: PUBLIC_URL, events: ['job.failed'] }, other.http);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'webhook-limit', limit: MAX_WEBHOOK_ENDPOINTS_PER_TENANT });
  });
});

describe('URLs that lead into the server’s own networks', () => {
  it.each([
    ['http://127.0.0.1:8080/hook', 'url resolves to 127.0.0.1, in the loopback range 127.0.0.0/8'],
    ['http://10.1.2.3/hook', 'url resolves to 10.1.2.3, in the private range 10.0.0.0/8'],
    ['http://169.254.169.254/latest/meta-data/', 'url resolves to 169.254.169.254, in the link-local range 169.254.0.0/16'],
    ['http://[::1]/hook', 'url resolves to ::1, in the loopback range ::1/128'],
    ['http://[::ffff:127.0.0.1]/hook', 'url resolves to ::ffff:7f00:1, in the IPv4-mapped loopback range 127.0.0.0/8'],
    ['http://localhost:9/hook', 'url resolves to'],
    ['http://0x7f.0.0.1/hook', 'url resolves to 127.0.0.1, in the loopback range'],
  ])('refuses %s with a 400 naming the url and the address', async (url, message) => {
    const res = await create({ url, events: ['job.succeeded'] });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.errors[0].field).toBe('url');
    expect(res.body.detail).toContain(message);
    expect(res.body.detail).toContain('webhooks are sent to public addresses only');
  });

  it('says which name resolved where', async () => {
    const res = await create({ url: 'http://localhost:9/hook', events: ['job.succeeded'] });
    expect(res.body.detail).toMatch(/^url resolves to (127\.0\.0\.1|::1) \(host "localhost"\), in the loopback range/);
  });

  it('refuses a host that does not resolve', async () => {
    const res = await create({ url: 'https://no-such-host.invalid/hook', events: ['job.succeeded'] });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatchObject({ field: 'url' });
    expect(res.body.detail).toMatch(/^url host "no-such-host.invalid" does not resolve/);
  });

  it('checks a changed URL the same way, and changes nothing when it is refused', async () => {
    const { body: created } = await create({ url: PUBLIC_URL, events: ['job.succeeded'] });
    const res = await t.http.patch(`/v1/webhooks/${created.id}`).send({ url: 'http://192.168.0.10/hook' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('url');
    expect((await t.http.get(`/v1/webhooks/${created.id}`)).body.url).toBe(PUBLIC_URL);
  });

  it('accepts private addresses when the server allows private networks', async () => {
    const open = await createTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_ALLOW_HTTP: 'true' });
    try {
      expect((await create({ url: 'http://127.0.0.1:8080/hook', events: ['job.succeeded'] }, open.http)).status).toBe(201);
    } finally {
      await open.close();
    }
  });
});

describe('changing and deleting', () => {
  it('changes only the fields sent, and deletes', async () => {
    const { body: created } = await create({ url: PUBLIC_URL, events: ['job.succeeded'], description: 'first' });
    const patched = await t.http.patch(`/v1/webhooks/${created.id}`).send({ events: ['job.failed', 'model.registered'], enabled: false });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ url: PUBLIC_URL, events: ['job.failed', 'model.registered'], enabled: false, description: 'first' });
    expect((await t.http.patch(`/v1/webhooks/${created.id}`).send({ description: null })).body.description).toBeNull();
    const empty = await t.http.patch(`/v1/webhooks/${created.id}`).send({});
    expect(empty.status).toBe(400);
    expect((await t.http.delete(`/v1/webhooks/${created.id}`)).status).toBe(204);
    expect((await t.http.get(`/v1/webhooks/${created.id}`)).status).toBe(404);
    expect((await t.http.delete(`/v1/webhooks/${created.id}`)).status).toBe(404);
  });

  it("hides one tenant's endpoints from another", async () => {
    const { body: created } = await create({ url: PUBLIC_URL, events: ['job.succeeded'] });
    const other = await t.otherTenant();
    for (const res of [
      await other.http.get(`/v1/webhooks/${created.id}`),
      await other.http.patch(`/v1/webhooks/${created.id}`).send({ enabled: false }),
      await other.http.post(`/v1/webhooks/${created.id}/rotate-secret`),
      await other.http.get(`/v1/webhooks/${created.id}/deliveries`),
      await other.http.delete(`/v1/webhooks/${created.id}`),
    ]) {
      expect(res.status).toBe(404);
      expect(res.body.detail).toBe(`webhook endpoint '${created.id}' does not exist`);
    }
    expect((await other.http.get('/v1/webhooks')).body.items).toEqual([]);
    expect((await t.http.get(`/v1/webhooks/${created.id}`)).body.enabled).toBe(true);
  });

  it('pages the list', async () => {
    const other = await t.otherTenant();
    for (let i = 0; i < 3; i++) await create({ url: `${PUBLIC_URL}/${i}`, events: ['job.failed'] }, other.http);
    const first = await other.http.get('/v1/webhooks?limit=2');
    expect(first.body.items.map((e: { url: string }) => e.url)).toEqual([`${PUBLIC_URL}/2`, `${PUBLIC_URL}/1`]);
    const second = await other.http.get(`/v1/webhooks?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((e: { url: string }) => e.url)).toEqual([`${PUBLIC_URL}/0`]);
    expect(second.body.nextCursor).toBeNull();
  });
});
