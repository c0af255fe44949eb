import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, jobBody, quietLog, type TestApp } from '../helpers/app.js';
import { startTrainingWorker, type TrainingWorker } from '../../src/worker/worker.js';
import { waitFor } from '../helpers/wait-for.js';
import { waitForJob } from '../helpers/wait-for-job.js';
import { parseEvents, readStream } from '../helpers/event-stream.js';

let t: TestApp | undefined;
const workers: TrainingWorker[] = [];

afterEach(async () => {
  for (const w of workers.splice(0)) await w.close();
  await t?.close();
  t = undefined;
});

type Metric = { epoch: number; loss: number; valLoss: number; learningRate: number };
const metricsOf = async (id: string) => (await t!.http.get(`/v1/jobs/${id}/metrics`)).body.items as Metric[];
const startWorker = async () => {
  const worker = await startTrainingWorker(t!.config, quietLog);
  workers.push(worker);
  return worker;
};
/** Each rate against the expected one, to 12 significant digits (a product of factors and a power may differ in the last bits). */
const relative = (rates: number[], expected: number[]) => rates.map((r, i) => Math.abs(r - expected[i]) / expected[i]);

describe('learning-rate schedules and augmentation in training', () => {
  it('trains each epoch at the rate the schedule sets, and records it with the metrics and in the event stream', async () => {
    t = await createTestApp();
    await startWorker();
    // After epoch 1 the rate falls a million-fold per epoch: the weights freeze, so the validation loss stops moving;
    // it would keep moving if the optimizer went on at 0.01.
    const training = { ...jobBody().training, epochs: 3, learningRateSchedule: { type: 'step', stepEpochs: 1, factor: 1e-6 }, augmentation: { shift: 0.1, rotation: 10 } };
    const { body: job } = await t.http.post('/v1/jobs').send(jobBody({ training }));
    const done = await waitForJob(t.http, job.id);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.spec.training.augmentation).toEqual({ shift: 0.1, rotation: 10, zoom: 0, flipHorizontal: false });

    const metrics = await metricsOf(job.id);
    expect(
      relative(
        metrics.map((m) => m.learningRate),
        [0.01, 1e-8, 1e-14],
      ).every((d) => d < 1e-12),
    ).toBe(true);
    expect(metrics[2].valLoss).toBeCloseTo(metrics[1].valLoss, 5);
    expect(metrics[1].valLoss).toBeCloseTo(metrics[0].valLoss, 4);

    const events = parseEvents(await readStream(t.http, `/v1/jobs/${job.id}/events`));
    const epochs = events.filter((e) => e.event === 'metrics').map((e) => e.data);
    expect(epochs.map((e) => e.learningRate)).toEqual(metrics.map((m) => m.learningRate));
  });

  it('resumes reduceOnPlateau from the checkpoint after a hand-back: its rate and counters go on as if never stopped', async () => {
    t = await createTestApp();
    const first = await startWorker();
    const epochs = 30;
    // minDelta beyond any loss: no epoch after the first improves, so with patience 0 and cooldown 1 the rate falls every
    // second epoch. A resumed attempt that lost the state would start again from 0.005 (and miscount the cooldown).
    const training = {
      ...jobBody().training,
      epochs,
      batchSize: 16,
      learningRate: 0.005,
      learningRateSchedule: { type: 'reduceOnPlateau', monitor: 'val_loss', patience: 0, cooldown: 1, factor: 0.8, minDelta: 1000 },
      augmentation: { shift: 0.1, zoom: 0.1 },
    };
    const { body: job } = await t.http.post('/v1/jobs').send(jobBody({ training, dataset: { id: 'mnist', limit: 500 } }));
    await waitFor(
      () => metricsOf(job.id),
      (m) => m.length >= 3,
      { timeoutMs: 90_000, intervalMs: 100, what: `three epochs of job ${job.id}` },
    );
    // Closing a worker makes its running job stop after the batch and hand itself back.
    workers.splice(workers.indexOf(first), 1);
    await first.close();
    const handedBack = (await t.http.get(`/v1/jobs/${job.id}`)).body;
    expect(handedBack.status).toBe('queued');
    const before = (await metricsOf(job.id)).length;
    expect(before).toBeLessThan(epochs);

    await startWorker();
    const done = await waitForJob(t.http, job.id);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.attempts).toBe(2);
    const metrics = await metricsOf(job.id);
    expect(metrics.map((m) => m.epoch)).toEqual(Array.from({ length: epochs }, (_, i) => i + 1));
    const expected = metrics.map((m) => 0.005 * 0.8 ** Math.floor((m.epoch - 1) / 2));
    const off = relative(
      metrics.map((m) => m.learningRate),
      expected,
    );
    expect(
      off.every((d) => d < 1e-12),
      `resumed after epoch ${before}: ${JSON.stringify(metrics.map((m) => m.learningRate))}`,
    ).toBe(true);
  });
});
