import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, jobBody, type TestApp } from '../helpers/app.js';
import { waitFor } from '../helpers/wait-for.js';
import { startTrainingWorker, type TrainingWorker } from '../../src/worker/worker.js';
import { MNIST_CONTENT_HASH } from '../../src/data/datasets.js';

const silent = { info() {}, warn() {}, error: console.error };

let t: TestApp;
let worker: TrainingWorker;

beforeAll(async () => {
  t = await createTestApp();
  worker = await startTrainingWorker(t.config, silent);
});
afterAll(async () => {
  await worker?.close();
  await t?.close();
});

describe('registering at submission', () => {
  it('a job submitted with `register` becomes version 1 of that name when it succeeds', async () => {
    const body = jobBody({
      training: { epochs: 1, batchSize: 32, learningRate: 0.01, seed: 11 },
      dataset: { id: 'mnist', limit: 200 },
      register: { name: 'digits' },
    });
    const submitted = await t.http.post('/v1/jobs').send(body);
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({ register: { name: 'digits' }, registeredAs: null });

    const job = await waitFor(
      async () => (await t.http.get(`/v1/jobs/${submitted.body.id}`)).body,
      (j) => ['succeeded', 'failed', 'cancelled'].includes(j.status),
      { timeoutMs: 100_000, what: `job ${submitted.body.id} finished` },
    );
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    expect(job.registeredAs).toEqual({ name: 'digits', version: 1 });

    const registered = await t.http.get('/v1/registered-models/digits');
    expect(registered.status).toBe(200);
    expect(registered.body.versions).toHaveLength(1);
    const [version] = registered.body.versions;
    expect(version).toMatchObject({ name: 'digits', version: 1, modelId: job.modelId });
    expect(version.lineage).toMatchObject({
      jobId: job.id,
      datasetId: 'mnist',
      datasetLimit: 200,
      datasetContentHash: MNIST_CONTENT_HASH,
      hyperparameters: body.training,
      metrics: { epochs: 1, testAccuracy: job.test.accuracy },
      engine: { name: worker.engine.name },
    });
    expect(version.lineage.specHash).toMatch(/^[0-9a-f]{64}$/);
  });
});
