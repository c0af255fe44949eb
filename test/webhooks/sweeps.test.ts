import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, quietLog, type TestApp } from '../helpers/app.js';
import { startWebhookReceiver, verifyStandardWebhook, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { ashaStrongFirstSweep, sweepBody, waitForSweep } from '../helpers/sweeps.js';
import { waitFor } from '../helpers/wait-for.js';
import { SWEEP_STATE_EVENT_TYPES } from '../../src/storage/webhook.schema.js';
import { markFailed } from '../../src/storage/jobs.repository.js';
import { advanceSweep } from '../../src/sweep/sweep-controller.js';
import { startWebhookDelivery, type WebhookDelivery } from '../../src/worker/webhook-delivery.js';
import { startTrainingWorker, type TrainingWorker } from '../../src/worker/worker.js';

/**
 * Sweeps told through webhooks: a sweep's start and end and each finished
 * trial reach a real receiver on 127.0.0.1 through the delivery process's
 * queue, signed like every message, with the trial's parameters, objective,
 * epochs and early stopping, and the best trial so far.
 */
const SWEEP_EVENTS = [...SWEEP_STATE_EVENT_TYPES, 'sweep.trial'];

let t: TestApp | undefined;
let receiver: WebhookReceiver | undefined;
let delivery: WebhookDelivery | undefined;
let worker: TrainingWorker | undefined;
afterEach(async () => {
  await worker?.close();
  if (delivery) {
    await delivery.queue.obliterate({ force: true }).catch(() => undefined);
    await delivery.close();
  }
  await receiver?.close();
  await t?.close();
  worker = delivery = receiver = t = undefined;
});

async function setUp(events: string[] = SWEEP_EVENTS) {
  t = await createTestApp({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_ALLOW_HTTP: 'true' });
  receiver = await startWebhookReceiver();
  const res = await t.http.post('/v1/webhooks').send({ url: receiver.url(), events });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.events).toEqual(events);
  return { endpoint: res.body as { id: string; secret: string }, t, receiver };
}

const startDelivery = async () => {
  delivery = await startWebhookDelivery(t!.config, quietLog, { outboxIntervalMs: 50 });
};

type Message = { type: string; timestamp: string; data: Record<string, unknown> };

/**
 * Waits for `count` messages, checks each one's signature, and returns them
 * in the order of their events (the outbox's order, oldest first): with
 * several messages in the outbox at once, a busy sender may hand them over
 * in another order (README: order by eventId or timestamp).
 */
async function receivedInEventOrder(endpoint: { id: string; secret: string }, count: number): Promise<Message[]> {
  await waitFor(
    async () => receiver!.received.length,
    (n) => n >= count,
    { timeoutMs: 60_000, what: `${count} webhook messages` },
  );
  for (const r of receiver!.received) expect(verifyStandardWebhook(endpoint.secret, r.headers, r.body)).toBe(true);
  const byId = new Map(receiver!.received.map((r) => [r.headers['webhook-id'], JSON.parse(r.body) as Message]));
  const outbox = (await t!.http.get(`/v1/webhooks/${endpoint.id}/deliveries?limit=100`)).body.items.reverse() as { messageId: string }[];
  expect(outbox).toHaveLength(count);
  expect(byId.size).toBe(count);
  return outbox.map((d) => byId.get(d.messageId)!);
}

/** The id of the job's last state event: what its final message calls eventId. */
async function finalEventId(jobId: string): Promise<string> {
  const row = await t!.app.services.db.jobEvent.findFirst({ where: { jobId, type: 'state' }, orderBy: { id: 'desc' } });
  return String(row!.id);
}

describe('sweep webhooks', () => {
  it('sends sweep.running, a sweep.trial per finished trial (early-stopped ones saying so) and sweep.succeeded with the best trial, signed', async () => {
    const { endpoint } = await setUp();
    await startDelivery();
    worker = await startTrainingWorker(t!.config, quietLog);
    // One at a time, strong first: ASHA stops the two weak ones at the first rung.
    const res = await t!.http.post('/v1/sweeps').send(ashaStrongFirstSweep({ name: 'hooked-sweep' }));
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const sweep = await waitForSweep(t!.http, res.body.id);
    expect(sweep.status).toBe('succeeded');
    const messages = await receivedInEventOrder(endpoint, 5);
    expect(messages.map((m) => m.type)).toEqual(['sweep.running', 'sweep.trial', 'sweep.trial', 'sweep.trial', 'sweep.succeeded']);
    for (const m of messages) expect(m.data).toMatchObject({ sweepId: sweep.id, sweepName: 'hooked-sweep' });

    const [running, ...rest] = messages;
    expect(running.data).toMatchObject({
      status: 'running',
      algorithm: 'grid',
      objective: { metric: 'valLoss', goal: 'minimize' },
      maxTrials: 3,
      parallelism: 1,
      progress: { trials: 0 },
      best: null,
    });
    const trialMessages = rest.slice(0, 3);
    const strong = sweep.trials[0];
    for (const [i, m] of trialMessages.entries()) {
      const trial = sweep.trials[i];
      expect(m.data).toEqual({
        sweepId: sweep.id,
        sweepName: 'hooked-sweep',
        trial: i,
        jobId: trial.jobId,
        eventId: await finalEventId(trial.jobId),
        status: 'succeeded',
        params: trial.params,
        metric: 'valLoss',
        objective: trial.objective,
        epochs: i === 0 ? 3 : 1,
        earlyStopped: i > 0,
        stopReason: trial.stopReason,
        modelId: expect.any(String),
        error: null,
        progress: expect.objectContaining({ trials: i + 1, succeeded: i + 1, earlyStopped: i }),
        // The strong trial is the best from its own message on.
        best: { trial: 0, jobId: strong.jobId, modelId: sweep.best.modelId, params: strong.params, objective: strong.objective, epochs: 3 },
      });
    }
    expect(trialMessages[1].data.stopReason).toMatch(/^early-stopped by ASHA at the rung of epoch 1/);
    expect(messages[4].data).toEqual({
      sweepId: sweep.id,
      sweepName: 'hooked-sweep',
      status: 'succeeded',
      algorithm: 'grid',
      objective: { metric: 'valLoss', goal: 'minimize' },
      maxTrials: 3,
      parallelism: 1,
      progress: sweep.progress,
      best: sweep.best,
    });
    const times = messages.map((m) => Date.parse(m.timestamp));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    await waitFor(
      async () => (await t!.http.get(`/v1/webhooks/${endpoint.id}/deliveries?limit=100`)).body.items as { status: string; attemptCount: number }[],
      (items) => items.every((d) => d.status === 'succeeded' && d.attemptCount === 1),
      { timeoutMs: 30_000, what: 'every delivery recorded as succeeded at its first attempt' },
    );
  });

  it('writes sweep.cancelled and the cancelled trials into the outbox with the cancel itself, then delivers them', async () => {
    const { endpoint } = await setUp();
    const { body: sweep } = await t!.http.post('/v1/sweeps').send(sweepBody());
    const cancel = await t!.http.post(`/v1/sweeps/${sweep.id}/cancel`);
    expect(cancel.status).toBe(200);
    // No delivery process yet: the rows are there because the changes wrote them.
    const stored = (await t!.http.get(`/v1/webhooks/${endpoint.id}/deliveries?limit=100`)).body.items.map((d: { eventType: string }) => d.eventType);
    expect(stored).toEqual(['sweep.trial', 'sweep.trial', 'sweep.cancelled', 'sweep.running']);

    await startDelivery();
    const messages = await receivedInEventOrder(endpoint, 4);
    expect(messages.map((m) => m.type)).toEqual(['sweep.running', 'sweep.cancelled', 'sweep.trial', 'sweep.trial']);
    expect(messages[1].data).toMatchObject({ sweepId: sweep.id, status: 'cancelled', progress: { trials: 2 }, best: null });
    const trials = messages.slice(2).map((m) => m.data);
    expect(trials.map((d) => d.trial).sort()).toEqual([0, 1]);
    for (const d of trials) {
      expect(d).toMatchObject({ sweepId: sweep.id, status: 'cancelled', objective: null, epochs: 0, earlyStopped: false, modelId: null, error: null, best: null });
      expect(d.params).toEqual(sweep.trials[d.trial as number].params);
    }
  });

  it('sends the failed trials and sweep.failed with its error when no trial succeeds', async () => {
    const { endpoint } = await setUp(['sweep.failed', 'sweep.trial']);
    const { body: sweep } = await t!.http.post('/v1/sweeps').send(sweepBody());
    const { db, queue, config } = t!.app.services;
    for (const trial of sweep.trials) await markFailed(db, trial.jobId, { code: 'training-failed', message: `trial ${trial.index} broke` });
    await advanceSweep({ db, queue, config }, sweep.id);
    expect((await t!.http.get(`/v1/sweeps/${sweep.id}`)).body.status).toBe('failed');

    await startDelivery();
    // Not subscribed: sweep.running was never written.
    const messages = await receivedInEventOrder(endpoint, 3);
    expect(messages.map((m) => m.type)).toEqual(['sweep.trial', 'sweep.trial', 'sweep.failed']);
    for (const [i, m] of messages.slice(0, 2).entries()) {
      expect(m.data).toMatchObject({ trial: i, status: 'failed', error: { code: 'training-failed', message: `trial ${i} broke` }, best: null });
    }
    expect(messages[2].data).toMatchObject({
      status: 'failed',
      progress: { trials: 2, failed: 2 },
      best: null,
      error: { code: 'no-trial-succeeded', message: expect.stringMatching(/none of the 2 trials succeeded/) },
    });
  });

  it('refuses an unknown sweep event type, listing the sweep ones', async () => {
    await setUp(['sweep.trial']);
    const res = await t!.http.post('/v1/webhooks').send({ url: receiver!.url(), events: ['sweep.finished'] });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('events[0]');
    expect(res.body.detail).toMatch(/sweep\.running.*sweep\.succeeded.*sweep\.failed.*sweep\.cancelled.*sweep\.trial/);
  });
});
