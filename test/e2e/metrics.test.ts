import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestApp, jobBody, type TestApp } from '../helpers/app.js';
import { freePort } from '../helpers/api-stack.js';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process.js';
import { waitForJob, type JobBody } from '../helpers/wait-for-job.js';
import { waitFor } from '../helpers/wait-for.js';
import { histogramOf, parsePrometheusText, samplesOf, sampleValue, type Sample } from '../helpers/prometheus-text.js';

/**
 * A job trained by a worker running as its own process, then predicted
 * with: what the worker's /metrics (its own port) and the API's /metrics
 * say about it.
 */
const TOKEN = 'metrics-token-for-e2e-tests';
const EPOCHS = 2;

let t: TestApp;
let worker: WorkerProcess;
let metricsPort: number;
let job: JobBody;

const workerUrl = (path: string) => `http://127.0.0.1:${metricsPort}${path}`;

async function scrapeWorker(): Promise<Sample[]> {
  const res = await fetch(workerUrl('/metrics'), { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  return parsePrometheusText(await res.text());
}

async function scrapeApi(): Promise<Sample[]> {
  const res = await request(t.app.server).get('/metrics').set('authorization', `Bearer ${TOKEN}`);
  expect(res.status).toBe(200);
  return parsePrometheusText(res.text);
}

beforeAll(async () => {
  // One compute thread: the second prediction must find the model the first one loaded.
  t = await createTestApp({ METRICS_TOKEN: TOKEN, COMPUTE_THREADS: 1 });
  metricsPort = await freePort();
  worker = await spawnWorker({ ...t.config, WORKER_METRICS_PORT: metricsPort });
  const submitted = await t.http.post('/v1/jobs').send(jobBody({ training: { epochs: EPOCHS, batchSize: 32, learningRate: 0.01, seed: 5 }, dataset: { id: 'mnist', limit: 300 } }));
  expect(submitted.status).toBe(202);
  job = await waitForJob(t.http, submitted.body.id);
  expect(job.status).toBe('succeeded');
});

afterAll(async () => {
  await worker?.stop();
  await t?.close();
});

describe("a worker's own /metrics", () => {
  it('counts the epochs it trained, their durations and the samples they went through', async () => {
    const samples = await scrapeWorker();
    const engine = job.engine.name as string;
    const epochs = histogramOf(samples, 'trainyard_training_epoch_duration_seconds', { engine });
    expect(epochs.count).toBe(EPOCHS);
    expect(epochs.sum).toBeGreaterThan(0);
    expect(sampleValue(samples, 'trainyard_training_samples_total', { engine })).toBe(EPOCHS * job.split.train);
    expect(sampleValue(samples, 'trainyard_worker_job_attempts_total', { outcome: 'succeeded' })).toBe(1);
    expect(sampleValue(samples, 'trainyard_worker_engine_info', { engine })).toBe(1);
  });

  it('reports its slots, busy slots and last heartbeat', async () => {
    const samples = await scrapeWorker();
    expect(sampleValue(samples, 'trainyard_worker_slots')).toBe(t.config.WORKER_CONCURRENCY);
    expect(sampleValue(samples, 'trainyard_worker_busy_slots')).toBe(0);
    const beat = sampleValue(samples, 'trainyard_worker_heartbeat_timestamp_seconds');
    // Heartbeats come every 5 s: the last one is recent, and not in the future.
    expect(Date.now() / 1000 - beat).toBeLessThan(30);
    expect(Date.now() / 1000 - beat).toBeGreaterThanOrEqual(0);
    expect(sampleValue(samples, 'trainyard_worker_heartbeat_failures_total')).toBe(0);
  });

  it("reports the worker process's own CPU and memory", async () => {
    const samples = await scrapeWorker();
    expect(sampleValue(samples, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(sampleValue(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('needs METRICS_TOKEN; /healthz stays open for a liveness probe', async () => {
    const open = await fetch(workerUrl('/metrics'));
    expect(open.status).toBe(401);
    expect(await open.json()).toMatchObject({ status: 401, code: 'unauthorized' });
    const wrong = await fetch(workerUrl('/metrics'), { headers: { authorization: 'Bearer not-the-token-at-all' } });
    expect(wrong.status).toBe(401);
    const health = await fetch(workerUrl('/healthz'));
    expect(health.status).toBe(200);
    expect((await fetch(workerUrl('/other'))).status).toBe(404);
  });

  it('is listed by GET /v1/workers with its metrics port', async () => {
    const res = await t.http.get('/v1/workers');
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([expect.objectContaining({ pid: worker.child.pid, metricsPort })]);
  });
});

describe("the API's /metrics after a real job", () => {
  it("counts the tenant's job as succeeded, the queue entry completed, and the live worker", async () => {
    const samples = await scrapeApi();
    expect(sampleValue(samples, 'trainyard_jobs', { tenant: t.tenant, state: 'succeeded' })).toBe(1);
    expect(sampleValue(samples, 'trainyard_jobs', { tenant: t.tenant, state: 'queued' })).toBe(0);
    expect(sampleValue(samples, 'trainyard_queue_jobs', { queue: t.config.QUEUE_NAME, state: 'completed' })).toBe(1);
    expect(sampleValue(samples, 'trainyard_queue_jobs', { queue: t.config.QUEUE_NAME, state: 'waiting' })).toBe(0);
    expect(sampleValue(samples, 'trainyard_heartbeat_workers', { queue: t.config.QUEUE_NAME })).toBe(1);
    expect(sampleValue(samples, 'trainyard_heartbeat_slots', { queue: t.config.QUEUE_NAME, state: 'idle' })).toBe(t.config.WORKER_CONCURRENCY);
    expect(sampleValue(samples, 'trainyard_heartbeat_slots', { queue: t.config.QUEUE_NAME, state: 'busy' })).toBe(0);
  });

  it("counts a job's event stream once it ends, by its route pattern", async () => {
    const stream = await t.http.get(`/v1/jobs/${job.id}/events`);
    expect(stream.status).toBe(200);
    expect(stream.text).toContain('event: end');
    const samples = await scrapeApi();
    const events = histogramOf(samples, 'trainyard_http_request_duration_seconds', { method: 'GET', route: '/v1/jobs/:id/events', status_code: '200' });
    expect(events.count).toBe(1);
  });

  it('times predictions, counts batch sizes and model-cache misses then hits', async () => {
    const blank = Array(784).fill(0);
    const first = await t.http.post(`/v1/models/${job.modelId}/predict`).send({ instances: [blank, blank, blank] });
    expect(first.status).toBe(200);
    const second = await t.http.post(`/v1/models/${job.modelId}/predict`).send({ instances: [blank] });
    expect(second.status).toBe(200);
    const samples = await scrapeApi();
    const latency = histogramOf(samples, 'trainyard_predict_duration_seconds');
    expect(latency.count).toBe(2);
    expect(latency.sum).toBeGreaterThan(0);
    const batches = histogramOf(samples, 'trainyard_predict_batch_size');
    // Sequential requests: one batch each, of 3 and of 1 instances.
    expect(batches.count).toBe(2);
    expect(batches.sum).toBe(4);
    expect(batches.buckets.get(1)).toBe(1);
    expect(batches.buckets.get(2)).toBe(1);
    expect(batches.buckets.get(4)).toBe(2);
    expect(sampleValue(samples, 'trainyard_model_cache_lookups_total', { result: 'miss' })).toBe(1);
    expect(sampleValue(samples, 'trainyard_model_cache_lookups_total', { result: 'hit' })).toBe(1);
    expect(histogramOf(samples, 'trainyard_http_request_duration_seconds', { method: 'POST', route: '/v1/models/:id/predict', status_code: '200' }).count).toBe(2);
  });

  it('sees the worker go when it stops', async () => {
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const samples = await waitFor(scrapeApi, (s) => samplesOf(s, 'trainyard_heartbeat_workers', { queue: t.config.QUEUE_NAME })[0]?.value === 0, {
      timeoutMs: 10_000,
      what: 'no live worker in trainyard_heartbeat_workers',
    });
    expect(sampleValue(samples, 'trainyard_heartbeat_slots', { queue: t.config.QUEUE_NAME, state: 'idle' })).toBe(0);
  });
});
