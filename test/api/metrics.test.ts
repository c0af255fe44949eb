import { describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import type { TestApp } from '../helpers/app.js';
import { useTestApp } from '../helpers/use-app.js';
import { waitFor } from '../helpers/wait-for.js';
import { histogramOf, parsePrometheusText, samplesOf, sampleValue } from '../helpers/prometheus-text.js';

const TOKEN = 'metrics-token-for-tests-0123';

async function scrape(t: TestApp, authorization?: string) {
  const req = request(t.app.server).get('/metrics');
  const res = await (authorization ? req.set('authorization', authorization) : req);
  return res;
}

describe('GET /metrics', () => {
  const t = useTestApp();

  it('counts requests by route pattern and status, with latency histograms, after real requests', async () => {
    const missing = randomUUID();
    for (let i = 0; i < 3; i++) expect((await request(t.app.server).get('/healthz')).status).toBe(200);
    expect((await t.http.get(`/v1/jobs/${missing}`)).status).toBe(404);
    expect((await t.http.get('/v1/jobs/not-a-uuid')).status).toBe(400);
    expect((await request(t.app.server).get(`/no/such/path/${missing}`)).status).toBe(404);
    expect((await request(t.app.server).get('/v1/jobs')).status).toBe(401);

    const res = await scrape(t);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parsePrometheusText(res.text);
    const http = 'trainyard_http_request_duration_seconds';
    const healthz = histogramOf(samples, http, { method: 'GET', route: '/healthz', status_code: '200' });
    expect(healthz.count).toBe(3);
    expect(healthz.sum).toBeGreaterThan(0);
    expect(histogramOf(samples, http, { method: 'GET', route: '/v1/jobs/:id', status_code: '404' }).count).toBe(1);
    expect(histogramOf(samples, http, { method: 'GET', route: '/v1/jobs/:id', status_code: '400' }).count).toBe(1);
    expect(histogramOf(samples, http, { method: 'GET', route: '(unmatched)', status_code: '404' }).count).toBe(1);
    expect(histogramOf(samples, http, { method: 'GET', route: '/v1/jobs', status_code: '401' }).count).toBe(1);
    // A route is its pattern, never the URL: no id reaches a label.
    expect(res.text).not.toContain(missing);
    expect(res.text).not.toContain('not-a-uuid');
  });

  it("reports this process's CPU, memory and event loop under their standard names", async () => {
    const samples = parsePrometheusText((await scrape(t)).text);
    expect(sampleValue(samples, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(sampleValue(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(samplesOf(samples, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
    expect(samplesOf(samples, 'nodejs_heap_size_used_bytes')).toHaveLength(1);
  });

  it('reports the queue and its sources even with no job and no worker', async () => {
    const samples = parsePrometheusText((await scrape(t)).text);
    for (const state of ['waiting', 'active', 'delayed', 'failed', 'completed']) {
      expect(sampleValue(samples, 'trainyard_queue_jobs', { queue: t.config.QUEUE_NAME, state })).toBe(0);
    }
    expect(sampleValue(samples, 'trainyard_heartbeat_workers', { queue: t.config.QUEUE_NAME })).toBe(0);
    expect(sampleValue(samples, 'trainyard_metrics_source_up', { source: 'postgresql' })).toBe(1);
    expect(sampleValue(samples, 'trainyard_metrics_source_up', { source: 'redis' })).toBe(1);
    // This test's tenant has no job yet: it has no series (other tests' tenants may).
    expect(samplesOf(samples, 'trainyard_jobs', { tenant: t.tenant })).toEqual([]);
  });

  it('counts the jobs of a tenant in every state, zeros included', async () => {
    const submitted = await t.http.post('/v1/jobs').send({
      model: { input: { shape: [28, 28, 1] }, layers: [{ type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }] },
      training: { epochs: 1 },
      dataset: { id: 'mnist', limit: 100 },
    });
    expect(submitted.status).toBe(202);
    const samples = await waitFor(
      async () => parsePrometheusText((await scrape(t)).text),
      (s) => samplesOf(s, 'trainyard_jobs', { tenant: t.tenant, state: 'queued' }).some((x) => x.value === 1),
      { timeoutMs: 10_000, what: 'the queued job in trainyard_jobs' },
    );
    for (const state of ['running', 'succeeded', 'failed', 'cancelling', 'cancelled']) expect(sampleValue(samples, 'trainyard_jobs', { tenant: t.tenant, state })).toBe(0);
    expect(sampleValue(samples, 'trainyard_queue_jobs', { queue: t.config.QUEUE_NAME, state: 'waiting' })).toBe(1);
  });
});

describe('METRICS_TOKEN', () => {
  const t = useTestApp({ METRICS_TOKEN: TOKEN });

  it('refuses a scrape without the token: 401, a problem document, WWW-Authenticate', async () => {
    const res = await scrape(t);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="metrics"');
    expect(res.body).toMatchObject({ status: 401, code: 'unauthorized', detail: 'the metrics need Authorization: Bearer <METRICS_TOKEN>', instance: '/metrics' });
    expect(res.text).not.toContain('trainyard_');
  });

  it.each([[`Bearer ${TOKEN}x`], [`Bearer ${TOKEN.slice(1)}`], [`Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`], ['Bearer']])(
    'refuses a wrong token (%s)',
    async (authorization) => {
      const res = await scrape(t, authorization);
      expect(res.status).toBe(401);
      expect(res.body.detail).toBe('the metrics token is not valid');
    },
  );

  it('serves the metrics with the token, and API keys are no substitute', async () => {
    const ok = await scrape(t, `Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(parsePrometheusText(ok.text).length).toBeGreaterThan(10);
    expect((await scrape(t, `Bearer ${t.key}`)).status).toBe(401);
  });

  it('leaves the health checks open', async () => {
    expect((await request(t.app.server).get('/healthz')).status).toBe(200);
  });
});
