import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, quietLog, type TestApp } from '../helpers/app.js';
import { parseEvents, readStream } from '../helpers/event-stream.js';
import { ashaStrongFirstSweep, BASE, sweepBody, waitForSweep } from '../helpers/sweeps.js';
import { advanceSweep, reconcileSweeps } from '../../src/sweep/sweep-controller.js';
import { startTrainingWorker, type TrainingWorker } from '../../src/worker/worker.js';

let t: TestApp | undefined;
let worker: TrainingWorker | undefined;
afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await t?.close();
  t = undefined;
});

type Trial = { index: number; jobId: string; params: Record<string, number>; status: string; objective: number | null; epochs: number; stopReason: string | null };
const metricsOf = async (jobId: string) => (await t!.http.get(`/v1/jobs/${jobId}/metrics`)).body.items as { epoch: number; valAccuracy: number; valLoss: number }[];

describe('sweeps that train', () => {
  it('a grid of 4 trials ends with the right best trial and its model, reported as it goes on the event stream', async () => {
    t = await createTestApp();
    worker = await startTrainingWorker(t.config, quietLog);
    const res = await t.http.post('/v1/sweeps').send(
      sweepBody({
        space: { 'training.learningRate': { values: [0.00001, 0.02] }, 'model.layers[0].filters': { values: [2, 4] } },
        base: { ...BASE, training: { ...BASE.training, epochs: 2, batchSize: 16 } },
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const stream = readStream(t.http, `/v1/sweeps/${res.body.id}/events`);
    const sweep = await waitForSweep(t.http, res.body.id);

    expect(sweep.status).toBe('succeeded');
    expect(sweep.progress).toMatchObject({ trials: 4, succeeded: 4, failed: 0, cancelled: 0, earlyStopped: 0 });
    const trials = sweep.trials as Trial[];
    // The grid in the paths' alphabetical order, the last one varying fastest.
    expect(trials.map((x) => [x.params['model.layers[0].filters'], x.params['training.learningRate']])).toEqual([
      [2, 0.00001],
      [2, 0.02],
      [4, 0.00001],
      [4, 0.02],
    ]);
    for (const trial of trials) {
      const metrics = await metricsOf(trial.jobId);
      expect(metrics.map((m) => m.epoch)).toEqual([1, 2]);
      expect(trial).toMatchObject({ status: 'succeeded', epochs: 2, objective: metrics[1].valAccuracy, stopReason: null });
    }
    const top = trials.reduce((a, b) => (b.objective! > a.objective! ? b : a));
    expect(sweep.best).toMatchObject({ trial: top.index, jobId: top.jobId, params: top.params, objective: top.objective, epochs: 2 });
    // A learning rate 2,000 times larger learns; the tiny one barely moves from the shared initial weights.
    expect(sweep.best.params['training.learningRate']).toBe(0.02);
    const job = (await t.http.get(`/v1/jobs/${top.jobId}`)).body;
    expect(job.modelId).toEqual(expect.any(String));
    expect(sweep.best.modelId).toBe(job.modelId);

    const events = parseEvents(await stream);
    const finished = events.filter((e) => e.event === 'trial' && e.data.status === 'succeeded');
    expect(finished.map((e) => e.data.trial).sort()).toEqual([0, 1, 2, 3]);
    for (const e of finished)
      expect(e.data).toMatchObject({ jobId: trials[e.data.trial].jobId, objective: trials[e.data.trial].objective, epochs: 2, params: trials[e.data.trial].params });
    expect(events.filter((e) => e.event === 'epoch')).toHaveLength(8);
    for (const e of events.filter((x) => x.event === 'trial' || x.event === 'epoch')) expect(e.id).toMatch(/^\d+$/);
    expect(events.at(-1)).toMatchObject({ event: 'end', data: { status: 'succeeded', best: { jobId: top.jobId } } });
  });

  it('ASHA stops weak trials after fewer epochs than the strong one, which they can see in their metrics', async () => {
    t = await createTestApp();
    worker = await startTrainingWorker(t.config, quietLog);
    // One at a time, strong first: it alone reaches the first rung and goes on; the weak ones meet it there and stop.
    const res = await t.http.post('/v1/sweeps').send(ashaStrongFirstSweep());
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.objective).toEqual({ metric: 'valLoss', goal: 'minimize' });
    const sweep = await waitForSweep(t.http, res.body.id);
    expect(sweep.status).toBe('succeeded');
    const [strong, ...weak] = sweep.trials as Trial[];
    expect(strong).toMatchObject({ status: 'succeeded', epochs: 3, stopReason: null });
    expect((await metricsOf(strong.jobId)).map((m) => m.epoch)).toEqual([1, 2, 3]);
    const strongAtRung = (await metricsOf(strong.jobId))[0].valLoss;
    for (const trial of weak) {
      expect(trial).toMatchObject({
        status: 'succeeded',
        epochs: 1,
        stopReason: expect.stringMatching(/^early-stopped by ASHA at the rung of epoch 1: valLoss [\d.]+ ranks [23] of the [23] trials/),
      });
      const metrics = await metricsOf(trial.jobId);
      expect(metrics.map((m) => m.epoch)).toEqual([1]);
      expect(metrics[0].valLoss).toBeGreaterThan(strongAtRung);
      const job = (await t.http.get(`/v1/jobs/${trial.jobId}`)).body;
      expect(job).toMatchObject({ status: 'succeeded', stopReason: trial.stopReason, modelId: expect.any(String) });
    }
    expect(sweep.progress).toMatchObject({ trials: 3, succeeded: 3, earlyStopped: 2 });
    expect(sweep.best.jobId).toBe(strong.jobId);
  });

  it('cancelling a sweep cancels its running trial and creates no more', async () => {
    t = await createTestApp({ RECONCILE_INTERVAL_MS: 1000 });
    worker = await startTrainingWorker(t.config, quietLog);
    const res = await t.http.post('/v1/sweeps').send(
      sweepBody({
        space: { 'training.learningRate': { values: [0.005, 0.01, 0.02] } },
        base: { ...BASE, training: { ...BASE.training, epochs: 200, batchSize: 16 }, dataset: { id: 'mnist', limit: 500 } },
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const running = await waitForSweep(t.http, res.body.id, {
      until: (s) => s.trials.some((x: Trial) => x.status === 'running' && x.epochs >= 1),
      what: 'a trial to finish an epoch',
    });
    const busy = running.trials.find((x: Trial) => x.status === 'running') as Trial;

    const cancel = await t.http.post(`/v1/sweeps/${res.body.id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body.status).toBe('cancelled');
    // The running trial is cancelling, or already cancelled if its worker stopped between two reads.
    const statuses = cancel.body.trials.map((x: Trial) => x.status).sort();
    expect(statuses[0]).toBe('cancelled');
    expect(['cancelled', 'cancelling']).toContain(statuses[1]);
    expect(statuses).toHaveLength(2);

    const done = await waitForSweep(t.http, res.body.id);
    expect(done.status).toBe('cancelled');
    expect(done.trials.map((x: Trial) => x.status)).toEqual(['cancelled', 'cancelled']);
    const kept = await metricsOf(busy.jobId);
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(kept.length).toBeLessThan(200);
    // However often the controller is asked to step now (as the worker's loop does), it creates nothing more.
    const { db, queue, config } = t.app.services;
    await reconcileSweeps({ db, queue, config });
    await advanceSweep({ db, queue, config }, res.body.id);
    expect((await t.http.get(`/v1/sweeps/${res.body.id}`)).body.progress.trials).toBe(2);
    expect((await t.http.get(`/v1/jobs?sweepId=${res.body.id}`)).body.items).toHaveLength(2);
  });
});
