import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ChildCommand, ParentCommand, Queue, QueueEvents, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/queue/connection.js';
import { sandboxPoolOf } from '../../src/worker/bullmq-internals.js';
import { TrainWorker } from '../../src/worker/worker.js';
import { testConfig } from '../helpers/config.js';
import { waitFor } from '../helpers/wait-for.js';

/**
 * The worker leans on BullMQ beyond its public API (src/worker/bullmq-internals.ts):
 * its private sandbox pool, the Child handles and their messages, the
 * protected lock manager and callProcessJob. This file fails, naming what
 * moved, when a BullMQ upgrade changes any of them.
 */
const PROCESSOR = new URL('../fixtures/wait-for-file.processor.mjs', import.meta.url);
const config = testConfig();
const connection = createRedis(config.REDIS_URL, 'worker');
const producer = createRedis(config.REDIS_URL, 'producer');
let worker: TrainWorker;

beforeAll(async () => {
  worker = new TrainWorker(config.QUEUE_NAME, PROCESSOR, { connection, autorun: false, useWorkerThreads: false, concurrency: 1 });
  await worker.waitUntilReady();
});

afterAll(async () => {
  await worker.close();
  await Promise.all([connection.quit(), producer.quit()]);
});

describe('the BullMQ internals the worker uses', () => {
  it('package.json pins bullmq to exactly the installed version these checks ran against', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    const installed = (createRequire(import.meta.url)('bullmq/package.json') as { version: string }).version;
    expect(pkg.dependencies.bullmq, 'pin bullmq exactly: an upgrade must re-run this file and revisit src/worker/bullmq-internals.ts').toBe(installed);
  });

  it('a sandboxed Worker has a private child pool with retain, release and kill, and its children have pid, send and on', async () => {
    const pool = sandboxPoolOf(worker);
    expect(pool, 'Worker.childPool (ChildPool: retain/release/kill) is gone or changed').not.toBeNull();
    const child = (await pool!.retain(PROCESSOR.href)) as Record<string, unknown>;
    expect(typeof child.pid).toBe('number');
    expect(typeof child.send).toBe('function');
    expect(typeof child.on).toBe('function');
    pool!.release(child);
  });

  it('Worker still has the protected members TrainWorker overrides or reads', () => {
    // TrainWorker overrides callProcessJob (to keep progress errors from ending a job) and reads lockManager.
    expect(typeof (Worker.prototype as unknown as Record<string, unknown>).callProcessJob, 'Worker.callProcessJob').toBe('function');
    const lockManager = (worker as unknown as { lockManager?: { getTrackedJobIds?: unknown } }).lockManager;
    expect(typeof lockManager?.getTrackedJobIds, 'Worker.lockManager.getTrackedJobIds').toBe('function');
  });

  it('the sandbox protocol still has the commands the guard watches', () => {
    expect(typeof ChildCommand.Start).toBe('number');
    for (const cmd of ['Completed', 'Failed', 'Error'] as const) expect(typeof ParentCommand[cmd], `ParentCommand.${cmd}`).toBe('number');
  });

  it('prewarming, the sandbox guard and the lock manager work on a real job', async () => {
    expect(await worker.prewarmSandboxes(PROCESSOR, 1)).toBe(1);
    const kills: Array<number | undefined> = [];
    expect(worker.guardSandboxes((pid) => kills.push(pid))).toBe(true);
    const progressErrors: Error[] = [];
    worker.onProgressError = (err) => progressErrors.push(err);

    const queue = new Queue(config.QUEUE_NAME, { connection: producer });
    const events = new QueueEvents(config.QUEUE_NAME, { connection: createRedis(config.REDIS_URL, 'worker') });
    await events.waitUntilReady();
    const releaseFile = path.join(mkdtempSync(path.join(tmpdir(), 'trainyard-bullmq-')), 'release');
    try {
      void worker.run();
      const job = await queue.add('train', { value: 21, releaseFile } as never);
      // While the sandbox waits for the file, the lock manager tracks the job.
      await waitFor(
        async () => worker.processingQueueJobIds(),
        (ids) => ids.includes(job.id!),
        { timeoutMs: 30_000, what: 'the job tracked by the lock manager' },
      );
      writeFileSync(releaseFile, '');
      expect(await job.waitUntilFinished(events)).toBe(42);
      await waitFor(
        async () => worker.processingQueueJobIds(),
        (ids) => ids.length === 0,
        { timeoutMs: 30_000, what: 'the lock manager to let go of the job' },
      );
      // The guard saw Start and Completed: the finished sandbox went back to the pool alive, nothing was killed.
      expect(kills).toEqual([]);
      expect(progressErrors).toEqual([]);
    } finally {
      await events.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
