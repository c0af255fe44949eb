import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type request from 'supertest';
import { createTestApp, jobBody, SMALL_CNN, type TestApp } from '../helpers/app.js';
import { trainQueueJobId } from '../../src/queue/jobs.js';
import { buildModel, importKerasModel, planModel, SEED_MNIST_MODEL, type ModelSpec } from '../../src/model-spec/index.js';
import { JOB_DOCUMENT_VERSION } from '../../src/queue/job-document.js';
import { readJobDocument, readJobPlan } from '../../src/storage/job.schema.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

const post = (body: unknown) => t.http.post('/v1/jobs').send(body as object);

function expectProblem(res: request.Response, status: number, code: string, detail: RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ type: `urn:trainyard:problem:${code}`, status, code, title: expect.any(String) });
  expect(res.body.detail).toMatch(detail);
}

describe('POST /v1/jobs', () => {
  it('accepts the seed MNIST spec with 202, stores the job and queues it', async () => {
    const res = await post(jobBody({ model: SEED_MNIST_MODEL }));
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`/v1/jobs/${res.body.id}`);
    expect(res.body).toMatchObject({
      status: 'queued',
      name: 'test-job',
      progress: { epoch: 0, epochs: 2, percent: 0 },
      plan: { totalParams: 3_274_634, outputShape: [10] },
      modelId: null,
      error: null,
      links: { self: `/v1/jobs/${res.body.id}`, metrics: `/v1/jobs/${res.body.id}/metrics` },
    });
    const row = await t.app.services.db.job.findUnique({ where: { id: res.body.id } });
    expect(row?.status).toBe('queued');
    const queued = await t.app.services.queue.getJob(trainQueueJobId(res.body.id));
    expect(queued?.data).toEqual({ jobId: res.body.id, tenantId: t.tenant });
    expect(await queued?.getState()).toBe('waiting');
  });

  it('stores what the worker trains from: the model in our spec (a Keras document converted), the training with every default, the plan', async () => {
    const tf = await import('@tensorflow/tfjs');
    await tf.setBackend('cpu');
    const built = buildModel(SMALL_CNN as ModelSpec, { seed: 1 });
    const keras = built.toJSON(null, false);
    built.dispose();
    const res = await post(jobBody({ model: { keras }, training: { epochs: 2, learningRate: 0.01, earlyStopping: { patience: 1 } } }));
    expect(res.status).toBe(202);

    const row = await t.app.services.db.job.findUniqueOrThrow({ where: { id: res.body.id } });
    const doc = readJobDocument(row.spec, row.id);
    expect(doc).toEqual({
      version: JOB_DOCUMENT_VERSION,
      model: importKerasModel(keras),
      training: {
        optimizer: 'adam',
        learningRate: 0.01,
        momentum: 0.9,
        epochs: 2,
        batchSize: 32,
        validationSplit: 0.1,
        testSplit: 0.1,
        seed: 42,
        normalization: 'scale',
        earlyStopping: { monitor: 'val_loss', patience: 1, minDelta: 0 },
        loss: 'categoricalCrossentropy',
      },
      dataset: { id: 'mnist', limit: 300 },
    });
    expect('keras' in doc.model).toBe(false);
    expect(readJobPlan(row.plan, row.id)).toEqual(planModel(importKerasModel(keras), { maxParams: t.config.MAX_MODEL_PARAMS, maxMacs: t.config.MAX_MODEL_MACS }));
    expect(row.epochs).toBe(2);
  });

  it('accepts a flat input for an MLP on 28x28 images', async () => {
    const res = await post(
      jobBody({
        model: {
          input: { shape: [784] },
          layers: [
            { type: 'dense', units: 16, activation: 'relu' },
            { type: 'dense', units: 10, activation: 'softmax' },
          ],
        },
      }),
    );
    expect(res.status).toBe(202);
  });

  it.each([
    [
      'a mistyped value, naming layer and field and what is allowed',
      { model: { ...SMALL_CNN, layers: [{ type: 'conv2d', filters: 4, kernelSize: '3' }, ...SMALL_CNN.layers.slice(1)] } },
      'invalid-request',
      /^layer 0 \(conv2d\): kernelSize must be an integer from 1 to \d+ or \[height, width\], got "3"$/,
      'model.layers[0].kernelSize',
    ],
    [
      'an unknown layer type, listing the allowed ones',
      { model: { ...SMALL_CNN, layers: [{ type: 'conv3d', filters: 4 }] } },
      'invalid-request',
      /layer 0 \(conv3d\): type "conv3d" is not a known type; allowed: conv2d, maxPool2d, avgPool2d/,
      'model.layers[0].type',
    ],
    [
      'an unknown field, listing the allowed ones',
      { model: { ...SMALL_CNN, layers: [{ ...SMALL_CNN.layers[0], stride: 2 }, ...SMALL_CNN.layers.slice(1)] } },
      'invalid-request',
      /layer 0 \(conv2d\): stride is not an allowed field; allowed fields: type, filters, kernelSize, strides, padding/,
      'model.layers[0].stride',
    ],
    ['a missing required field', { model: { ...SMALL_CNN, layers: [{ type: 'dense' }] } }, 'invalid-request', /layer 0 \(dense\): units is required/, 'model.layers[0].units'],
    [
      'an unknown optimizer',
      { training: { optimizer: 'adamw' } },
      'invalid-request',
      /training\.optimizer must be one of "sgd", "momentum", "adam", "rmsprop", got "adamw"/,
      'training.optimizer',
    ],
    [
      'a kernel larger than its input (planner)',
      { model: { input: { shape: [28, 28, 1] }, layers: [{ type: 'conv2d', filters: 4, kernelSize: 29 }, { type: 'flatten' }, { type: 'dense', units: 10 }] } },
      'invalid-spec',
      /^layer 0 \(conv2d\): kernel 29x29 with padding 'valid' does not fit a 28x28 input/,
      'model.layers[0].kernelSize',
    ],
  ])('rejects %s with 400', async (_what, override, code, detail, field) => {
    const res = await post(jobBody(override));
    expectProblem(res, 400, code, detail);
    expect(res.body.errors[0].field).toBe(field);
    expect(await t.app.services.db.job.count({ where: { tenantId: t.tenant } })).toBe(0);
  });

  it.each([
    [
      'an unknown dataset',
      { dataset: { id: 'cifar10' } },
      'unknown-dataset',
      /dataset\.id 'cifar10' does not exist; use a built-in dataset \(mnist\) or the id of one of your uploads/,
    ],
    ['a limit above the dataset size', { dataset: { id: 'mnist', limit: 20000 } }, 'invalid-request', /dataset\.limit 20000 exceeds the 10000 examples/],
    [
      'an input shape the dataset does not have',
      { model: { ...SMALL_CNN, input: { shape: [32, 32, 3] } } },
      'dataset-mismatch',
      /model\.input\.shape \[32, 32, 3\] does not match dataset 'mnist', whose examples are \[28, 28, 1\] \(or flat: \[784\]\)/,
    ],
    [
      'an output that is not one unit per class',
      { model: { ...SMALL_CNN, layers: [...SMALL_CNN.layers.slice(0, 3), { type: 'dense', units: 12, activation: 'softmax' }] } },
      'dataset-mismatch',
      /the model outputs \[12\] per example but dataset 'mnist' has 10 classes/,
    ],
    [
      'splits that leave too little to train on',
      { training: { validationSplit: 0.45, testSplit: 0.5 } },
      'invalid-spec',
      /validationSplit \+ testSplit must be below 0\.9, to leave at least 10% of the data for training; got 0\.45 \+ 0\.5/,
    ],
    ['splits that leave nothing to train on', { training: { validationSplit: 0.5, testSplit: 0.5 } }, 'invalid-spec', /validationSplit.*testSplit/],
  ])('rejects %s with 400', async (_what, override, code, detail) => {
    expectProblem(await post(jobBody(override)), 400, code, detail);
    expect(await t.app.services.db.job.count({ where: { tenantId: t.tenant } })).toBe(0);
  });

  it('rejects a model over the size limits with the numbers', async () => {
    await t.close();
    t = await createTestApp({ MAX_MODEL_PARAMS: 1_000_000 });
    const res = await post(jobBody({ model: SEED_MNIST_MODEL }));
    expectProblem(res, 400, 'model-too-large', /3,274,634 parameters exceed the limit of 1,000,000/);
  });

  it('answers broken JSON, a wrong content type and an oversized body with problems', async () => {
    const broken = await t.http.post('/v1/jobs').set('content-type', 'application/json').send('{"model": ');
    expectProblem(broken, 400, 'invalid-json', /not valid JSON/);
    const text = await t.http.post('/v1/jobs').set('content-type', 'text/plain').send('hello');
    expectProblem(text, 415, 'unsupported-media-type', /send application\/json/);
    await t.close();
    t = await createTestApp({ BODY_LIMIT: 2048 });
    const big = await post(jobBody({ name: 'x'.repeat(150), model: { ...SMALL_CNN, layers: Array(40).fill(SMALL_CNN.layers[0]) } }));
    expectProblem(big, 413, 'payload-too-large', /exceeds the limit of 2048 bytes/);
  });
});

describe('GET /v1/jobs', () => {
  it('lists newest first with a cursor', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await post(jobBody({ name: `job-${i}` }))).body.id);
    const first = await t.http.get('/v1/jobs?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items.map((j: { id: string }) => j.id)).toEqual([ids[2], ids[1]]);
    const second = await t.http.get(`/v1/jobs?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((j: { id: string }) => j.id)).toEqual([ids[0]]);
    expect(second.body.nextCursor).toBeNull();
    const queued = await t.http.get('/v1/jobs?status=succeeded');
    expect(queued.body.items).toEqual([]);
  });

  it.each([
    ['/v1/jobs?limit=0', /query\.limit must be an integer from 1 to 100, got 0/],
    ['/v1/jobs?status=done', /query\.status must be one of "queued", "running"/],
    ['/v1/jobs?cursor=nope', /query\.cursor must be a UUID, got "nope"/],
    ['/v1/jobs/not-a-uuid', /path\.id must be a UUID, got "not-a-uuid"/],
    ['/v1/jobs/not-a-uuid/metrics', /path\.id must be a UUID/],
  ])('rejects %s with 400', async (url, detail) => {
    expectProblem(await t.http.get(url), 400, 'invalid-request', detail);
  });

  it('answers 404 for a job that does not exist, and for its metrics', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    expectProblem(await t.http.get(`/v1/jobs/${id}`), 404, 'not-found', new RegExp(`job '${id}' does not exist`));
    expectProblem(await t.http.get(`/v1/jobs/${id}/metrics`), 404, 'not-found', /does not exist/);
  });

  it('answers 404 with a problem for unknown routes', async () => {
    expectProblem(await t.http.get('/v9/whatever'), 404, 'route-not-found', /no route GET \/v9\/whatever; see \/docs/);
  });
});
