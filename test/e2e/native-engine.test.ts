import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxStats, TrainResult } from '../../src/worker/sandbox-process.js';
import { startTrainingWorker, type TrainingWorker } from '../../src/worker/worker.js';
import { NATIVE_SKIP_REASON, NATIVE_TESTS_RUN } from '../engine/engine-test-helpers.js';
import { createTestApp, jobBody, quietLog, type TestApp } from '../helpers/app.js';
import { waitFor } from '../helpers/wait-for.js';
import { waitForJob } from '../helpers/wait-for-job.js';

/**
 * The native engine behind a real worker: each job records the engine that
 * ran, a sandbox process trains job after job with flat memory, and a
 * failure inside the add-on fails that job (not the worker, not the
 * process). Kernel-level checks are in test/engine.
 */
const suite = describe.skipIf(!NATIVE_TESTS_RUN);
const MiB = 2 ** 20;

/** A job of a few hundred milliseconds: the small net on 200 digits, one epoch. */
const tinyJob = (seed: number) => jobBody({ training: { epochs: 1, batchSize: 32, learningRate: 0.01, seed }, dataset: { id: 'mnist', limit: 200 } });

async function submit(t: TestApp, body: object): Promise<string> {
  const res = await t.http.post('/v1/jobs').send(body);
  expect(res.status).toBe(202);
  return res.body.id;
}

async function startWorker(t: TestApp, results: Map<string, TrainResult>): Promise<TrainingWorker> {
  const worker = await startTrainingWorker(t.config, quietLog);
  worker.worker.on('completed', (job, result: TrainResult) => results.set(job.data.jobId, result));
  return worker;
}

async function resultOf(results: Map<string, TrainResult>, id: string): Promise<TrainResult> {
  const result = await waitFor(
    async () => results.get(id),
    (r) => r !== undefined,
    { timeoutMs: 10_000, intervalMs: 20, what: `the worker's completion of job ${id}` },
  );
  return result!;
}

suite(`a worker on the native engine${NATIVE_SKIP_REASON}`, () => {
  const JOBS = 20;
  let t: TestApp;
  let worker: TrainingWorker;
  const results = new Map<string, TrainResult>();

  beforeAll(async () => {
    t = await createTestApp({ ENGINE: 'native', QUOTA_QUEUED_JOBS: 100 });
    worker = await startWorker(t, results);
  });
  afterAll(async () => {
    await worker?.close();
    await t?.close();
  });

  it(`records the engine on the job and trains ${JOBS} jobs in one sandbox with its memory flat`, async () => {
    const stats: SandboxStats[] = [];
    for (let i = 0; i < JOBS; i++) {
      const id = await submit(t, tinyJob(i + 1));
      const job = await waitForJob(t.http, id, { timeoutMs: 60_000, intervalMs: 100 });
      expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
      if (i === 0) {
        expect(job.engine).toMatchObject({ name: 'native', library: 'oneDNN', libraryVersion: expect.stringMatching(/^\d+\.\d+\.\d+$/), threadCount: 1 });
        expect(job.engine.kernels).toContain('Conv2DBackpropFilter');
      }
      stats.push((await resultOf(results, id)).sandbox);
    }
    console.log(`native, job after job in one sandbox: rss MiB ${stats.map((s) => (s.rssBytes / MiB).toFixed(0)).join(' ')}`);
    expect(new Set(stats.map((s) => s.pid)).size).toBe(1);
    const baseline = stats[0].numTensorsBefore;
    for (const s of stats) expect([s.numTensorsBefore, s.numTensors]).toEqual([baseline, baseline]);
    expect(stats.at(-1)!.wasmHeapBytes).toBe(stats[4].wasmHeapBytes);
    const drift = Math.max(...stats.slice(5).map((s) => s.rssBytes)) - stats[4].rssBytes;
    expect(drift).toBeLessThan(16 * MiB);
  });
});

suite(`a failure inside the native add-on${NATIVE_SKIP_REASON}`, () => {
  let t: TestApp;
  let worker: TrainingWorker;
  const results = new Map<string, TrainResult>();

  beforeAll(async () => {
    t = await createTestApp({ ENGINE: 'native' });
    // The worker hands its environment to the sandboxes it forks: they preload the fault.
    const saved = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = `${saved ?? ''} --import ${path.join(__dirname, 'native-fault.preload.mjs')}`.trim();
    try {
      worker = await startWorker(t, results);
    } finally {
      if (saved === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = saved;
    }
  });
  afterAll(async () => {
    await worker?.close();
    await t?.close();
  });

  it('fails the job that hit it, without retries, and the worker trains the next job', async () => {
    const failed = await waitForJob(t.http, await submit(t, tinyJob(1)), { timeoutMs: 60_000, intervalMs: 100 });
    expect(failed.status).toBe('failed');
    expect(failed.attempts).toBe(1);
    expect(failed.error).toEqual({
      code: 'engine-failed',
      message: 'native engine: Conv2DBackpropFilter failed: conv2dBackpropFilter: fault injected by a test',
    });

    // The fault fired once; the same worker (and sandbox process) goes on training.
    const next = await waitForJob(t.http, await submit(t, tinyJob(2)), { timeoutMs: 60_000, intervalMs: 100 });
    expect(next.status, JSON.stringify(next.error)).toBe('succeeded');
    expect(next.engine.name).toBe('native');
    expect(worker.worker.isRunning()).toBe(true);
  });
});
