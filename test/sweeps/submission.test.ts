import { afterEach, describe, expect, it } from 'vitest';
import type request from 'supertest';
import fc from 'fast-check';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { BASE, sweepBody } from '../helpers/sweeps.js';
import { advanceSweep } from '../../src/sweep/sweep-controller.js';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const post = (body: unknown) => t!.http.post('/v1/sweeps').send(body as object);

function expectProblem(res: request.Response, status: number, code: string, field: string | null, detail: RegExp) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body.code, JSON.stringify(res.body)).toBe(code);
  expect(res.body.detail).toMatch(detail);
  if (field !== null) expect(res.body.errors?.[0]?.field).toBe(field);
}

describe('POST /v1/sweeps: what is refused, naming the path, before anything is stored', () => {
  it('refuses paths the job does not have, values a field does not take, and malformed distributions', async () => {
    t = await createTestApp();
    const space = (s: Record<string, unknown>) => post(sweepBody({ space: s }));

    expectProblem(
      await space({ 'dataset.limit': { values: [100, 200] } }),
      400,
      'invalid-space',
      'space.dataset.limit',
      /'dataset\.limit' is not a path into the job: write model\.<field> or training\.<field>/,
    );
    expectProblem(
      await space({ 'training.learningRat': { values: [0.1] } }),
      400,
      'invalid-spec',
      'space.training.learningRat',
      /^space\.training\.learningRat = 0\.1: learningRat is not an allowed field; allowed fields: optimizer, learningRate/,
    );
    expectProblem(
      await space({ 'model.layers[9].filters': { values: [8] } }),
      400,
      'invalid-space',
      'space.model.layers[9].filters',
      /model\.layers\[9\] does not exist: model\.layers has 4 items in the base job/,
    );
    expectProblem(
      await space({ 'model.layers[1].filters': { values: [8] } }),
      400,
      'invalid-spec',
      'space.model.layers[1].filters',
      /^space\.model\.layers\[1\]\.filters = 8: layer 1 \(maxPool2d\): filters is not an allowed field/,
    );
    expectProblem(
      await space({ 'training.optimizer': { values: ['adam', 'nesterov'] } }),
      400,
      'invalid-spec',
      'space.training.optimizer',
      /^space\.training\.optimizer = "nesterov": optimizer must be one of "sgd", "momentum", "adam", "rmsprop", got "nesterov"/,
    );
    // Both ends are whole numbers; the values between are not.
    expectProblem(await space({ 'model.layers[0].filters': { uniform: [2, 8] } }), 400, 'invalid-spec', 'space.model.layers[0].filters', /filters must be an integer/);
    expectProblem(await space({ 'training.learningRate': { logUniform: [0, 0.1] } }), 400, 'invalid-space', 'space.training.learningRate', /logUniform must be above 0/);
    expectProblem(await space({ 'training.learningRate': { values: [0.1, 0.1] } }), 400, 'invalid-space', 'space.training.learningRate', /must be distinct: item 1 repeats item 0/);
    expectProblem(await space({ 'training.learningRate': { logUniform: [0.1] } }), 400, 'invalid-request', 'space.training.learningRate.logUniform', /must have at least 2 items/);
    expectProblem(
      await space({ 'training.learningRate': {} }),
      400,
      'invalid-request',
      'space.training.learningRate',
      /must be \{"uniform": \[low, high\]\}, \{"logUniform": \[low, high\]\}, \{"intUniform": \[low, high\]\} or \{"values": \[\.\.\.\]\}/,
    );
    expectProblem(
      await space({ training: { values: [{ epochs: 1 }] }, 'training.learningRate': { values: [0.1] } }),
      400,
      'invalid-space',
      null,
      /^'training' is not a path into the job/,
    );
    expectProblem(
      await space({ 'training.earlyStopping': { values: [{ patience: 1 }] }, 'training.earlyStopping.patience': { values: [2] } }),
      400,
      'invalid-space',
      'space.training.earlyStopping.patience',
      /lies inside space\.training\.earlyStopping/,
    );
  });

  it('refuses a continuous grid, a val* objective without a validation set, stray early-stopping fields, and a too-large trial (quota)', async () => {
    t = await createTestApp();
    expectProblem(
      await post(sweepBody({ space: { 'training.learningRate': { logUniform: [0.0001, 0.1] } } })),
      400,
      'invalid-space',
      'space.training.learningRate',
      /grid search lists every value, but space\.training\.learningRate is logUniform/,
    );
    expectProblem(
      await post(sweepBody({ space: { 'training.validationSplit': { values: [0.1, 0] } } })),
      400,
      'invalid-request',
      'space.training.validationSplit',
      /space\.training\.validationSplit = 0: objective\.metric 'valAccuracy' is measured on the validation set, but training\.validationSplit is 0/,
    );
    expectProblem(await post(sweepBody({ earlyStopping: { type: 'asha', minTrials: 3 } })), 400, 'invalid-request', 'earlyStopping.minTrials', /belongs to type 'median'/);
    expectProblem(await post(sweepBody({ algorithm: 'bayes' })), 400, 'invalid-request', 'algorithm', /must be one of "grid", "random", "tpe"/);
    expectProblem(
      await post(sweepBody({ base: { ...BASE, training: { ...BASE.training, epochs: 0 } } })),
      400,
      'invalid-request',
      'base.training.epochs',
      /must be an integer from 1 to 1000/,
    );

    // 512 filters give a model of 256,010 parameters: over this tenant's quota, and named by the value that does it.
    await t.app.services.db.tenant.update({ where: { id: t.tenant }, data: { quotas: { maxParams: 50_000 } } });
    const quota = await post(sweepBody({ algorithm: 'random', maxTrials: 3, space: { 'model.layers[0].filters': { values: [4, 512] } } }));
    expectProblem(
      quota,
      422,
      'quota-exceeded',
      'space.model.layers[0].filters',
      /^space\.model\.layers\[0\]\.filters = 512: the model has 256,010 parameters; tenant '.*' may train at most 50,000/,
    );
    expect(quota.body).toMatchObject({ quota: 'maxParams', limit: 50_000 });
    // TPE chooses later trials as it learns, so the extremes of its ranges are checked together: each value passes alone
    // (100 filters at stride 2: 50,010 parameters; stride 1 with 4 filters: 7,890), and seed 1's three random trials pass,
    // but 100 filters at stride 1 would have 197,010.
    await t.app.services.db.tenant.update({ where: { id: t.tenant }, data: { quotas: { maxParams: 60_000 } } });
    const corners = await post(
      sweepBody({
        algorithm: 'tpe',
        maxTrials: 9,
        seed: 1,
        space: {
          'model.layers[0].filters': { intUniform: [2, 100] },
          'model.layers[0].strides': { values: [1, 2] },
          'training.learningRate': { logUniform: [0.001, 0.1] },
        },
      }),
    );
    expectProblem(
      corners,
      422,
      'quota-exceeded',
      null,
      /^the corner of the space \(model\.layers\[0\]\.filters=100, model\.layers\[0\]\.strides=1, training\.learningRate=0\.001\): the model has 197,010 parameters/,
    );

    expect((await t.http.get('/v1/sweeps')).body.items).toEqual([]);
    expect((await t.http.get('/v1/jobs')).body.items).toEqual([]);
  });
});

describe('POST /v1/sweeps: accepted', () => {
  it('answers 202 with the sweep and its first trials, ordinary jobs of the tenant with its sweepId, in a seeded, reproducible order', async () => {
    t = await createTestApp();
    const body = sweepBody({
      name: 'lr-and-width',
      algorithm: 'random',
      space: { 'training.learningRate': { logUniform: [0.0001, 0.01] }, 'model.layers[0].filters': { values: [2, 4, 8] } },
      maxTrials: 6,
      parallelism: 3,
      seed: 5,
      earlyStopping: { type: 'asha' },
    });
    const res = await post(body);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.headers.location).toBe(`/v1/sweeps/${res.body.id}`);
    expect(res.body).toMatchObject({
      name: 'lr-and-width',
      status: 'running',
      algorithm: 'random',
      objective: { metric: 'valAccuracy', goal: 'maximize' },
      maxTrials: 6,
      parallelism: 3,
      seed: 5,
      earlyStopping: { type: 'asha', minEpochs: 1, reductionFactor: 3 },
      space: body.space,
      progress: { trials: 3, queued: 3, running: 0, succeeded: 0 },
      best: null,
      links: { jobs: `/v1/jobs?sweepId=${res.body.id}` },
    });
    const trials = res.body.trials as { index: number; jobId: string; params: Record<string, number>; status: string }[];
    expect(trials.map((x) => x.index)).toEqual([0, 1, 2]);
    for (const trial of trials) {
      expect(trial.status).toBe('queued');
      expect([2, 4, 8]).toContain(trial.params['model.layers[0].filters']);
      const job = (await t.http.get(`/v1/jobs/${trial.jobId}`)).body;
      expect(job).toMatchObject({ sweepId: res.body.id, name: `lr-and-width trial ${trial.index}`, status: 'queued' });
      expect(job.spec.training.learningRate).toBe(trial.params['training.learningRate']);
      expect(job.spec.model.layers[0].filters).toBe(trial.params['model.layers[0].filters']);
      expect(await t.app.services.queue.getJob(`train-${trial.jobId}`)).toBeDefined();
    }
    const listed = (await t.http.get(`/v1/jobs?sweepId=${res.body.id}`)).body.items;
    expect(listed.map((j: { id: string }) => j.id).sort()).toEqual(trials.map((x) => x.jobId).sort());

    // The same seed draws the same trials; another seed, others.
    const again = (await post(body)).body.trials.map((x: { params: unknown }) => x.params);
    const other = (await post({ ...body, seed: 6 })).body.trials.map((x: { params: unknown }) => x.params);
    expect(again).toEqual(trials.map((x) => x.params));
    expect(other).not.toEqual(again);

    const list = (await t.http.get('/v1/sweeps')).body;
    expect(list.items).toHaveLength(3);
    expect(list.items[2]).toMatchObject({ id: res.body.id, progress: { trials: 3 } });
    expect(list.items[2].trials).toBeUndefined();
  });

  it('advances idempotently: steps taken at once by several callers create each trial once', async () => {
    t = await createTestApp();
    const res = await post(sweepBody({ algorithm: 'random', maxTrials: 5, parallelism: 3, space: { 'training.learningRate': { uniform: [0.001, 0.01] } } }));
    expect(res.status).toBe(202);
    const { db, queue, config } = t.app.services;
    await Promise.all(Array.from({ length: 6 }, () => advanceSweep({ db, queue, config }, res.body.id)));
    const trials = await db.sweepTrial.findMany({ where: { sweepId: res.body.id }, orderBy: { index: 'asc' } });
    expect(trials.map((x) => x.index)).toEqual([0, 1, 2]);
    expect(await db.job.count({ where: { sweepId: res.body.id } })).toBe(3);
  });

  it('cancels a sweep and its queued trials; again is harmless; a finished sweep is a conflict', async () => {
    t = await createTestApp();
    const { body: sweep } = await post(sweepBody());
    const res = await t.http.post(`/v1/sweeps/${sweep.id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
    expect(res.body.trials.map((x: { status: string }) => x.status)).toEqual(['cancelled', 'cancelled']);
    for (const trial of res.body.trials) expect(await t.app.services.queue.getJob(`train-${trial.jobId}`)).toBeUndefined();
    const job = (await t.http.get(`/v1/jobs/${res.body.trials[0].jobId}`)).body;
    expect(job.history.at(-1)).toMatchObject({ status: 'cancelled', reason: 'its sweep was cancelled' });
    expect((await t.http.post(`/v1/sweeps/${sweep.id}/cancel`)).status).toBe(200);

    const { body: other } = await post(sweepBody());
    await t.app.services.db.sweep.update({ where: { id: other.id }, data: { status: 'succeeded' } });
    const done = await t.http.post(`/v1/sweeps/${other.id}/cancel`);
    expectProblem(done, 409, 'sweep-finished', null, /has already succeeded; only a running sweep can be cancelled/);
    expect((await t.http.post('/v1/sweeps/00000000-0000-4000-8000-000000000009/cancel')).status).toBe(404);
  });

  it("keeps tenants apart: another tenant's sweep and its trials are not found, listed or cancellable", async () => {
    t = await createTestApp();
    const { body: sweep } = await post(sweepBody());
    const other = await t.otherTenant();
    expect((await other.http.get(`/v1/sweeps/${sweep.id}`)).status).toBe(404);
    expect((await other.http.get(`/v1/sweeps/${sweep.id}/events`)).status).toBe(404);
    expect((await other.http.post(`/v1/sweeps/${sweep.id}/cancel`)).status).toBe(404);
    expect((await other.http.get('/v1/sweeps')).body.items).toEqual([]);
    expect((await other.http.get(`/v1/jobs?sweepId=${sweep.id}`)).body.items).toEqual([]);
    expect((await other.http.get(`/v1/jobs/${sweep.trials[0].jobId}`)).status).toBe(404);
    expect((await t.http.get(`/v1/sweeps/${sweep.id}`)).body.status).toBe('running');
  });
});

describe('POST /v1/sweeps: any body', () => {
  it('answers 202 or a 4xx problem, never a 5xx, whatever the space and budget', async () => {
    // Generous limits: this is about input, not quotas.
    t = await createTestApp({ RATE_LIMIT_SUBMIT: 1_000_000, QUOTA_QUEUED_JOBS: 1_000_000 });
    const value = fc.oneof(
      fc.constantFrom(null, true, 0, -1, 1, 2, 0.5, 1e9, 1e300, -1e300, 'adam', 'same', 'relu', 'x'),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer({ min: -10, max: 5000 }),
      fc.array(fc.constantFrom(1, 2, 'a', null), { maxLength: 3 }),
      fc.dictionary(fc.constantFrom('type', 'rate', 'factor', 'patience', 'x'), fc.constantFrom(1, 'cosine', 'step', null), { maxKeys: 3 }),
    );
    // Mostly paths the job has and well-formed distributions, so that the checks after the first ones are reached too.
    const path = fc.oneof(
      {
        weight: 6,
        arbitrary: fc.constantFrom(
          'training.learningRate',
          'training.batchSize',
          'training.epochs',
          'training.optimizer',
          'training.validationSplit',
          'training.earlyStopping',
          'training.earlyStopping.patience',
          'training.learningRateSchedule',
          'training.augmentation.rotation',
          'model.layers[0].filters',
          'model.layers[0].kernelSize',
          'model.layers[0].strides',
          'model.layers[0]',
          'model.layers[3].units',
          'model.input.shape',
          'model.layers[7].x',
          'training.seed.x',
          'model.layers[0].branches[0][0].filters',
        ),
      },
      { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
    );
    const ordered = (n: fc.Arbitrary<number>) => fc.tuple(n, n).map(([a, b]) => (a <= b ? [a, b] : [b, a]));
    const number = fc.oneof(fc.double({ min: -2, max: 100, noNaN: true }), fc.integer({ min: -5, max: 1_000_000_000 }));
    const distribution = fc.oneof(
      { weight: 2, arbitrary: fc.record({ uniform: ordered(number) }) },
      { weight: 2, arbitrary: fc.record({ logUniform: ordered(number) }) },
      { weight: 2, arbitrary: fc.record({ intUniform: ordered(fc.integer({ min: -5, max: 1_000_000_000 })) }) },
      { weight: 4, arbitrary: fc.record({ values: fc.uniqueArray(value, { minLength: 1, maxLength: 4, selector: (v) => JSON.stringify(v) }) }) },
      { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('uniform', 'values', 'normal'), value, { maxKeys: 2 }) },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(path, distribution, { minKeys: 1, maxKeys: 2 }),
        fc.constantFrom('grid', 'grid', 'random', 'random', 'tpe', 'tpe', 'bayes'),
        fc.option(fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: 12 }) }, { weight: 1, arbitrary: fc.integer({ min: -1, max: 300 }) }), { nil: undefined }),
        fc.option(fc.record({ type: fc.constantFrom('asha', 'median', 'asha', 'median', 'x'), minEpochs: fc.integer({ min: 1, max: 3 }) }), { nil: undefined }),
        async (space, algorithm, maxTrials, earlyStopping) => {
          const res = await post({
            ...sweepBody({ space, algorithm, parallelism: 1 }),
            ...(maxTrials === undefined ? {} : { maxTrials }),
            ...(earlyStopping ? { earlyStopping } : {}),
          });
          expect(res.status, JSON.stringify(res.body)).toBeLessThan(500);
          if (res.status !== 202) expect(res.body.detail).toEqual(expect.any(String));
        },
      ),
      { numRuns: 200, seed: 16 },
    );
    expect((await t.http.get('/healthz')).status).toBe(200);
  });
});
