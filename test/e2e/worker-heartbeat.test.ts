import { afterEach, describe, expect, it } from 'vitest';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createRedis } from '../../src/queue/connection.js';
import { listWorkers, startHeartbeat, workerStatusKey, type Heartbeat, type WorkerStatus } from '../../src/queue/worker-heartbeats.js';
import { startTrainingWorker, type TrainingWorker } from '../../src/worker/worker.js';
import type { EngineInfo } from '../../src/engine/select-engine.js';
import { createTestApp, jobBody, type TestApp, quietLog } from '../helpers/app.js';
import { waitFor } from '../helpers/wait-for.js';

const ENGINE: EngineInfo = { name: 'wasm', version: '4.22.0', simd: true, threads: false };

let redis: Redis | undefined;
let t: TestApp | undefined;
let worker: TrainingWorker | undefined;
const beats: Heartbeat[] = [];

afterEach(async () => {
  for (const b of beats.splice(0)) await b.stop();
  await worker?.close();
  worker = undefined;
  await t?.close();
  t = undefined;
  await redis?.quit();
  redis = undefined;
});

const queueName = () => `test-${randomBytes(6).toString('hex')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('worker heartbeats in Redis', () => {
  it('writes the status under trainyard:<queue>:workers:<host>:<pid> with a TTL, and lists it', async () => {
    redis = createRedis('redis://127.0.0.1:6379', 'worker');
    const queue = queueName();
    let active = ['job-1'];
    const beat = await startHeartbeat(redis, { queueName: queue, engine: ENGINE, concurrency: 2, activeJobIds: () => active, host: 'host-a', pid: 101, intervalMs: 1000 });
    beats.push(beat);
    expect(beat.key).toBe(`trainyard:${queue}:workers:host-a:101`);
    expect(workerStatusKey(queue, 'host-a', 101)).toBe(beat.key);
    const ttl = await redis.pttl(beat.key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3000);

    const [status] = await listWorkers(redis, queue);
    expect(status).toEqual<WorkerStatus>({
      host: 'host-a',
      pid: 101,
      queue,
      engine: ENGINE,
      concurrency: 2,
      activeJobIds: ['job-1'],
      startedAt: expect.any(String),
      lastSeenAt: expect.any(String),
    });
    expect(Date.parse(status.lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(status.startedAt));

    active = [];
    await beat.beat();
    expect((await listWorkers(redis, queue))[0].activeJobIds).toEqual([]);
  });

  it('lists only the given queue, sorted by host and pid, skipping values that are not statuses', async () => {
    redis = createRedis('redis://127.0.0.1:6379', 'worker');
    const queue = queueName();
    const other = queueName();
    for (const [q, host, pid] of [
      [queue, 'b', 7],
      [queue, 'a', 20],
      [queue, 'a', 3],
      [other, 'a', 1],
    ] as const) {
      beats.push(await startHeartbeat(redis, { queueName: q, engine: ENGINE, concurrency: 1, activeJobIds: () => [], host, pid }));
    }
    await redis.set(`trainyard:${queue}:workers:broken:1`, 'not json', 'PX', 5000);
    await redis.set(`trainyard:${queue}:workers:other-version:1`, JSON.stringify({ host: 'other-version', pid: 1 }), 'PX', 5000);
    expect((await listWorkers(redis, queue)).map((w) => `${w.host}:${w.pid}`)).toEqual(['a:3', 'a:20', 'b:7']);
    expect((await listWorkers(redis, other)).map((w) => `${w.host}:${w.pid}`)).toEqual(['a:1']);
    expect(await listWorkers(redis, queueName())).toEqual([]);
    await redis.del(`trainyard:${queue}:workers:broken:1`, `trainyard:${queue}:workers:other-version:1`);
  });

  it('keeps a live worker listed past its TTL, drops one that stopped beating, and deletes the status on stop', async () => {
    redis = createRedis('redis://127.0.0.1:6379', 'worker');
    const queue = queueName();
    const live = await startHeartbeat(redis, { queueName: queue, engine: ENGINE, concurrency: 1, activeJobIds: () => [], host: 'live', pid: 1, intervalMs: 100, ttlMs: 500 });
    beats.push(live);
    const started = Date.now();
    // A worker that died: its status was written once and is never refreshed.
    const dead: WorkerStatus = {
      host: 'dead',
      pid: 2,
      queue,
      engine: ENGINE,
      concurrency: 1,
      activeJobIds: [],
      startedAt: new Date().toISOString(),
      lastSeenAt: new Date().toISOString(),
    };
    await redis.set(workerStatusKey(queue, 'dead', 2), JSON.stringify(dead), 'PX', 300);
    expect((await listWorkers(redis, queue)).map((w) => w.host)).toEqual(['dead', 'live']);
    await waitFor(
      () => listWorkers(redis!, queue),
      (ws) => !ws.some((w) => w.host === 'dead'),
      { timeoutMs: 5000, intervalMs: 50, what: 'the dead worker dropped' },
    );
    // Twice the live worker's TTL: only its refreshes keep it listed.
    await sleep(Math.max(0, started + 1000 - Date.now()));
    expect((await listWorkers(redis, queue)).map((w) => w.host)).toEqual(['live']);

    await live.stop();
    expect(await redis.exists(live.key)).toBe(0);
    expect(await listWorkers(redis, queue)).toEqual([]);
  });

  it('a training worker reports its engine, concurrency and the job it trains, and removes itself when closed', async () => {
    t = await createTestApp({ WORKER_CONCURRENCY: 2 });
    redis = createRedis(t.config.REDIS_URL, 'worker');
    worker = await startTrainingWorker(t.config, quietLog, { heartbeatIntervalMs: 200 });

    const [idle] = await listWorkers(redis, t.config.QUEUE_NAME);
    expect(idle).toMatchObject({ host: hostname(), pid: process.pid, queue: t.config.QUEUE_NAME, concurrency: 2, activeJobIds: [] });
    expect(idle.engine).toEqual(JSON.parse(JSON.stringify(worker.engine)));
    expect(idle.engine).toMatchObject({ name: worker.engine.name, version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    if (idle.engine.name === 'wasm') expect(typeof idle.engine.simd).toBe('boolean');

    // Long enough to be seen running: many short epochs of the small net.
    const { body: job } = await t.http.post('/v1/jobs').send(jobBody({ training: { epochs: 20, batchSize: 16, seed: 2 }, dataset: { id: 'mnist', limit: 400 } }));
    // The worker's reconciler may also queue other tests' stale jobs (they share the database): look for ours.
    const busy = await waitFor(
      () => listWorkers(redis!, t!.config.QUEUE_NAME),
      (ws) => ws[0]?.activeJobIds.includes(job.id),
      { timeoutMs: 60_000, intervalMs: 50, what: `job ${job.id} listed as active` },
    );
    expect(busy).toHaveLength(1);
    expect(Date.parse(busy[0].lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(idle.lastSeenAt));

    await t.http.post(`/v1/jobs/${job.id}/cancel`).send({});
    const idleAgain = await waitFor(
      () => listWorkers(redis!, t!.config.QUEUE_NAME),
      (ws) => ws.length === 1 && !ws[0].activeJobIds.includes(job.id),
      { timeoutMs: 30_000, intervalMs: 50, what: `job ${job.id} no longer active` },
    );
    expect(idleAgain[0].startedAt).toBe(idle.startedAt);

    await worker.close();
    worker = undefined;
    expect(await listWorkers(redis, t.config.QUEUE_NAME)).toEqual([]);
  });
});

describe('GET /v1/workers', () => {
  it("lists live workers with their engine, and only the caller's job ids", async () => {
    t = await createTestApp();
    worker = await startTrainingWorker(t.config, quietLog, { heartbeatIntervalMs: 200 });
    const res = await waitFor(
      () => t!.http.get('/v1/workers'),
      (r) => r.status === 200 && r.body.items.length === 1,
      { timeoutMs: 10_000, intervalMs: 50, what: 'the worker listed' },
    );
    expect(res.body.items[0]).toMatchObject({
      host: hostname(),
      pid: process.pid,
      queue: t.config.QUEUE_NAME,
      engine: { name: worker.engine.name },
      activeJobs: 0,
      activeJobIds: [],
    });
    expect((await (await import('supertest')).default(t.app.server).get('/v1/workers')).status).toBe(401);
  });
});
