import { beforeAll, describe, expect, it } from 'vitest';
import { jobBody } from '../helpers/app.js';
import { useAppWithWorker } from '../helpers/use-app.js';
import type { SandboxStats, TrainResult } from '../../src/worker/sandbox-process.js';
import { waitFor } from '../helpers/wait-for.js';
import { waitForJob } from '../helpers/wait-for-job.js';

/**
 * One worker, one sandbox process reused for job after job: what a job
 * leaves behind accumulates there. Each finished job reports the sandbox's
 * state (TrainResult.sandbox) as its BullMQ return value.
 *
 * The engine is pinned to wasm: its heap limit is what the out-of-memory
 * case hits, and what the sandbox must be replaced after.
 */
const JOBS = 20;
const MiB = 2 ** 20;

const { t, worker } = useAppWithWorker({ ENGINE: 'wasm', QUOTA_QUEUED_JOBS: 100 });
const results = new Map<string, TrainResult>();

beforeAll(() => {
  worker.worker.on('completed', (job, result: TrainResult) => results.set(job.data.jobId, result));
});

/** A job of this file, once final: each trains in seconds, the out-of-memory one fails at its first batch. */
const finished = (id: string) => waitForJob(t.http, id, { timeoutMs: 60_000, intervalMs: 100 });

/** The job's BullMQ return value: the row turns succeeded just before the worker hears of completion. */
async function resultOf(id: string): Promise<TrainResult> {
  const result = await waitFor(
    async () => results.get(id),
    (r) => r !== undefined,
    { timeoutMs: 10_000, intervalMs: 20, what: `the worker's completion of job ${id}` },
  );
  return result!;
}

async function submit(body: object): Promise<string> {
  const res = await t.http.post('/v1/jobs').send(body);
  expect(res.status).toBe(202);
  return res.body.id;
}

/** A job of a few hundred milliseconds: the tiny net on 200 digits, one epoch. */
const tinyJob = (seed: number) => jobBody({ training: { epochs: 1, batchSize: 32, learningRate: 0.01, seed }, dataset: { id: 'mnist', limit: 200 } });

function mib(bytes: number | null): string {
  return bytes === null ? '-' : (bytes / MiB).toFixed(1);
}

describe('a worker training job after job', () => {
  const stats: SandboxStats[] = [];

  it(`trains ${JOBS} small jobs in a row in one sandbox, leaving no tensors behind and its memory flat`, async () => {
    for (let i = 0; i < JOBS; i++) {
      const id = await submit(tinyJob(i + 1));
      const job = await finished(id);
      expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
      stats.push((await resultOf(id)).sandbox);
    }
    console.log(
      'job  pid     tensors before/after  tensor KiB  rss MiB  heapUsed MiB  wasm heap MiB\n' +
        stats
          .map(
            (s, i) =>
              `${String(i + 1).padStart(3)}  ${s.pid}  ${String(s.numTensorsBefore).padStart(8)}/${String(s.numTensors).padEnd(11)}` +
              `${(s.tensorBytes / 1024).toFixed(1).padStart(10)}  ${mib(s.rssBytes).padStart(7)}  ${mib(s.heapUsedBytes).padStart(12)}  ${mib(s.wasmHeapBytes).padStart(13)}`,
          )
          .join('\n'),
    );

    // One sandbox process ran them all, so the figures below describe one process over time. (Its job
    // count may skip: the worker's reconciler can also queue other tests' stale jobs, as they share the database.)
    expect(new Set(stats.map((s) => s.pid)).size).toBe(1);
    for (let i = 1; i < stats.length; i++) expect(stats[i].jobs).toBeGreaterThan(stats[i - 1].jobs);
    // Every job gave back every tensor it made: the count after each job is the count before the first.
    const baseline = stats[0].numTensorsBefore;
    for (const s of stats) {
      expect(s.numTensorsBefore).toBe(baseline);
      expect(s.numTensors).toBe(baseline);
    }
    // The wasm heap reaches its working size in the first jobs and does not grow after.
    expect(stats.at(-1)!.wasmHeapBytes).toBe(stats[4].wasmHeapBytes);
    // RSS settles once V8 and the wasm heap have their working size; a leak of even 1 MiB a job would show.
    const settled = stats[4].rssBytes;
    const drift = Math.max(...stats.slice(5).map((s) => s.rssBytes)) - settled;
    console.log(`rss after job 5: ${mib(settled)} MiB; most above it in jobs 6-${JOBS}: ${mib(drift)} MiB`);
    expect(drift).toBeLessThan(16 * MiB);
  });

  it('fails a job that runs out of memory with an error that says what to lower, and goes on with a fresh sandbox', async () => {
    // 2048 filters at full resolution: one layer output for a batch of ~880 digits is 5.3 GiB, more than
    // the wasm heap's 4 GiB. The allocation guard refuses it before anything is written, so this is cheap.
    const id = await submit(
      jobBody({
        model: {
          input: { shape: [28, 28, 1] },
          layers: [
            { type: 'conv2d', filters: 2048, kernelSize: 3, padding: 'same', activation: 'relu' },
            { type: 'globalAvgPool2d' },
            { type: 'dense', units: 10, activation: 'softmax' },
          ],
        },
        training: { epochs: 1, batchSize: 1024, seed: 1 },
        dataset: { id: 'mnist', limit: 1100 },
      }),
    );
    const failed = await finished(id);
    expect(failed.status).toBe('failed');
    expect(failed.attempts).toBe(1);
    expect(failed.error.code).toBe('out-of-memory');
    expect(failed.error.message).toMatch(/^training ran out of memory on the wasm engine \(its heap holds at most 4\.00 GiB\): a tensor of 5\.\d\d GiB did not fit\./);
    expect(failed.error.message).toMatch(
      /about 12\.3 MiB per example with their gradients, about 10\.\d\d GiB for a batch of 88\d\. Lower training\.batchSize \(now 1024\), to 128 or less/,
    );

    // The worker lives on; the sandbox that ran out of memory has exited and a new one trains the next job.
    const next = await finished(await submit(tinyJob(99)));
    expect(next.status).toBe('succeeded');
    expect(next.attempts).toBe(1);
    const after = (await resultOf(next.id)).sandbox;
    const before = stats[0].pid;
    expect(after.pid).not.toBe(before);
    expect(() => process.kill(before, 0)).toThrow(/ESRCH/);
    console.log(
      `out-of-memory job failed with: ${failed.error.message}\nnext job ran in a fresh sandbox: pid ${before} -> ${after.pid}, wasm heap ${mib(after.wasmHeapBytes)} MiB`,
    );
  });
});
