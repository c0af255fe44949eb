import { createHash, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { jobBody, SMALL_CNN } from '../helpers/app.js';
import { useFreshTestApp } from '../helpers/use-app.js';
import { storedJobFields } from '../helpers/job-row.js';
import { createJob, markRunning } from '../../src/storage/jobs.repository.js';
import { completeJobWithModel } from '../../src/storage/models.repository.js';
import { createDataset } from '../../src/storage/datasets.repository.js';
import { listModelVersions, resolveModelVersion } from '../../src/storage/registry.repository.js';
import { MNIST_CONTENT_HASH } from '../../src/data/datasets.js';
import type { Db } from '../../src/storage/prisma.js';

/**
 * The model registry against the real database. Trained models are made
 * through the storage repositories (a job, claimed, then completed with its
 * model row), so no training runs here.
 */
const t = useFreshTestApp();

const ENGINE = { name: 'wasm', version: '4.22.0', simd: true };
const TRAINING = { optimizer: 'adam', learningRate: 0.01, epochs: 1, batchSize: 32, seed: 7 };
const METRICS = { epochs: 1, loss: 0.9, accuracy: 0.7, valLoss: 1.1, valAccuracy: 0.65, testLoss: 1.2, testAccuracy: 0.6 };

/** A succeeded job and its trained model, optionally registered as the next version of `register` on completion. */
async function trainedModel(db: Db, tenantId: string, options: { datasetId?: string; register?: { name: string; datasetContentHash: string | null } } = {}) {
  const datasetId = options.datasetId ?? 'mnist';
  const job = await createJob(db, {
    tenantId,
    name: 'made-in-test',
    ...storedJobFields(SMALL_CNN, TRAINING, { id: datasetId, limit: 200 }),
    queueName: 'not-queued',
    registerName: options.register?.name ?? null,
  });
  const claim = await markRunning(db, job.id, { engine: ENGINE, maxRunning: async () => 1000 });
  expect('claimed' in claim).toBe(true);
  const id = randomUUID();
  const model = await completeJobWithModel(
    db,
    {
      id,
      tenantId,
      jobId: job.id,
      name: null,
      inputShape: [28, 28, 1],
      numClasses: 10,
      classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      spec: SMALL_CNN,
      metrics: METRICS,
      preprocessing: { inputShape: [28, 28, 1], valueRange: [0, 1], outputs: 'probabilities' },
      artifactKey: `models/${id}`,
      sizeBytes: 1234,
      engine: ENGINE,
    },
    { testLoss: METRICS.testLoss, testAccuracy: METRICS.testAccuracy },
    options.register,
  );
  return model!;
}

const modelOf = () => trainedModel(t.app.services.db, t.tenant);
const register = (name: string, modelId: string, http = t.http) => http.post(`/v1/registered-models/${name}/versions`).send({ modelId });

describe('versions', () => {
  it('numbers versions 1, 2, 3 and never reuses a number after a delete', async () => {
    const models = [await modelOf(), await modelOf(), await modelOf()];
    for (const [i, m] of models.entries()) {
      const res = await register('digits', m.id);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ name: 'digits', version: i + 1, modelId: m.id, aliases: [] });
      expect(res.headers.location).toBe(`/v1/registered-models/digits/versions/${i + 1}`);
    }
    expect((await t.http.delete('/v1/registered-models/digits/versions/3')).status).toBe(204);
    expect((await t.http.get('/v1/registered-models/digits/versions/3')).status).toBe(404);
    const next = await register('digits', models[2].id);
    expect(next.status).toBe(201);
    expect(next.body.version).toBe(4);

    const detail = await t.http.get('/v1/registered-models/digits');
    expect(detail.status).toBe(200);
    expect(detail.body.versions.map((v: { version: number }) => v.version)).toEqual([1, 2, 4]);
    expect(detail.body.lastVersion).toBe(4);
  });

  it('gives concurrent registrations distinct numbers', async () => {
    const models = await Promise.all(Array.from({ length: 8 }, () => modelOf()));
    const results = await Promise.all(models.map((m) => register('busy', m.id)));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(201));
    expect(results.map((r) => r.body.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const byModel = new Map(results.map((r) => [r.body.modelId, r.body.version]));
    expect(byModel.size).toBe(8);
  });

  it('registers one model at most once per name: 409 naming the version, even when both requests race', async () => {
    const [a, b] = [await modelOf(), await modelOf()];
    expect((await register('digits', a.id)).status).toBe(201);
    const again = await register('digits', a.id);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'already-registered', name: 'digits', version: 1 });
    expect(again.body.detail).toBe(`model ${a.id} is already version 1 of registered model 'digits'`);

    const raced = await Promise.all([register('raced', b.id), register('raced', b.id)]);
    expect(raced.map((r) => r.status).sort()).toEqual([201, 409]);
    // The loser did not use up a number.
    expect((await register('raced', a.id)).body.version).toBe(2);
    // The same model under another name is fine.
    expect((await register('digits-v2', a.id)).status).toBe(201);
  });

  it('lists registered models with their latest version and aliases, page by page', async () => {
    const [a, b, c] = [await modelOf(), await modelOf(), await modelOf()];
    await register('beta', a.id);
    await register('alpha', b.id);
    await register('alpha', c.id);
    await t.http.put('/v1/registered-models/alpha/aliases/production').send({ version: 1 });
    const first = await t.http.get('/v1/registered-models?limit=1');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(1);
    expect(first.body.items[0]).toMatchObject({
      name: 'alpha',
      versionCount: 2,
      lastVersion: 2,
      latest: { version: 2, modelId: c.id },
      aliases: [{ alias: 'production', version: 1 }],
      links: { self: '/v1/registered-models/alpha' },
    });
    expect(first.body.nextCursor).toBe('alpha');
    const second = await t.http.get(`/v1/registered-models?limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((m: { name: string }) => m.name)).toEqual(['beta']);
    expect(second.body.nextCursor).toBeNull();
  });

  it('keeps a registered model whose versions were all deleted, with no latest version', async () => {
    const m = await modelOf();
    await register('empty', m.id);
    expect((await t.http.delete('/v1/registered-models/empty/versions/1')).status).toBe(204);
    const list = await t.http.get('/v1/registered-models');
    expect(list.body.items[0]).toMatchObject({ name: 'empty', versionCount: 0, lastVersion: 1, latest: null });
    expect((await register('empty', m.id)).body.version).toBe(2);
  });
});

describe('lineage', () => {
  it('records job, spec hash, dataset and its content hash, hyperparameters, metrics, engine and model time', async () => {
    const m = await modelOf();
    const res = await register('digits', m.id);
    const sorted = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(sorted)
        : v && typeof v === 'object'
          ? Object.fromEntries(
              Object.entries(v)
                .sort(([x], [y]) => (x < y ? -1 : 1))
                .map(([k, x]) => [k, sorted(x)]),
            )
          : v;
    const expectedHash = createHash('sha256')
      .update(JSON.stringify(sorted(SMALL_CNN)))
      .digest('hex');
    expect(res.body.lineage).toEqual({
      jobId: m.jobId,
      specHash: expectedHash,
      datasetId: 'mnist',
      datasetLimit: 200,
      datasetContentHash: MNIST_CONTENT_HASH,
      // The job's training as stored: every default filled in, the loss its softmax output implies.
      hyperparameters: { ...TRAINING, momentum: 0.9, validationSplit: 0.1, testSplit: 0.1, normalization: 'scale', loss: 'categoricalCrossentropy' },
      metrics: METRICS,
      engine: ENGINE,
      modelCreatedAt: m.createdAt.toISOString(),
    });
    const version = await t.http.get('/v1/registered-models/digits/versions/1');
    expect(version.body.lineage).toEqual(res.body.lineage);
    expect(version.body.links).toEqual({ self: '/v1/registered-models/digits/versions/1', model: `/v1/models/${m.id}` });
  });

  it("uses an uploaded dataset's content hash", async () => {
    const db = t.app.services.db;
    const contentHash = 'c'.repeat(64);
    const dataset = await createDataset(db, {
      tenantId: t.tenant,
      name: 'uploaded',
      format: 'csv',
      examples: 300,
      inputShape: [28, 28, 1],
      numClasses: 10,
      classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
      dtype: 'float32',
      stats: { perClassCounts: Array(10).fill(30), min: 0, max: 1, mean: [0.1], std: [0.3] },
      options: {},
      uploadBytes: 1,
      sizeBytes: 1,
      contentHash,
      storageKey: `datasets/${randomUUID()}`,
    });
    const m = await trainedModel(db, t.tenant, { datasetId: dataset.id });
    const res = await register('uploaded', m.id);
    expect(res.body.lineage).toMatchObject({ datasetId: dataset.id, datasetContentHash: contentHash });
  });

  it('checks the stored lineage when reading it: a row that does not match its schema is a 500, never passed on', async () => {
    const m = await modelOf();
    await register('digits', m.id);
    await t.app.services.db.modelVersion.updateMany({ where: { modelId: m.id }, data: { lineage: { jobId: 'not-a-uuid' } } });
    const res = await t.http.get('/v1/registered-models/digits/versions/1');
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ code: 'internal' });
    expect(JSON.stringify(res.body)).not.toContain('not-a-uuid');
  });
});

describe('aliases', () => {
  it('sets, moves and deletes an alias; the versions show it', async () => {
    const [a, b] = [await modelOf(), await modelOf()];
    await register('digits', a.id);
    await register('digits', b.id);
    const set = await t.http.put('/v1/registered-models/digits/aliases/production').send({ version: 1 });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ name: 'digits', alias: 'production', version: 1, previousVersion: null, links: { version: '/v1/registered-models/digits/versions/1' } });
    const moved = await t.http.put('/v1/registered-models/digits/aliases/production').send({ version: 2 });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ version: 2, previousVersion: 1 });
    const detail = await t.http.get('/v1/registered-models/digits');
    expect(detail.body.aliases).toEqual([{ alias: 'production', version: 2 }]);
    expect(detail.body.versions.map((v: { aliases: string[] }) => v.aliases)).toEqual([[], ['production']]);

    expect((await t.http.delete('/v1/registered-models/digits/aliases/production')).status).toBe(204);
    const gone = await t.http.delete('/v1/registered-models/digits/aliases/production');
    expect(gone.status).toBe(404);
    expect(gone.body.detail).toBe("registered model 'digits' has no alias 'production'");
    expect((await t.http.get('/v1/registered-models/digits')).body.aliases).toEqual([]);
  });

  it('refuses an alias to a version that does not exist (404)', async () => {
    await register('digits', (await modelOf()).id);
    const res = await t.http.put('/v1/registered-models/digits/aliases/staging').send({ version: 7 });
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'not-found', detail: "registered model 'digits' has no version 7" });
    const noName = await t.http.put('/v1/registered-models/nothing/aliases/staging').send({ version: 1 });
    expect(noName.status).toBe(404);
    expect(noName.body.detail).toBe("registered model 'nothing' does not exist");
  });

  it('refuses to delete a version an alias points at, with a 409 naming the aliases', async () => {
    const [a, b] = [await modelOf(), await modelOf()];
    await register('digits', a.id);
    await register('digits', b.id);
    await t.http.put('/v1/registered-models/digits/aliases/production').send({ version: 1 });
    await t.http.put('/v1/registered-models/digits/aliases/canary').send({ version: 1 });
    const res = await t.http.delete('/v1/registered-models/digits/versions/1');
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ code: 'version-has-aliases', name: 'digits', version: 1, aliases: ['canary', 'production'] });
    expect(res.body.detail).toMatch(/^version 1 of registered model 'digits' is what aliases 'canary', 'production' point at; move or delete the alias first/);
    expect((await t.http.get('/v1/registered-models/digits/versions/1')).status).toBe(200);

    await t.http.put('/v1/registered-models/digits/aliases/production').send({ version: 2 });
    const one = await t.http.delete('/v1/registered-models/digits/versions/1');
    expect(one.status).toBe(409);
    expect(one.body.aliases).toEqual(['canary']);
    await t.http.delete('/v1/registered-models/digits/aliases/canary');
    expect((await t.http.delete('/v1/registered-models/digits/versions/1')).status).toBe(204);
  });
});

describe('misses and bad input', () => {
  it('answers 404 for unknown names, versions and models', async () => {
    const m = await modelOf();
    await register('digits', m.id);
    const unknownModel = randomUUID();
    const cases: [string, string, object | undefined, string][] = [
      ['get', '/v1/registered-models/nothing', undefined, "registered model 'nothing' does not exist"],
      ['get', '/v1/registered-models/nothing/versions/1', undefined, "registered model 'nothing' does not exist"],
      ['get', '/v1/registered-models/digits/versions/2', undefined, "registered model 'digits' has no version 2"],
      ['delete', '/v1/registered-models/digits/versions/2', undefined, "registered model 'digits' has no version 2"],
      ['delete', '/v1/registered-models/nothing/versions/1', undefined, "registered model 'nothing' does not exist"],
      ['delete', '/v1/registered-models/nothing/aliases/production', undefined, "registered model 'nothing' does not exist"],
      ['post', '/v1/registered-models/digits/versions', { modelId: unknownModel }, `model '${unknownModel}' does not exist`],
    ];
    for (const [method, url, body, detail] of cases) {
      const res = await (t.http as any)[method](url).send(body);
      expect(res.status, `${method} ${url}`).toBe(404);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body).toMatchObject({ code: 'not-found', detail, instance: url });
    }
    // A failed registration does not create the name.
    expect((await register('never', unknownModel)).status).toBe(404);
    expect((await t.http.get('/v1/registered-models/never')).status).toBe(404);
  });

  it.each([
    ['a:b', 'a:b'],
    ['a%2Fb', 'a/b'],
    ['-lead', '-lead'],
    ['.hidden', '.hidden'],
    ['caf%C3%A9', 'café'],
  ])('rejects the name %s with a 400 naming it and the rule', async (inUrl, name) => {
    const m = await modelOf();
    const res = await register(inUrl, m.id);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid-request');
    expect(res.body.errors[0].field).toBe('path.name');
    expect(res.body.detail).toBe(`path.name must be 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit, got ${JSON.stringify(name)}`);
  });

  it('accepts names with letters, digits, dots, dashes and underscores', async () => {
    for (const name of ['Digits.v2_final-1', '7up', 'x'.repeat(100)]) expect((await register(name, (await modelOf()).id)).status, name).toBe(201);
  });

  // Fastify's router answers 414 to path parameters over `maxParamLength` (default 100) before any route runs.
  it('accepts 128-character names in URLs', async () => {
    expect((await register('x'.repeat(128), (await modelOf()).id)).status).toBe(201);
  });

  it.each([
    ['latest', /not 'latest' \(which always means the highest version\)/],
    ['123', /starting with a letter/],
    ['Production', /lowercase/],
    ['a'.repeat(64), /1 to 63/],
    ['prod.1', /'_' or '-'/],
  ])('rejects the alias %s with a 400 naming it and the rule', async (alias, rule) => {
    await register('digits', (await modelOf()).id);
    for (const res of [
      await t.http.put(`/v1/registered-models/digits/aliases/${alias}`).send({ version: 1 }),
      await t.http.delete(`/v1/registered-models/digits/aliases/${alias}`),
    ]) {
      expect(res.status).toBe(400);
      expect(res.body.errors[0].field).toBe('path.alias');
      expect(res.body.detail).toMatch(/^path\.alias must be 1 to 63 lowercase letters/);
      expect(res.body.detail).toMatch(rule);
    }
  });

  it.each([
    ['post', '/v1/registered-models/digits/versions', { modelId: 'not-a-uuid' }, 'modelId', /modelId must be a UUID, got "not-a-uuid"/],
    ['post', '/v1/registered-models/digits/versions', { modelId: randomUUID(), extra: 1 }, 'extra', /extra is not an allowed field; allowed fields: modelId/],
    ['put', '/v1/registered-models/digits/aliases/prod', { version: 0 }, 'version', /version must be an integer from 1 to 2147483647, got 0/],
    ['put', '/v1/registered-models/digits/aliases/prod', { version: '1' }, 'version', /version must be an integer/],
    ['get', '/v1/registered-models/digits/versions/abc', undefined, 'path.version', /path\.version must be an integer from 1 to 2147483647, got "abc"/],
    ['get', '/v1/registered-models/digits/versions/0', undefined, 'path.version', /path\.version must be an integer from 1 to 2147483647/],
  ])('rejects %s %s %j with a 400 naming %s', async (method, url, body, field, detail) => {
    const res = await (t.http as any)[method](url).send(body);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe(field);
    expect(res.body.detail).toMatch(detail);
  });
});

describe('tenant isolation', () => {
  it("never shows or touches another tenant's registered models (404), and names are per tenant", async () => {
    const m = await modelOf();
    await register('digits', m.id);
    await t.http.put('/v1/registered-models/digits/aliases/production').send({ version: 1 });
    const other = await t.otherTenant();
    expect((await other.http.get('/v1/registered-models')).body.items).toEqual([]);
    for (const [method, url, body] of [
      ['get', '/v1/registered-models/digits', undefined],
      ['get', '/v1/registered-models/digits/versions/1', undefined],
      ['put', '/v1/registered-models/digits/aliases/production', { version: 1 }],
      ['delete', '/v1/registered-models/digits/aliases/production', undefined],
      ['delete', '/v1/registered-models/digits/versions/1', undefined],
      // Registering this tenant's model, under its name or a new one.
      ['post', '/v1/registered-models/digits/versions', { modelId: m.id }],
      ['post', '/v1/registered-models/stolen/versions', { modelId: m.id }],
    ] as const) {
      const res = await (other.http as any)[method](url).send(body);
      expect(res.status, `${method} ${url} as another tenant`).toBe(404);
    }
    // Nothing changed for the owner.
    const mine = await t.http.get('/v1/registered-models/digits');
    expect(mine.body).toMatchObject({ lastVersion: 1, aliases: [{ alias: 'production', version: 1 }] });

    // The other tenant's own 'digits' starts at version 1.
    const theirs = await trainedModel(t.app.services.db, other.tenant);
    const res = await register('digits', theirs.id, other.http);
    expect(res.status).toBe(201);
    expect(res.body.version).toBe(1);
    expect((await t.http.get('/v1/registered-models/digits')).body.versions.map((v: { modelId: string }) => v.modelId)).toEqual([m.id]);
  });
});

describe('resolveModelVersion and listModelVersions (for serving)', () => {
  it('resolves by version, alias, latest, and answers null for misses and other tenants', async () => {
    const db = t.app.services.db;
    const [a, b, c] = [await modelOf(), await modelOf(), await modelOf()];
    for (const m of [a, b, c]) await register('digits', m.id);
    await t.http.put('/v1/registered-models/digits/aliases/production').send({ version: 2 });

    const resolve = (selector: { version?: number; alias?: string }, tenant = t.tenant, name = 'digits') => resolveModelVersion(db, tenant, name, selector);
    expect(await resolve({})).toMatchObject({ name: 'digits', version: 3, model: { id: c.id, tenantId: t.tenant } });
    expect((await resolve({ version: 1 }))?.model.id).toBe(a.id);
    expect((await resolve({ alias: 'production' }))?.model.id).toBe(b.id);
    expect((await resolve({ alias: 'latest' }))?.version).toBe(3);
    expect((await resolve({ version: 2, alias: 'production' }))?.version).toBe(2);
    expect(await resolve({ version: 1, alias: 'production' })).toBeNull();
    expect(await resolve({ version: 9 })).toBeNull();
    expect(await resolve({ version: 0 })).toBeNull();
    expect(await resolve({ version: 2 ** 40 })).toBeNull();
    expect(await resolve({ alias: 'staging' })).toBeNull();
    expect(await resolve({}, t.tenant, 'nothing')).toBeNull();
    expect(await resolve({}, 'someone-else')).toBeNull();

    const all = await listModelVersions(db, t.tenant, 'digits');
    expect(all?.map((v) => [v.version, v.model.id])).toEqual([
      [1, a.id],
      [2, b.id],
      [3, c.id],
    ]);
    expect(await listModelVersions(db, t.tenant, 'nothing')).toBeNull();
    expect(await listModelVersions(db, 'someone-else', 'digits')).toBeNull();

    await t.http.delete('/v1/registered-models/digits/versions/3');
    expect((await resolve({}))?.version).toBe(2);
  });
});

describe('registering at submission', () => {
  it('validates register.name with the same rule (400)', async () => {
    const res = await t.http.post('/v1/jobs').send(jobBody({ register: { name: 'digits:v1' } }));
    expect(res.status).toBe(400);
    expect(res.body.errors[0].field).toBe('register.name');
    expect(res.body.detail).toMatch(/register\.name must be 1 to 128 letters, digits, '\.', '_' or '-', starting with a letter or digit, got "digits:v1"/);
    const long = await t.http.post('/v1/jobs').send(jobBody({ register: { name: 'x'.repeat(129) } }));
    expect(long.status).toBe(400);
    expect(long.body.errors[0].field).toBe('register.name');
    const extra = await t.http.post('/v1/jobs').send(jobBody({ register: { name: 'digits', alias: 'production' } }));
    expect(extra.status).toBe(400);
    expect(extra.body.errors[0].field).toBe('register.alias');
  });

  it('stores the request with the job and shows registeredAs once the job succeeded', async () => {
    const db = t.app.services.db;
    const submitted = await t.http.post('/v1/jobs').send(jobBody({ register: { name: 'digits' } }));
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({ register: { name: 'digits' }, registeredAs: null });
    const stored = await db.job.findUniqueOrThrow({ where: { id: submitted.body.id } });
    expect(stored.registerName).toBe('digits');
    expect((await t.http.get(`/v1/jobs/${submitted.body.id}`)).body.registeredAs).toBeNull();

    // What the worker does at the end of a job: model row, succeeded and registration in one transaction.
    const first = await trainedModel(db, t.tenant, { register: { name: 'digits', datasetContentHash: MNIST_CONTENT_HASH } });
    expect(first.registeredAs).toEqual({ name: 'digits', version: 1 });
    const second = await trainedModel(db, t.tenant, { register: { name: 'digits', datasetContentHash: MNIST_CONTENT_HASH } });
    const job = await t.http.get(`/v1/jobs/${second.jobId}`);
    expect(job.body).toMatchObject({ status: 'succeeded', modelId: second.id, register: { name: 'digits' }, registeredAs: { name: 'digits', version: 2 } });
    expect(job.body.history.at(-1)).toMatchObject({ status: 'succeeded', registeredAs: { name: 'digits', version: 2 } });
    const version = await t.http.get('/v1/registered-models/digits/versions/2');
    expect(version.body).toMatchObject({ modelId: second.id, lineage: { jobId: second.jobId, datasetContentHash: MNIST_CONTENT_HASH } });

    // Deleting the version clears registeredAs; the job list shows it too.
    await t.http.delete('/v1/registered-models/digits/versions/2');
    expect((await t.http.get(`/v1/jobs/${second.jobId}`)).body.registeredAs).toBeNull();
    const list = await t.http.get('/v1/jobs');
    expect(list.body.items.find((j: { id: string }) => j.id === first.jobId).registeredAs).toEqual({ name: 'digits', version: 1 });
  });
});
