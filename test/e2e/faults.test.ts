/**
 * Dependencies blinking under a running service: PostgreSQL unreachable for
 * ~20 s mid-epoch, and Redis restarted empty mid-epoch. Each test runs its
 * own Redis (killed at the end) and reaches PostgreSQL through a TCP proxy
 * that can drop every connection and refuse new ones. Intervals are set low
 * so that the worker's lock renewal, heartbeats and reconciler act within
 * seconds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { inject } from 'vitest';
import { UnrecoverableError, Worker } from 'bullmq';
import { createDb, type Db } from '../../src/storage/prisma.js';
import { createRedis } from '../../src/queue/connection.js';
import { trainQueueJobId } from '../../src/queue/jobs.js';
import { startTrainingWorker, type TrainingWorker } from '../../src/worker/worker.js';
import { reconcileOwnerlessJobs } from '../../src/worker/reconciler.js';
import { startHeartbeat } from '../../src/queue/worker-heartbeats.js';
import { createTestApp, jobBody, type TestApp } from '../helpers/app.js';
import { waitFor } from '../helpers/wait-for.js';
import { PrivateRedis } from '../helpers/private-redis.js';
import { isTerminalStatus } from '../../src/storage/jobs.repository.js';

const FAST = { JOB_LOCK_MS: 2000, RECONCILE_INTERVAL_MS: 1000 } as const;
const HEARTBEAT_MS = 500;

/** A worker log kept in memory, shown when an assertion fails. */
function memoryLog() {
  const lines: string[] = [];
  const add = (level: string) => (obj: object | string, msg?: string) => lines.push(`${level} ${msg ?? ''} ${typeof obj === 'string' ? obj : JSON.stringify(obj)}`.slice(0, 600));
  return { log: { info: add('info'), warn: add('warn'), error: add('error') }, text: () => lines.join('\n') };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A TCP proxy in front of PostgreSQL that can drop every connection and refuse new ones until restored. */
class PostgresProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(databaseUrl: string): Promise<PostgresProxy> {
    const url = new URL(databaseUrl);
    const proxy = new PostgresProxy(await freePort(), { host: url.hostname, port: Number(url.port || 5432) });
    await proxy.restore();
    return proxy;
  }

  /** `databaseUrl` with its host and port replaced by the proxy's. */
  urlFor(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  async restore(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.server = server;
  }

  /** Drops every open connection and stops listening: new connections are refused. */
  async drop(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

let t: TestApp | undefined;
let worker: TrainingWorker | undefined;
let redis: PrivateRedis | undefined;
let proxy: PostgresProxy | undefined;
let direct: Db | undefined;

afterEach(async () => {
  await proxy?.restore();
  await worker?.close();
  worker = undefined;
  await t?.close();
  t = undefined;
  await redis?.kill();
  redis = undefined;
  await proxy?.drop();
  proxy = undefined;
  await direct?.$disconnect();
  direct = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Epochs of a small CNN on a few hundred digits, about a second each: a fault right after the first lands mid-epoch. */
const smallJob = (epochs: number, seed: number, limit = 1000) => jobBody({ training: { epochs, batchSize: 8, learningRate: 0.005, seed }, dataset: { id: 'mnist', limit } });
const inSecondEpoch = (s: { epochs: number[]; job: { status: string } }) => s.epochs.length >= 1 && s.job.status === 'running';

/** The job as stored, read past the API (and past the proxy): status, attempts, metrics, history. */
async function stored(db: Db, id: string) {
  const job = await db.job.findUniqueOrThrow({ where: { id } });
  const metrics = await db.epochMetric.findMany({ where: { jobId: id }, orderBy: { epoch: 'asc' } });
  const history = await db.jobEvent.findMany({ where: { jobId: id, type: 'state' }, orderBy: { id: 'asc' } });
  const metricEvents = await db.jobEvent.count({ where: { jobId: id, type: 'metrics' } });
  return { job, epochs: metrics.map((m) => m.epoch), metricEvents, history: history.map((e) => e.data as { status: string; reason?: string }) };
}

describe('PostgreSQL unreachable for ~20 s mid-epoch', () => {
  it('the worker waits for it and resumes from the checkpoint: the job succeeds with each epoch once, no attempt burnt in seconds', async () => {
    const databaseUrl = inject('databaseUrl');
    proxy = await PostgresProxy.start(databaseUrl);
    redis = await PrivateRedis.start();
    direct = createDb(databaseUrl, { poolSize: 2 });
    // The API stores the job directly; the worker and its sandboxes reach PostgreSQL only through the proxy.
    t = await createTestApp({ ...FAST, REDIS_URL: redis.url });
    const logs = memoryLog();
    worker = await startTrainingWorker({ ...t.config, DATABASE_URL: proxy.urlFor(databaseUrl) }, logs.log, { heartbeatIntervalMs: HEARTBEAT_MS });

    const epochs = 6;
    const { body: job } = await t.http.post('/v1/jobs').send(smallJob(epochs, 11)).expect(202);
    await waitFor(() => stored(direct!, job.id), inSecondEpoch, { timeoutMs: 90_000, what: 'the job inside its second epoch' });

    await proxy.drop();
    const cut = await stored(direct, job.id);
    expect(cut.epochs.length).toBeLessThan(epochs);
    await sleep(20_000); // the outage itself
    const during = await stored(direct, job.id);
    await proxy.restore();

    const done = await waitFor(
      () => stored(direct!, job.id),
      (s) => isTerminalStatus(s.job.status),
      { timeoutMs: 120_000, what: 'a final state' },
    );
    expect(done.job.status, logs.text()).toBe('succeeded');
    // Nothing was written while PostgreSQL was away, and the row never said failed.
    expect(during.job.status).toBe('running');
    expect(during.epochs).toEqual(cut.epochs);
    expect(done.epochs).toEqual(Array.from({ length: epochs }, (_, i) => i + 1));
    expect(done.metricEvents).toBe(epochs);
    // One attempt cut by the outage, one that finished: and the history says why.
    expect(done.job.attempts).toBe(2);
    expect(done.history.map((h) => h.status)).toEqual(['queued', 'running', 'queued', 'running', 'succeeded']);
    expect(done.history[2].reason).toMatch(/^PostgreSQL was unreachable \(.+\); the job resumes from its last checkpoint$/);
  });
});

describe('Redis restarted empty mid-epoch', () => {
  it('stops the training that lost its lock, and the running job and the jobs submitted during the outage all succeed', async () => {
    redis = await PrivateRedis.start();
    t = await createTestApp({ ...FAST, REDIS_URL: redis.url });
    const logs = memoryLog();
    worker = await startTrainingWorker(t.config, logs.log, { heartbeatIntervalMs: HEARTBEAT_MS });
    const db = t.app.services.db;

    // Long enough that a sandbox left training would still be busy when the reconciler queues the jobs below.
    const epochs = 30;
    const { body: running } = await t.http.post('/v1/jobs').send(smallJob(epochs, 21)).expect(202);
    await waitFor(() => stored(db, running.id), inSecondEpoch, { timeoutMs: 90_000, what: 'the job inside its second epoch' });

    await redis.kill();
    const cut = await stored(db, running.id);
    expect(cut.epochs.length).toBeLessThan(epochs);
    // Submitted while Redis is away: stored and queued later by the reconciler (202), or refused (503) and sent again.
    const during: string[] = [];
    const refused: number[] = [];
    for (const seed of [31, 32]) {
      const res = await t.http.post('/v1/jobs').send(smallJob(2, seed, 300));
      expect([202, 503]).toContain(res.status);
      if (res.status === 202) during.push(res.body.id);
      else refused.push(seed);
    }
    await redis.up();
    for (const seed of refused) {
      const res = await waitFor(
        () => t!.http.post('/v1/jobs').send(smallJob(2, seed, 300)),
        (r) => r.status === 202,
        { timeoutMs: 30_000, what: 'the API taking jobs again' },
      );
      during.push(res.body.id);
    }

    for (const id of [running.id, ...during]) {
      const done = await waitFor(
        () => stored(db, id),
        (s) => isTerminalStatus(s.job.status),
        { timeoutMs: 150_000, what: `a final state of ${id}` },
      );
      expect(done.job.status, `${id}\n${logs.text()}`).toBe('succeeded');
    }
    const resumed = await stored(db, running.id);
    expect(resumed.epochs).toEqual(Array.from({ length: epochs }, (_, i) => i + 1));
    // Each epoch recorded once: the attempt that lost its lock stopped instead of training on beside its successor.
    expect(resumed.metricEvents).toBe(epochs);
    expect(resumed.job.attempts, logs.text()).toBe(2);
    expect(resumed.history.map((h) => h.status)).toEqual(['queued', 'running', 'queued', 'running', 'succeeded']);
    expect(resumed.history[2].reason).toMatch(/^its worker was lost \(queue entry missing\); the job resumes after epoch \d+$/);
    for (const id of during) expect((await stored(db, id)).job.attempts).toBe(1);
    expect(logs.text()).not.toMatch(/not idling/);
  });
});

describe('rows that say running or cancelling without an owner', () => {
  it("are re-queued, failed with the queue entry's error, or cancelled once the grace has passed; owned or queued ones are left alone", async () => {
    t = await createTestApp();
    const { db, queue } = t.app.services;
    const submit = async () => (await t!.http.post('/v1/jobs').send(jobBody()).expect(202)).body.id as string;

    // Its worker gave up on it (the old bug): the queue entry failed, the row still says running.
    const failedEntry = await submit();
    const taker = new Worker(t.config.QUEUE_NAME, null, { connection: createRedis(t.config.REDIS_URL, 'worker') });
    const taken = await taker.getNextJob('test-token');
    expect(taken?.id).toBe(trainQueueJobId(failedEntry));
    await taken!.moveToFailed(new UnrecoverableError('the sandbox ran out of memory'), 'test-token');
    await taker.close();

    const [lost, cancelling, owned, waiting] = [await submit(), await submit(), await submit(), await submit()];
    for (const id of [failedEntry, lost, owned, waiting]) await db.job.update({ where: { id }, data: { status: 'running', attempts: 1, checkpointEpoch: 2 } });
    await db.job.update({ where: { id: cancelling }, data: { status: 'cancelling', attempts: 1 } });
    // Redis lost these entries; a live worker still lists `owned`.
    for (const id of [lost, cancelling, owned]) await (await queue.getJob(trainQueueJobId(id)))!.remove();
    const heartbeatRedis = createRedis(t.config.REDIS_URL, 'worker');
    const beat = await startHeartbeat(heartbeatRedis, {
      queueName: t.config.QUEUE_NAME,
      engine: { name: 'wasm', version: '4.22.0' } as never,
      concurrency: 1,
      activeJobIds: () => [owned],
      host: 'elsewhere',
      pid: 1,
    });

    try {
      const seen = new Map<string, number>();
      // Seen ownerless for the first time: nothing is settled before the grace has passed.
      expect(await reconcileOwnerlessJobs(db, queue, heartbeatRedis, { graceMs: 60_000, seen })).toEqual({ requeued: [], failed: [], cancelled: [] });
      expect([...seen.keys()].sort()).toEqual([failedEntry, lost, cancelling].sort());
      const settled = await reconcileOwnerlessJobs(db, queue, heartbeatRedis, { graceMs: 0, seen });
      expect(settled).toEqual({ requeued: [lost], failed: [failedEntry], cancelled: [cancelling] });

      const row = (id: string) => stored(db, id);
      const requeued = await row(lost);
      expect(requeued.job.status).toBe('queued');
      expect(requeued.history.at(-1)).toEqual({ status: 'queued', reason: 'its worker was lost (queue entry missing); the job resumes after epoch 2' });
      expect(await (await queue.getJob(trainQueueJobId(lost)))!.getState()).toBe('waiting');
      const failed = await row(failedEntry);
      expect(failed.job).toMatchObject({
        status: 'failed',
        errorCode: 'worker-failed',
        errorMessage: 'training failed after 1 attempt; last error: the sandbox ran out of memory',
      });
      expect(await row(cancelling)).toMatchObject({
        job: { status: 'cancelled' },
        history: expect.arrayContaining([{ status: 'cancelled', reason: 'cancelled while its worker was lost' }]),
      });
      expect((await row(owned)).job.status).toBe('running');
      expect((await row(waiting)).job.status).toBe('running');
      expect(seen.size).toBe(0);
    } finally {
      await beat.stop();
      await heartbeatRedis.quit();
    }
  });
});
