import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { BASE, sweepBody, waitForSweep } from '../helpers/sweeps.js';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process.js';

let t: TestApp | undefined;
const processes: WorkerProcess[] = [];

afterEach(async () => {
  for (const p of processes.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await t?.close();
  t = undefined;
});

const EPOCHS = 20;

describe('a sweep survives its worker', () => {
  it('kill -9 of the worker mid-sweep: the trial resumes from its checkpoint on another worker, which runs the rest of the sweep', async () => {
    t = await createTestApp({ JOB_LOCK_MS: 2000, RECONCILE_INTERVAL_MS: 1000 });
    const first = await spawnWorker(t.config);
    processes.push(first);
    const res = await t.http.post('/v1/sweeps').send(
      sweepBody({
        algorithm: 'random',
        space: { 'training.learningRate': { uniform: [0.005, 0.02] } },
        base: { ...BASE, training: { ...BASE.training, epochs: EPOCHS, batchSize: 32 }, dataset: { id: 'mnist', limit: 300 } },
        maxTrials: 3,
        parallelism: 1,
        seed: 3,
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    // Trial 0 has ended and the first worker created trial 1, which is training.
    await waitForSweep(t.http, res.body.id, {
      until: (s) => s.trials[1]?.status === 'running' && s.trials[1].epochs >= 1,
      what: 'trial 1 to finish an epoch',
    });
    first.child.kill('SIGKILL');
    await first.exited;
    const midway = (await t.http.get(`/v1/sweeps/${res.body.id}`)).body;
    expect(midway.status).toBe('running');
    expect(midway.trials).toHaveLength(2);
    expect(midway.trials[1].epochs).toBeLessThan(EPOCHS);

    const second = await spawnWorker(t.config);
    processes.push(second);
    const done = await waitForSweep(t.http, res.body.id);
    expect(done.status, second.output()).toBe('succeeded');
    expect(done.trials.map((x: { status: string }) => x.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(done.trials.map((x: { attempts: number }) => x.attempts)).toEqual([1, 2, 1]);
    for (const trial of done.trials) {
      const metrics = (await t.http.get(`/v1/jobs/${trial.jobId}/metrics`)).body.items as { epoch: number }[];
      expect(metrics.map((m) => m.epoch)).toEqual(Array.from({ length: EPOCHS }, (_, i) => i + 1));
    }
    expect(done.best).toMatchObject({ modelId: expect.any(String) });
    // The longest e2e test (three trials and a restart): a loaded machine needs more than the default hang guard.
  }, 300_000);
});
