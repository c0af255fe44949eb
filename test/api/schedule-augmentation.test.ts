import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { jobBody } from '../helpers/app.js';
import { useFreshTestApp } from '../helpers/use-app.js';
import { createDataset } from '../../src/storage/datasets.repository.js';

const t = useFreshTestApp();

const post = (body: unknown) => t.http.post('/v1/jobs').send(body as object);
const training = (extra: Record<string, unknown>) => ({ training: { ...jobBody().training, ...extra } });

describe('POST /v1/jobs with a learning-rate schedule and augmentation', () => {
  it('stores both with every default filled in, and shows them on the job', async () => {
    const res = await post(jobBody(training({ epochs: 4, learningRateSchedule: { type: 'cosine', warmupEpochs: 1 }, augmentation: { shift: 0.1, rotation: 10 } })));
    expect(res.status).toBe(202);
    const job = await t.http.get(`/v1/jobs/${res.body.id}`);
    expect(job.body.spec.training).toMatchObject({
      learningRateSchedule: { type: 'cosine', warmupEpochs: 1, minLearningRate: 0 },
      augmentation: { shift: 0.1, rotation: 10, zoom: 0, flipHorizontal: false },
    });
  });

  it.each([
    [
      'an unknown schedule type, listing the allowed ones',
      { learningRateSchedule: { type: 'linear' } },
      'invalid-request',
      /^training\.learningRateSchedule\.type "linear" is not a known type; allowed: step, exponential, cosine, reduceOnPlateau$/,
      'training.learningRateSchedule.type',
    ],
    [
      "a field of another schedule, listing the schedule's own",
      { learningRateSchedule: { type: 'step', warmupEpochs: 1 } },
      'invalid-request',
      /^training\.learningRateSchedule\.warmupEpochs is not an allowed field; allowed fields: type, stepEpochs, factor$/,
      'training.learningRateSchedule.warmupEpochs',
    ],
    [
      'a factor out of range',
      { learningRateSchedule: { type: 'reduceOnPlateau', factor: 1.5 } },
      'invalid-request',
      /^training\.learningRateSchedule\.factor must be a number > 0 and < 1, got 1\.5$/,
      'training.learningRateSchedule.factor',
    ],
    [
      'a warm-up that leaves no epoch to decay over',
      { learningRateSchedule: { type: 'cosine', warmupEpochs: 2 } },
      'invalid-spec',
      /^learningRateSchedule\.warmupEpochs must be below epochs \(2\), to leave epochs after the warm-up; got 2$/,
      'training.learningRateSchedule.warmupEpochs',
    ],
    [
      'an augmentation out of range',
      { augmentation: { rotation: 270 } },
      'invalid-request',
      /^training\.augmentation\.rotation must be a number from 0 to 180, got 270$/,
      'training.augmentation.rotation',
    ],
  ])('rejects %s with 400, naming the field', async (_what, extra, code, detail, field) => {
    const res = await post(jobBody(training(extra)));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe(code);
    expect(res.body.detail).toMatch(detail);
    expect(res.body.errors[0].field).toBe(field);
    expect(await t.app.services.db.job.count({ where: { tenantId: t.tenant } })).toBe(0);
  });

  it('refuses augmentation for a dataset that does not hold images', async () => {
    const dataset = await createDataset(t.app.services.db, {
      tenantId: t.tenant,
      name: 'table',
      format: 'csv',
      examples: 300,
      inputShape: [4],
      numClasses: 3,
      classNames: ['a', 'b', 'c'],
      dtype: 'float32',
      stats: { perClassCounts: [100, 100, 100], min: 0, max: 1, mean: [0.5], std: [0.2] },
      options: {},
      uploadBytes: 1,
      sizeBytes: 1,
      contentHash: 'd'.repeat(64),
      storageKey: `datasets/${randomUUID()}`,
    });
    const mlp = { input: { shape: [4] }, layers: [{ type: 'dense', units: 3, activation: 'softmax' }] };
    const res = await post(jobBody({ model: mlp, dataset: { id: dataset.id }, ...training({ augmentation: { shift: 0.1 } }) }));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('dataset-mismatch');
    expect(res.body.detail).toBe(
      `training.augmentation shifts, turns and zooms images, but dataset '${dataset.id}' holds csv examples of shape [4], not images; ` +
        'leave augmentation out, or train on an image dataset (built-in mnist, idx or images uploads)',
    );
    expect(res.body.errors).toEqual([{ field: 'training.augmentation', message: 'needs an image dataset' }]);
    // The same job without augmentation is fine.
    expect((await post(jobBody({ model: mlp, dataset: { id: dataset.id } }))).status).toBe(202);
  });
});
