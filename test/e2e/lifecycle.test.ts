import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, jobBody, type TestApp, quietLog } from '../helpers/app.js';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process.js';
import { startTrainingWorker, type TrainingWorker } from '../../src/worker/worker.js';
import { waitFor } from '../helpers/wait-for.js';
import { waitForJob } from '../helpers/wait-for-job.js';
import { holdStream, parseEvents } from '../helpers/event-stream.js';
import { textBody } from '../helpers/response-body.js';

let t: TestApp | undefined;
let worker: TrainingWorker | undefined;
const processes: WorkerProcess[] = [];

afterEach(async () => {
  for (const p of processes.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await worker?.close();
  worker = undefined;
  await t?.close();
  t = undefined;
});

/** Many short epochs of a small CNN: long enough to act on a running job, short enough for a test. */
const longJob = (epochs = 30) => jobBody({ training: { epochs, batchSize: 16, learningRate: 0.005, seed: 5 }, dataset: { id: 'mnist', limit: 500 } });

const getJob = async (id: string) => (await t!.http.get(`/v1/jobs/${id}`)).body;
const metricsOf = async (id: string) => (await t!.http.get(`/v1/jobs/${id}/metrics`)).body.items as { epoch: number }[];
/** Once the job has finished its first epoch: then it is surely running, mid-training. */
const firstEpoch = (id: string) =>
  waitFor(
    () => metricsOf(id),
    (m) => m.length >= 1,
    { timeoutMs: 90_000, intervalMs: 100, what: `the first epoch of job ${id}` },
  );

describe('live progress over Server-Sent Events', () => {
  it('streams states, progress and per-epoch metrics, ends after the final state, and resumes after Last-Event-ID', async () => {
    t = await createTestApp();
    worker = await startTrainingWorker(t.config, quietLog);
    const { body: job } = await t.http.post('/v1/jobs').send(longJob(3));
    const stream = await t.http.get(`/v1/jobs/${job.id}/events`).buffer(true).parse(textBody);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = parseEvents(stream.body as string);
    const states = events.filter((e) => e.event === 'state').map((e) => e.data.status);
    expect(states).toEqual(['queued', 'running', 'succeeded']);
    expect(events.filter((e) => e.event === 'metrics').map((e) => e.data.epoch)).toEqual([1, 2, 3]);
    expect(events.at(-1)).toEqual({ id: undefined, event: 'end', data: { status: 'succeeded' } });
    expect(events.filter((e) => e.event === 'progress').length).toBeGreaterThan(0);
    for (const e of events.filter((x) => x.event !== 'progress' && x.event !== 'end')) expect(e.id).toMatch(/^\d+$/);

    const firstMetrics = events.find((e) => e.event === 'metrics')!;
    const resumed = await t.http.get(`/v1/jobs/${job.id}/events`).set('last-event-id', firstMetrics.id!).buffer(true).parse(textBody);
    const replay = parseEvents(resumed.body as string).filter((e) => e.event !== 'progress');
    expect(replay.map((e) => (e.event === 'metrics' ? `metrics ${e.data.epoch}` : `${e.event} ${e.data.status}`))).toEqual([
      'metrics 2',
      'metrics 3',
      'state succeeded',
      'end succeeded',
    ]);

    const history = (await getJob(job.id)).history.map((h: { status: string }) => h.status);
    expect(history).toEqual(['queued', 'running', 'succeeded']);
  });

  it('rejects a malformed Last-Event-ID and unknown jobs', async () => {
    t = await createTestApp();
    const { body: job } = await t.http.post('/v1/jobs').send(jobBody());
    const bad = await t.http.get(`/v1/jobs/${job.id}/events`).set('last-event-id', 'abc');
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toMatch(/Last-Event-ID must be the id of an event/);
    const missing = await t.http.get('/v1/jobs/00000000-0000-4000-8000-000000000009/events');
    expect(missing.status).toBe(404);
  });
});

describe('cancel', () => {
  it('cancels a queued job at once, harmlessly twice, and refuses to cancel a finished one', async () => {
    t = await createTestApp();
    const { body: job } = await t.http.post('/v1/jobs').send(jobBody());
    const first = await t.http.post(`/v1/jobs/${job.id}/cancel`);
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('cancelled');
    expect(await t.app.services.queue.getJob(`train-${job.id}`)).toBeUndefined();
    const again = await t.http.post(`/v1/jobs/${job.id}/cancel`);
    expect(again.status).toBe(200);
    expect(again.body.status).toBe('cancelled');

    await t.app.services.db.job.update({ where: { id: job.id }, data: { status: 'succeeded' } });
    const done = await t.http.post(`/v1/jobs/${job.id}/cancel`);
    expect(done.status).toBe(409);
    expect(done.body).toMatchObject({ code: 'job-finished', detail: expect.stringMatching(/has already succeeded; only queued or running jobs can be cancelled/) });
    expect((await t.http.post('/v1/jobs/00000000-0000-4000-8000-000000000009/cancel')).status).toBe(404);
  });

  it('stops a running job within a batch, keeping the metrics of finished epochs', async () => {
    t = await createTestApp();
    worker = await startTrainingWorker(t.config, quietLog);
    const { body: job } = await t.http.post('/v1/jobs').send(longJob(200));
    await firstEpoch(job.id);
    const res = await t.http.post(`/v1/jobs/${job.id}/cancel`);
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('cancelling');
    const after = await waitForJob(t.http, job.id, { timeoutMs: 30_000, intervalMs: 100 });
    expect(after.status).toBe('cancelled');
    expect(after.modelId).toBeNull();
    const kept = await metricsOf(job.id);
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(kept.length).toBeLessThan(200);
    expect(kept.map((m) => m.epoch)).toEqual(kept.map((_, i) => i + 1));
    expect(after.history.map((h: { status: string }) => h.status)).toEqual(['queued', 'running', 'cancelling', 'cancelled']);
  });
});

describe('submission', () => {
  it('honours Idempotency-Key: same key and body, same job; another body, 422', async () => {
    t = await createTestApp();
    const key = `key-${Date.now()}`;
    const a = await t.http.post('/v1/jobs').set('idempotency-key', key).send(jobBody());
    const b = await t.http.post('/v1/jobs').set('idempotency-key', key).send(jobBody());
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.body.id).toBe(a.body.id);
    expect(b.headers['idempotent-replayed']).toBe('true');
    expect(await t.app.services.db.job.count({ where: { tenantId: t.tenant } })).toBe(1);
    const c = await t.http
      .post('/v1/jobs')
      .set('idempotency-key', key)
      .send(jobBody({ name: 'other' }));
    expect(c.status).toBe(422);
    expect(c.body).toMatchObject({ code: 'idempotency-key-reused', jobId: a.body.id });
  });

  it('accepts a job while Redis is down and runs it once a worker reconciles', async () => {
    t = await createTestApp({ REDIS_URL: 'redis://127.0.0.1:1' });
    const res = await t.http.post('/v1/jobs').send(jobBody({ training: { epochs: 1 } }));
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('queued');
    await t.app.services.db.job.update({ where: { id: res.body.id }, data: { createdAt: new Date(Date.now() - 60_000) } });
    // A worker that reaches Redis finds the stored job at start-up.
    worker = await startTrainingWorker({ ...t.config, REDIS_URL: 'redis://127.0.0.1:6379' }, quietLog);
    const done = await waitForJob(t.http, res.body.id, { timeoutMs: 90_000, intervalMs: 100 });
    expect(done.status).toBe('succeeded');
  });
});

describe('limits and stopping', () => {
  it('fails a job that exceeds its wall-time limit', async () => {
    t = await createTestApp();
    worker = await startTrainingWorker(t.config, quietLog);
    const { body: job } = await t.http.post('/v1/jobs').send(jobBody({ ...longJob(500), training: { epochs: 500, batchSize: 16, maxWallTimeSeconds: 2 } }));
    const done = await waitForJob(t.http, job.id, { timeoutMs: 90_000, intervalMs: 100 });
    expect(done.status).toBe('failed');
    expect(done.error).toEqual({ code: 'timeout', message: 'training exceeded its wall-time limit of 2 s; raise training.maxWallTimeSeconds or train less' });
    expect(done.attempts).toBe(1);
  });

  it('stops early when the monitored metric stops improving, and succeeds with the reason', async () => {
    t = await createTestApp();
    worker = await startTrainingWorker(t.config, quietLog);
    const body = jobBody({ training: { epochs: 10, batchSize: 32, earlyStopping: { monitor: 'val_loss', patience: 1, minDelta: 1000 } } });
    const { body: job } = await t.http.post('/v1/jobs').send(body);
    const done = await waitForJob(t.http, job.id, { timeoutMs: 90_000, intervalMs: 100 });
    expect(done.status).toBe('succeeded');
    expect(done.stopReason).toMatch(/^early stopping after epoch 3: val_loss did not improve by more than 1000 for 1 epoch\(s\)/);
    expect((await metricsOf(job.id)).map((m) => m.epoch)).toEqual([1, 2, 3]);
    expect(done.modelId).toEqual(expect.any(String));
  });
});

describe('running-jobs quota', () => {
  it("keeps a tenant at its limit of running jobs without blocking another tenant's jobs", async () => {
    t = await createTestApp({ WORKER_CONCURRENCY: 2 });
    await t.app.services.db.tenant.update({ where: { id: t.tenant }, data: { quotas: { runningJobs: 1 } } });
    worker = await startTrainingWorker(t.config, quietLog);
    const long = (await t.http.post('/v1/jobs').send(longJob(400))).body;
    await waitForJob(t.http, long.id, { until: (j) => j.status === 'running', timeoutMs: 90_000, intervalMs: 100, what: 'running' });
    const waiting = (await t.http.post('/v1/jobs').send(jobBody({ training: { epochs: 1 } }))).body;
    const other = await t.otherTenant();
    const theirs = (await other.http.post('/v1/jobs').send(jobBody({ training: { epochs: 1 } }))).body;

    const done = await waitForJob(other.http, theirs.id, { timeoutMs: 90_000, intervalMs: 100 });
    expect(done.status).toBe('succeeded');
    expect((await getJob(long.id)).status).toBe('running');
    expect((await getJob(waiting.id)).status).toBe('queued');

    await t.http.post(`/v1/jobs/${long.id}/cancel`);
    const second = await waitForJob(t.http, waiting.id, { timeoutMs: 90_000, intervalMs: 100 });
    expect(second.status).toBe('succeeded');
  });
});

describe('workers that die or stop', () => {
  it('resumes a job from its checkpoint after kill -9 of its worker: every epoch once, two attempts', async () => {
    t = await createTestApp({ JOB_LOCK_MS: 2000 });
    const first = await spawnWorker(t.config);
    processes.push(first);
    const { body: job } = await t.http.post('/v1/jobs').send(longJob(40));
    await firstEpoch(job.id);
    first.child.kill('SIGKILL');
    await first.exited;
    const epochsBefore = (await metricsOf(job.id)).length;
    expect(epochsBefore).toBeLessThan(40);

    const second = await spawnWorker(t.config);
    processes.push(second);
    const done = await waitForJob(t.http, job.id, { intervalMs: 100 });
    expect(done.status, second.output()).toBe('succeeded');
    expect(done.attempts).toBe(2);
    expect((await metricsOf(job.id)).map((m) => m.epoch)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });

  it('on SIGTERM a worker stops after its batch, hands the job back, and another worker finishes it', async () => {
    t = await createTestApp({ JOB_LOCK_MS: 2000 });
    const first = await spawnWorker(t.config);
    processes.push(first);
    const { body: job } = await t.http.post('/v1/jobs').send(longJob(40));
    await firstEpoch(job.id);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const handedBack = await getJob(job.id);
    expect(handedBack.status, first.output()).toBe('queued');

    const second = await spawnWorker(t.config);
    processes.push(second);
    const done = await waitForJob(t.http, job.id, { intervalMs: 100 });
    expect(done.status, second.output()).toBe('succeeded');
    expect((await metricsOf(job.id)).map((m) => m.epoch)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(done.history.map((h: { status: string }) => h.status)).toEqual(['queued', 'running', 'queued', 'running', 'succeeded']);
  });
});

describe('API shutdown', () => {
  it('ends open event streams with a reconnect event when the app closes', async () => {
    t = await createTestApp();
    const { body: job } = await t.http.post('/v1/jobs').send(jobBody());
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.server.address() as { port: number };
    const { open, ended } = holdStream(t, port, `/v1/jobs/${job.id}/events`, (text) => text.includes('"status":"queued"'));
    // The stream is open and has replayed the 'queued' state before the app is told to close.
    await open;
    const closing = t.close();
    const text = await ended;
    await closing;
    expect(text).toMatch(/event: state\ndata: \{"status":"queued"/);
    // The last event tells the client this was the server going away, not the job's end, and where to resume.
    const last = text.trim().split('\n\n').at(-1)!;
    const queuedId = /id: (\d+)\nevent: state\ndata: \{"status":"queued"/.exec(text)![1];
    expect(last.split('\n')[0]).toBe('event: reconnect');
    expect(JSON.parse(last.split('\n')[1].slice('data: '.length))).toEqual({
      reason: 'server-closing',
      detail: 'this API process is shutting down; reconnect with Last-Event-ID to resume',
      lastEventId: queuedId,
      retryMs: 2000,
    });
    t = undefined;
  });
});
