import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestApp, jobBody, type TestApp } from '../helpers/app.js';
import { useTestApp } from '../helpers/use-app.js';

const ADMIN_TOKEN = 'admin-token-for-dashboard-tests';
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('the queue dashboard at /admin/queues without ADMIN_TOKEN', () => {
  const t = useTestApp();

  it.each(['/admin/queues', '/admin/queues/api/queues'])('%s answers 403: disabled, whatever is sent', async (path) => {
    for (const authorization of [undefined, basic('admin', 'anything-at-all-here'), `Bearer ${t.key}`]) {
      const req = request(t.app.server).get(path);
      const res = await (authorization ? req.set('authorization', authorization) : req);
      expect(res.status).toBe(403);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body).toMatchObject({ code: 'admin-disabled', detail: 'the queue dashboard is disabled: set ADMIN_TOKEN on the server' });
    }
  });
});

describe('the queue dashboard at /admin/queues behind ADMIN_TOKEN', () => {
  let t: TestApp;
  let jobId: string;
  beforeAll(async () => {
    t = await createTestApp({ ADMIN_TOKEN });
    const submitted = await t.http.post('/v1/jobs').send(jobBody());
    expect(submitted.status).toBe(202);
    jobId = submitted.body.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['no credentials', undefined, /needs ADMIN_TOKEN/],
    ['a wrong password', basic('admin', `${ADMIN_TOKEN}-not`), /not the server's ADMIN_TOKEN/],
    ['a wrong bearer token', `Bearer ${ADMIN_TOKEN.slice(0, -1)}`, /not the server's ADMIN_TOKEN/],
    ["a tenant's API key", 'KEY', /not the server's ADMIN_TOKEN/],
    ['an unknown scheme', `Token ${ADMIN_TOKEN}`, /needs ADMIN_TOKEN/],
    ['Basic without a password', `Basic ${Buffer.from(ADMIN_TOKEN).toString('base64')}`, /needs ADMIN_TOKEN/],
  ])('answers 401 with a Basic challenge to %s, page and API alike', async (_what, authorization, detail) => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues']) {
      const req = request(t.app.server).get(path);
      const header = authorization === 'KEY' ? `Bearer ${t.key}` : authorization;
      const res = await (header ? req.set('authorization', header) : req);
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Basic realm="Trainyard queues", charset="UTF-8"');
      expect(res.body).toMatchObject({ status: 401, code: 'unauthorized', instance: path });
      expect(res.body.detail).toMatch(detail);
      expect(res.text).not.toContain(t.config.QUEUE_NAME);
    }
  });

  it('serves the page, its scripts and the queue with the token as the Basic password', async () => {
    const auth = basic('ops', ADMIN_TOKEN);
    const page = await request(t.app.server).get('/admin/queues').set('authorization', auth);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('<base href="/admin/queues/"');
    const script = /<script defer src="(static\/js\/main\.[^"]+\.js)"/.exec(page.text)?.[1];
    expect(script).toBeDefined();
    const js = await request(t.app.server).get(`/admin/queues/${script}`).set('authorization', auth);
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    // The page's own scripts are not to be fetched without the token either.
    expect((await request(t.app.server).get(`/admin/queues/${script}`)).status).toBe(401);

    const queues = await request(t.app.server).get('/admin/queues/api/queues').query({ activeQueue: t.config.QUEUE_NAME, status: 'waiting', page: 1 }).set('authorization', auth);
    expect(queues.status).toBe(200);
    const ours = queues.body.queues.find((q: { name: string }) => q.name === t.config.QUEUE_NAME);
    expect(ours).toMatchObject({ displayName: `training (${t.config.QUEUE_NAME})`, counts: expect.objectContaining({ waiting: 1 }) });
    expect(ours.jobs.map((j: { data: { jobId: string } }) => j.data.jobId)).toEqual([jobId]);
    // The webhook deliveries' queue is there too.
    expect(queues.body.queues.map((q: { name: string }) => q.name).sort()).toEqual([t.config.QUEUE_NAME, `${t.config.QUEUE_NAME}.webhooks`]);
  });

  it('takes the token as a bearer token too (scripts)', async () => {
    const res = await request(t.app.server).get('/admin/queues/api/queues').set('authorization', `Bearer ${ADMIN_TOKEN}`);
    expect(res.status).toBe(200);
  });

  it('keeps its routes out of the API document', async () => {
    const doc = await request(t.app.server).get('/docs/json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths).filter((p) => p.startsWith('/admin'))).toEqual([]);
  });
});
