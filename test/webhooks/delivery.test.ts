import { lookup } from 'node:dns/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, jobBody, quietLog, type TestApp } from '../helpers/app.js';
import { startWebhookReceiver, verifyStandardWebhook, type WebhookReceiver } from '../helpers/webhook-receiver.js';
import { PrivateRedis } from '../helpers/private-redis.js';
import { waitFor } from '../helpers/wait-for.js';
import { startWebhookDelivery, type WebhookDelivery } from '../../src/worker/webhook-delivery.js';
import type { AppConfig } from '../../src/config/config.js';

/**
 * Deliveries from the outbox to a real receiver on 127.0.0.1, through the
 * delivery process's queue: signatures (checked here by a verifier of our
 * own, not the server's code), retries with backoff, giving up, redelivery,
 * the address check at delivery time, and events written while Redis is
 * away. Backoff is shortened; tests wait on conditions, never on time.
 */
const BASE_MS = 200;
const FAST: Partial<AppConfig> = { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_RETRY_BASE_MS: BASE_MS, WEBHOOK_TIMEOUT_MS: 3000 };

let t: TestApp;
let receiver: WebhookReceiver;
const running: WebhookDelivery[] = [];
const extraApps: TestApp[] = [];

beforeEach(async () => {
  t = await createTestApp(FAST);
  receiver = await startWebhookReceiver();
});
afterEach(async () => {
  for (const d of running.splice(0)) {
    await d.queue.obliterate({ force: true }).catch(() => undefined);
    await d.close();
  }
  for (const app of extraApps.splice(0)) await app.close();
  await receiver?.close();
  await t?.close();
});

async function startDelivery(overrides: Partial<AppConfig> = {}): Promise<WebhookDelivery> {
  const d = await startWebhookDelivery({ ...t.config, ...overrides }, quietLog, { outboxIntervalMs: 50 });
  running.push(d);
  return d;
}

async function register(events: string[], url = receiver.url(), http = t.http): Promise<{ id: string; secret: string }> {
  const res = await http.post('/v1/webhooks').send({ url, events });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** A job submitted through the API: its row and its job.queued event; cancelling it adds job.cancelled. */
async function submitJob(): Promise<string> {
  const res = await t.http.post('/v1/jobs').send(jobBody());
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.id;
}

type Delivery = {
  id: string;
  status: string;
  messageId: string;
  attempts: {
    attempt: number;
    round: number;
    statusCode: number | null;
    error: string | null;
    startedAt: string;
    durationMs: number;
    address: string | null;
    responseBody: string | null;
  }[];
} & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function deliveries(endpointId: string, query = ''): Promise<Delivery[]> {
  const res = await t.http.get(`/v1/webhooks/${endpointId}/deliveries${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.items;
}

function waitForDelivery(endpointId: string, until: (d: Delivery) => boolean, what: string): Promise<Delivery> {
  return waitFor(
    async () => (await deliveries(endpointId))[0],
    (d) => d !== undefined && until(d),
    { timeoutMs: 60_000, intervalMs: 50, what },
  ) as Promise<Delivery>;
}

describe('delivering', () => {
  it('signs each message as Standard Webhooks describes, and lists the delivery with its attempt', async () => {
    const endpoint = await register(['job.queued']);
    await startDelivery();
    const jobId = await submitJob();
    await waitFor(
      async () => receiver.received.length,
      (n) => n >= 1,
      { timeoutMs: 60_000, what: 'the job.queued message' },
    );

    const [request] = receiver.received;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/hook');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(300);
    expect(verifyStandardWebhook(endpoint.secret, request.headers, request.body)).toBe(true);
    // The verifier is not a rubber stamp: another body, id or secret fails it.
    expect(verifyStandardWebhook(endpoint.secret, request.headers, request.body.replace('queued', 'running'))).toBe(false);
    expect(verifyStandardWebhook(endpoint.secret, { ...request.headers, 'webhook-id': 'msg_other' }, request.body)).toBe(false);
    expect(verifyStandardWebhook(`whsec_${Buffer.alloc(32, 1).toString('base64')}`, request.headers, request.body)).toBe(false);

    const message = JSON.parse(request.body);
    expect(message).toMatchObject({ type: 'job.queued', data: { jobId, jobName: 'test-job', status: 'queued' } });
    expect(message.data.eventId).toMatch(/^\d+$/);
    expect(new Date(message.timestamp).toISOString()).toBe(message.timestamp);

    const delivered = await waitForDelivery(endpoint.id, (d) => d.status === 'succeeded', 'the delivery recorded as succeeded');
    expect(delivered).toMatchObject({ eventType: 'job.queued', messageId: request.headers['webhook-id'], round: 0, attemptCount: 1, lastStatusCode: 204, payload: message });
    expect(delivered.attempts).toEqual([expect.objectContaining({ attempt: 1, round: 0, statusCode: 204, address: '127.0.0.1', error: null })]);
  });

  it('sends each event to the enabled endpoints subscribed to its type only', async () => {
    const queued = await register(['job.queued']);
    const cancelled = await register(['job.cancelled'], receiver.url('/cancelled'));
    const disabled = await register(['job.queued', 'job.cancelled'], receiver.url('/disabled'));
    expect((await t.http.patch(`/v1/webhooks/${disabled.id}`).send({ enabled: false })).status).toBe(200);
    await startDelivery();
    const jobId = await submitJob();
    expect([200, 202]).toContain((await t.http.post(`/v1/jobs/${jobId}/cancel`)).status);
    await waitForDelivery(queued.id, (d) => d.status === 'succeeded', 'job.queued delivered');
    await waitForDelivery(cancelled.id, (d) => d.status === 'succeeded', 'job.cancelled delivered');
    expect(receiver.received.map((r) => `${r.path} ${JSON.parse(r.body).type}`).sort()).toEqual(['/cancelled job.cancelled', '/hook job.queued']);
    expect(await deliveries(disabled.id)).toEqual([]);
    // The one message id of an event is shared by its endpoints; each event has its own.
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(2);
  });

  it('retries after 500s with exponential backoff, then records the 200; every attempt with its response', async () => {
    receiver.respondWith((_req, n, res) => {
      res.writeHead(n < 2 ? 500 : 200, { 'content-type': 'text/plain' }).end(n < 2 ? `busy ${n}` : 'ok');
      return 'handled';
    });
    const endpoint = await register(['job.queued']);
    await startDelivery();
    await submitJob();
    const done = await waitForDelivery(endpoint.id, (d) => d.status === 'succeeded', 'success on the third attempt');

    expect(done.attempts.map((a) => [a.attempt, a.statusCode, a.responseBody])).toEqual([
      [1, 500, 'busy 0'],
      [2, 500, 'busy 1'],
      [3, 200, 'ok'],
    ]);
    expect(done).toMatchObject({ attemptCount: 3, lastStatusCode: 200, lastError: null, nextAttemptAt: null });
    // Waits of BASE, then 2 × BASE, at least, between the attempts as the receiver saw them.
    const at = receiver.received.map((r) => r.at);
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(BASE_MS);
    expect(at[2] - at[1]).toBeGreaterThanOrEqual(2 * BASE_MS);
    // One message: the same id and body each time, each attempt signed afresh and valid.
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1);
    expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
    for (const r of receiver.received) expect(verifyStandardWebhook(endpoint.secret, r.headers, r.body)).toBe(true);

    expect((await deliveries(endpoint.id, '?status=failed')).length).toBe(0);
    expect((await deliveries(endpoint.id, '?status=succeeded&eventType=job.queued')).map((d) => d.id)).toEqual([done.id]);
    const one = await t.http.get(`/v1/webhooks/${endpoint.id}/deliveries/${done.id}`);
    expect(one.status).toBe(200);
    expect(one.body.attempts).toHaveLength(3);
  });

  it('gives up once the next attempt would start after the retry period', async () => {
    receiver.respondWith(() => 503);
    const endpoint = await register(['job.queued']);
    await startDelivery({ WEBHOOK_RETRY_BASE_MS: 100, WEBHOOK_RETRY_FOR_MS: 2000 });
    await submitJob();
    const failed = await waitForDelivery(endpoint.id, (d) => d.status === 'failed', 'the delivery to give up');

    // How many attempts fit in the period depends on how soon the first one ran (a loaded
    // machine runs it later: once it came after 900 ms); what must hold is below.
    expect(failed.attempts.length).toBeGreaterThanOrEqual(1);
    expect(failed.attempts.every((a) => a.statusCode === 503)).toBe(true);
    expect(failed).toMatchObject({ nextAttemptAt: null, lastStatusCode: 503 });
    expect(failed.finishedAt).not.toBeNull();
    const deadline = Date.parse(failed.createdAt) + 2000;
    // Each retry was due within the period: its wait, counted from the attempt before, ended by the deadline...
    for (const [i, a] of failed.attempts.slice(0, -1).entries()) expect(Date.parse(a.startedAt) + 100 * 2 ** i).toBeLessThanOrEqual(deadline);
    // ...and the one not made would have been due after it: the sender decides a little after the
    // answer ends (the attempt's start and duration leave out the address check and the event loop's delay).
    const last = failed.attempts[failed.attempts.length - 1];
    expect(Date.parse(last.startedAt) + last.durationMs + 100 * 2 ** (failed.attempts.length - 1)).toBeGreaterThan(deadline - 50);
  });

  it('redelivers on request: the same message again, signed anew, as a new round', async () => {
    const endpoint = await register(['job.queued']);
    await startDelivery();
    await submitJob();
    const first = await waitForDelivery(endpoint.id, (d) => d.status === 'succeeded', 'the first delivery');

    const res = await t.http.post(`/v1/webhooks/${endpoint.id}/deliveries/${first.id}/redeliver`);
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ id: first.id, status: 'pending', round: 1, attemptCount: 1 });
    const again = await waitForDelivery(endpoint.id, (d) => d.status === 'succeeded' && d.round === 1, 'the redelivery');
    expect(again.attempts.map((a) => [a.attempt, a.round, a.statusCode])).toEqual([
      [1, 0, 204],
      [2, 1, 204],
    ]);
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1].headers['webhook-id']).toBe(receiver.received[0].headers['webhook-id']);
    expect(receiver.received[1].body).toBe(receiver.received[0].body);
    expect(verifyStandardWebhook(endpoint.secret, receiver.received[1].headers, receiver.received[1].body)).toBe(true);

    const other = await t.otherTenant();
    expect((await other.http.post(`/v1/webhooks/${endpoint.id}/deliveries/${first.id}/redeliver`)).status).toBe(404);
    const unknown = await t.http.post(`/v1/webhooks/${endpoint.id}/deliveries/00000000-0000-4000-8000-000000000000/redeliver`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toBe("webhook delivery '00000000-0000-4000-8000-000000000000' does not exist");
  });
});

describe('what a request may reach and how long it may take', () => {
  it('checks the address again at delivery time: a URL registered while allowed is refused once it is not, and nothing is sent', async () => {
    const endpoint = await register(['job.queued']);
    // The same database and queue, but a delivery process that refuses private networks: as if the name had been re-pointed.
    await startDelivery({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' });
    await submitJob();
    const failed = await waitForDelivery(endpoint.id, (d) => d.status === 'failed', 'the refusal');
    expect(failed.attempts).toEqual([expect.objectContaining({ attempt: 1, statusCode: null, address: null })]);
    expect(failed.lastError).toMatch(/^url resolves to 127\.0\.0\.1, in the loopback range 127\.0\.0\.0\/8; webhooks are sent to public addresses only$/);
    expect(receiver.received).toEqual([]);
  });

  it('connects to the address it checked, keeping the host name in the request', async () => {
    const [first] = await lookup('localhost', { all: true, verbatim: true });
    const endpoint = await register(['job.queued'], `http://localhost:${receiver.port}/by-name`);
    await startDelivery();
    await submitJob();
    const done = await waitForDelivery(endpoint.id, (d) => d.status === 'succeeded', 'the delivery by name');
    expect(done.attempts[0].address).toBe(first.address);
    expect(receiver.received[0].headers.host).toBe(`localhost:${receiver.port}`);
  });

  it('follows no redirect, cuts a slow answer at the timeout and reads a long body only up to its cap', async () => {
    receiver.respondWith((req, _n, res) => {
      if (req.path === '/moved') res.writeHead(302, { location: receiver.url('/elsewhere') }).end();
      else if (req.path === '/huge') res.writeHead(200).end('x'.repeat(1 << 20));
      else if (req.path === '/silent') return 'handled';
      else res.writeHead(204).end();
      return 'handled';
    });
    const moved = await register(['job.queued'], receiver.url('/moved'));
    const huge = await register(['job.queued'], receiver.url('/huge'));
    const silent = await register(['job.queued'], receiver.url('/silent'));
    await startDelivery({ WEBHOOK_TIMEOUT_MS: 300, WEBHOOK_RETRY_BASE_MS: 60_000 });
    await submitJob();

    const redirected = await waitForDelivery(moved.id, (d) => d.attemptCount >= 1, 'the redirected attempt');
    expect(redirected.status).toBe('pending');
    expect(redirected.attempts[0]).toMatchObject({ statusCode: 302, error: `redirects are not followed (Location: ${receiver.url('/elsewhere')})` });
    const big = await waitForDelivery(huge.id, (d) => d.status === 'succeeded', 'the long answer');
    expect(big.attempts[0].statusCode).toBe(200);
    expect(big.attempts[0].responseBody).toHaveLength(4096);
    const slow = await waitForDelivery(silent.id, (d) => d.attemptCount >= 1, 'the timed-out attempt');
    expect(slow.attempts[0]).toMatchObject({ statusCode: null, error: 'no response within 300 ms' });
    expect(receiver.received.map((r) => r.path)).not.toContain('/elsewhere');
  });
});

describe('order', () => {
  it("sends one endpoint's messages in the order of their events, whatever order its database reads finish in", async () => {
    const endpoint = await register(['job.queued', 'job.cancelled']);
    const written: [string, string][] = [];
    for (let i = 0; i < 4; i++) {
      const jobId = await submitJob();
      expect([200, 202]).toContain((await t.http.post(`/v1/jobs/${jobId}/cancel`)).status);
      written.push(['job.queued', jobId], ['job.cancelled', jobId]);
    }
    // All eight are in the outbox before the sender starts: one drain moves them, and
    // sixteen slots take them at once (one endpoint may hold eight: none waits outside).
    await startDelivery({ WEBHOOK_CONCURRENCY: 16 });
    await waitFor(
      async () => receiver.messages().length,
      (n) => n === written.length,
      { timeoutMs: 60_000, what: 'every message' },
    );
    expect(receiver.messages().map((m) => [m.type, m.data.jobId])).toEqual(written);
    await waitForDelivery(endpoint.id, (x) => x.status === 'succeeded', 'the deliveries recorded');
  });
});

describe('the outbox', () => {
  it('keeps deliveries of events written while Redis is away, and sends them once it is back', async () => {
    const redis = await PrivateRedis.start();
    try {
      const endpoint = await register(['job.queued', 'job.cancelled']);
      const warnings: string[] = [];
      const log = { ...quietLog, warn: (_obj: object | string, msg?: string) => void warnings.push(msg ?? '') };
      running.push(await startWebhookDelivery({ ...t.config, REDIS_URL: redis.url }, log, { outboxIntervalMs: 50 }));
      await redis.kill();
      // The API writes its events without the delivery queue: the outbox rows are in the same transaction.
      const jobId = await submitJob();
      expect([200, 202]).toContain((await t.http.post(`/v1/jobs/${jobId}/cancel`)).status);
      await waitFor(
        async () => warnings,
        (w) => w.includes('could not move webhook deliveries into the queue yet; retrying'),
        {
          timeoutMs: 60_000,
          what: 'the drainer to fail against the missing Redis',
        },
      );
      const waiting = await deliveries(endpoint.id);
      expect(waiting.map((w) => [w.eventType, w.status, w.attemptCount])).toEqual([
        ['job.cancelled', 'pending', 0],
        ['job.queued', 'pending', 0],
      ]);

      await redis.up();
      await waitFor(
        async () => receiver.messages().map((m) => m.type),
        (types) => types.length === 2,
        { timeoutMs: 60_000, what: 'both messages after Redis came back' },
      );
      expect(receiver.messages().map((m) => m.type)).toEqual(['job.queued', 'job.cancelled']);
      await waitForDelivery(endpoint.id, (x) => x.status === 'succeeded', 'the deliveries recorded');
    } finally {
      for (const d of running.splice(0)) await d.close();
      await redis.kill();
    }
  });

  it('re-queues an overdue delivery whose queue entry was lost (Redis restarted empty)', async () => {
    receiver.respondWith((_req, n) => (n === 0 ? 500 : 204));
    const endpoint = await register(['job.queued']);
    // A retry wait far longer than the test: only the repair can bring the delivery back early.
    const d = await startDelivery({ WEBHOOK_RETRY_BASE_MS: 3_600_000 });
    await submitJob();
    await waitForDelivery(endpoint.id, (x) => x.attemptCount === 1, 'the failed first attempt');
    expect(await d.repair()).toBe(0);
    await d.queue.obliterate({ force: true });
    const repairing = await startWebhookDelivery({ ...t.config, WEBHOOK_RETRY_BASE_MS: 3_600_000 }, quietLog, { overdueMs: -3_600_000 - 60_000, repairIntervalMs: 3_600_000 });
    running.push(repairing);
    expect(await repairing.repair()).toBe(1);
    const done = await waitForDelivery(endpoint.id, (x) => x.status === 'succeeded', 'the repaired delivery');
    expect(done.attempts.map((a) => a.statusCode)).toEqual([500, 204]);
  });
});
