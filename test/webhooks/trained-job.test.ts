import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, jobBody, type TestApp } from '../helpers/app.js';
import { spawnEntry, spawnWorker, type WorkerProcess } from '../helpers/worker-process.js';
import { startWebhookReceiver, verifyStandardWebhook, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { waitFor } from '../helpers/wait-for.js';
import { waitForJob, type JobBody } from '../helpers/wait-for-job.js';
import { WEBHOOK_EVENT_TYPES } from '../../src/storage/webhook.schema.js';

/**
 * A job trained by a real worker process, its events delivered by a real
 * delivery process (`npm run webhooks`' entry) to a receiver on 127.0.0.1:
 * every state change and epoch arrives, in the order it happened, signed.
 */
let t: TestApp;
let receiver: WebhookReceiver;
let worker: WorkerProcess;
let delivery: WorkerProcess;
let endpoint: { id: string; secret: string };
let job: JobBody;

async function stop(p: WorkerProcess | undefined) {
  if (!p || p.child.exitCode !== null) return;
  p.child.kill('SIGTERM');
  await p.exited;
}

beforeAll(async () => {
  t = await createTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_ALLOW_HTTP: 'true' });
  receiver = await startWebhookReceiver();
  const registered = await t.http.post('/v1/webhooks').send({ url: receiver.url(), events: [...WEBHOOK_EVENT_TYPES] });
  expect(registered.status, JSON.stringify(registered.body)).toBe(201);
  endpoint = registered.body;
  [worker, delivery] = await Promise.all([spawnWorker(t.config), spawnEntry('src/worker/webhooks-main.ts', t.config, '"webhook delivery ready"')]);
  const submitted = await t.http.post('/v1/jobs').send(jobBody({ name: 'hooked', register: { name: 'hooked-digits' } }));
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
  job = await waitForJob(t.http, submitted.body.id);
  expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
  await waitFor(
    async () => receiver.received.length,
    (n) => n >= 6,
    { timeoutMs: 60_000, what: 'six messages' },
  );
});
afterAll(async () => {
  await Promise.all([stop(worker), stop(delivery)]);
  await receiver?.close();
  await t?.close();
});

describe('a trained job, told through webhooks', () => {
  it('sends every state change and epoch, in the order they happened', () => {
    const messages = receiver.messages();
    expect(messages.map((m) => m.type)).toEqual(['job.queued', 'job.running', 'job.epoch', 'job.epoch', 'model.registered', 'job.succeeded']);
    const jobEvents = messages.filter((m) => m.type.startsWith('job.'));
    for (const m of jobEvents) expect(m.data).toMatchObject({ jobId: job.id, jobName: 'hooked' });
    const eventIds = jobEvents.map((m) => Number(m.data.eventId));
    expect(eventIds).toEqual([...eventIds].sort((a, b) => a - b));
    const times = messages.map((m) => Date.parse(m.timestamp));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('carries what each event recorded', async () => {
    const [queued, running, epoch1, epoch2, registered, succeeded] = receiver.messages();
    expect(queued.data.status).toBe('queued');
    expect(running.data).toMatchObject({ status: 'running', attempt: 1 });
    expect(epoch1.data).toMatchObject({ epoch: 1, epochs: 2 });
    expect(epoch2.data).toMatchObject({ epoch: 2, epochs: 2 });
    expect(epoch1.data.loss).toEqual(expect.any(Number));
    expect(epoch2.data.samplesPerSec).toBeGreaterThan(0);
    expect(registered.data).toEqual({ name: 'hooked-digits', version: 1, modelId: job.modelId, jobId: job.id });
    expect(succeeded.data).toMatchObject({ status: 'succeeded', modelId: job.modelId, registeredAs: { name: 'hooked-digits', version: 1 } });
    // The same figures as the job's own metrics.
    const metrics = (await t.http.get(`/v1/jobs/${job.id}/metrics`)).body.items;
    expect(epoch2.data.loss).toBe(metrics[1].loss);
  });

  it('signs every message with the endpoint secret and records each delivery', async () => {
    for (const r of receiver.received) expect(verifyStandardWebhook(endpoint.secret, r.headers, r.body)).toBe(true);
    const { items } = (await t.http.get(`/v1/webhooks/${endpoint.id}/deliveries?limit=100`)).body;
    expect(items).toHaveLength(6);
    expect(items.every((d: { status: string; attemptCount: number }) => d.status === 'succeeded' && d.attemptCount === 1)).toBe(true);
    // Newest event first.
    expect(items.map((d: { eventType: string }) => d.eventType)).toEqual(['job.succeeded', 'model.registered', 'job.epoch', 'job.epoch', 'job.running', 'job.queued']);
  });
});
