import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { jobBody } from '../helpers/app.js';
import { useAppWithWorker } from '../helpers/use-app.js';
import { loadMnist } from '../../src/data/mnist.dataset.js';
import { createJob } from '../../src/storage/jobs.repository.js';
import { enqueueTraining } from '../../src/queue/train-queue.js';
import type { ModelSpec } from '../../src/model-spec/index.js';
import { MNIST_CONTENT_HASH } from '../../src/data/datasets.js';
import { waitForJob } from '../helpers/wait-for-job.js';
import { binaryBody } from '../helpers/response-body.js';
import { storedJobFields } from '../helpers/job-row.js';

const { t, worker } = useAppWithWorker();

describe('the core loop: submit, train in a worker, poll, predict', () => {
  let job: any;

  beforeAll(async () => {
    const submitted = await t.http.post('/v1/jobs').send(jobBody({ training: { epochs: 3, batchSize: 32, learningRate: 0.01, seed: 3 }, dataset: { id: 'mnist', limit: 600 } }));
    expect(submitted.status).toBe(202);
    job = await waitForJob(t.http, submitted.body.id, { timeoutMs: 100_000 });
  });

  it('finishes succeeded with progress, engine, split and test accuracy', () => {
    expect(job.error).toBeNull();
    expect(job.status).toBe('succeeded');
    expect(job.progress).toMatchObject({ epoch: 3, epochs: 3, percent: 100, batchesPerEpoch: Math.ceil(480 / 32) });
    expect(job.engine.name).toBe(worker.engine.name);
    expect(job.split).toEqual({ train: 480, validation: 60, test: 60, seed: 3 });
    expect(job.attempts).toBe(1);
    expect(job.test.accuracy).toBeGreaterThan(0.3);
    expect(job.modelId).toEqual(expect.any(String));
    expect(job.links.predict).toBe(`/v1/models/${job.modelId}/predict`);
    expect(new Date(job.finishedAt).getTime()).toBeGreaterThanOrEqual(new Date(job.startedAt).getTime());
  });

  it('stored one metrics row per epoch', async () => {
    const res = await t.http.get(`/v1/jobs/${job.id}/metrics`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((m: { epoch: number }) => m.epoch)).toEqual([1, 2, 3]);
    for (const m of res.body.items) {
      expect(m.loss).toBeGreaterThan(0);
      expect(m.accuracy).toBeGreaterThanOrEqual(0);
      expect(m.valLoss).toBeGreaterThan(0);
      expect(m.valAccuracy).toBeGreaterThanOrEqual(0);
      expect(m.samplesPerSec).toBeGreaterThan(0);
      expect(m.durationMs).toBeGreaterThan(0);
    }
    expect(res.body.items[2].loss).toBeLessThan(res.body.items[0].loss);
    expect(job.metrics.epoch).toBe(3);
  });

  it('describes the model and serves its artifact in the tfjs format', async () => {
    const model = await t.http.get(`/v1/models/${job.modelId}`);
    expect(model.status).toBe(200);
    expect(model.body).toMatchObject({ id: job.modelId, jobId: job.id, inputShape: [28, 28, 1], numClasses: 10, preprocessing: { outputs: 'probabilities' } });
    expect(model.body.metrics.testAccuracy).toBe(job.test.accuracy);
    const redirect = await t.http.get(`/v1/models/${job.modelId}/artifact`);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe(`/v1/models/${job.modelId}/artifact/model.json`);
    const json = await t.http.get(redirect.headers.location);
    expect(json.body.format).toBe('layers-model');
    const weights = await t.http.get(`/v1/models/${job.modelId}/artifact/weights.bin`).buffer(true).parse(binaryBody);
    const params = json.body.weightsManifest[0].weights.reduce((n: number, w: { shape: number[] }) => n + w.shape.reduce((a, b) => a * b, 1), 0);
    expect(params).toBe(job.plan.totalParams);
    expect((weights.body as Buffer).byteLength).toBe(params * 4);
    // Stock tfjs loads it from memory exactly as written.
    const loaded = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.body.modelTopology, weightSpecs: json.body.weightsManifest[0].weights, weightData: new Uint8Array(weights.body).buffer }),
    );
    expect(loaded.outputs[0].shape).toEqual([null, 10]);
    loaded.dispose();
  });

  it('predicts real digits: probability vectors, mostly right', async () => {
    const digits = await loadMnist();
    // Examples far past the job's limit of 600: the model never saw them.
    const rows = Array.from({ length: 50 }, (_, i) => 9000 + i);
    const instances = rows.map((r) => Array.from(digits.x.subarray(r * 784, (r + 1) * 784)));
    const res = await t.http.post(`/v1/models/${job.modelId}/predict`).send({ instances });
    expect(res.status).toBe(200);
    expect(res.body.predictions).toHaveLength(50);
    for (const p of res.body.predictions) {
      expect(p).toHaveLength(10);
      expect(p.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 4);
      for (const v of p) expect(v).toBeGreaterThanOrEqual(0);
    }
    const correct = res.body.classes.filter((c: number, i: number) => c === digits.y[rows[i]]).length;
    expect(correct).toBeGreaterThan(15);
    expect(res.body.labels[0]).toBe(String(res.body.classes[0]));
    // The nested form gives the same answer as the flat one.
    const nested = instances[0].reduce<number[][][]>((acc, v, i) => {
      if (i % 28 === 0) acc.push([]);
      acc[acc.length - 1].push([v]);
      return acc;
    }, []);
    const again = await t.http.post(`/v1/models/${job.modelId}/predict`).send({ instances: [nested] });
    expect(again.body.predictions[0]).toEqual(res.body.predictions[0]);
  });

  it.each([
    [{ instances: [[1, 2, 3]] }, /instances\[0\] must have the input shape \[28, 28, 1\] or be a flat list of 784 numbers, got a list of 3/],
    [{ instances: [Array(784).fill('x')] }, /instances\[0\]\[0\] must be a finite number, got the string "x"/],
    [{ instances: [] }, /instances must have at least 1 item, got \[\]/],
    [{ inputs: [] }, /instances is required/],
  ])('rejects predict body %#', async (body, detail) => {
    const res = await t.http.post(`/v1/models/${job.modelId}/predict`).send(body);
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(detail);
  });

  it('rejects too many instances and unknown models', async () => {
    const many = Array.from({ length: t.config.PREDICT_MAX_INSTANCES + 1 }, () => [0]);
    const res = await t.http.post(`/v1/models/${job.modelId}/predict`).send({ instances: many });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(new RegExp(`instances has ${many.length} items; at most ${t.config.PREDICT_MAX_INSTANCES}`));
    const missing = '00000000-0000-4000-8000-000000000001';
    const unknown = await t.http.post(`/v1/models/${missing}/predict`).send({ instances: [[0]] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.detail).toBe(`model '${missing}' does not exist`);
    expect((await t.http.get(`/v1/models/${missing}`)).status).toBe(404);
    expect((await t.http.get(`/v1/models/${missing}/artifact`)).status).toBe(404);
  });

  it('ran every prediction on the compute threads, through the batcher', async () => {
    const stats = t.app.services.serving.stats();
    // 50 + 1 instances above, each request a batch of its own or merged with others.
    expect(stats.instances).toBeGreaterThanOrEqual(51);
    expect(stats.batches).toBeGreaterThanOrEqual(1);
    expect(stats.batches).toBeLessThanOrEqual(stats.requests);
    expect(stats.waiting).toBe(0);
  });

  it('lists the model', async () => {
    const res = await t.http.get('/v1/models');
    expect(res.body.items.map((m: { id: string }) => m.id)).toEqual([job.modelId]);
  });
});

describe('a job that can never train', () => {
  it('fails at once with an error a user can act on, without retries', async () => {
    // The API never stores an invalid spec; a row written behind its back (or by an older version) is the
    // way to reach the worker with one.
    const body = jobBody();
    const model = { ...body.model, layers: [{ type: 'conv2d', filters: 4, kernelSize: 40 }, ...body.model.layers.slice(1)] };
    const fields = storedJobFields(body.model, body.training, body.dataset);
    const row = await createJob(t.app.services.db, {
      tenantId: t.tenant,
      name: 'broken',
      ...fields,
      spec: { ...fields.spec, model: model as ModelSpec },
      queueName: t.config.QUEUE_NAME,
    });
    await enqueueTraining(t.app.services.queue, { jobId: row.id, tenantId: t.tenant });
    const submitted = { body: { id: row.id } };

    const job = await waitForJob(t.http, submitted.body.id, { timeoutMs: 100_000 });
    expect(job.status).toBe('failed');
    expect(job.error.code).toBe('invalid-spec');
    expect(job.error.message).toMatch(/layer 0 \(conv2d\): kernel 40x40 with padding 'valid' does not fit a 28x28 input/);
    expect(job.attempts).toBe(1);
    expect(job.modelId).toBeNull();
    const queued = await t.app.services.queue.getJob(`train-${job.id}`);
    expect(queued?.attemptsMade).toBe(1);
    expect(await queued?.getState()).toBe('failed');
  });
});

describe("the server's default wall-time limit", () => {
  it('fails a job that runs past it with timeout, the limit stored in ms on its row at submission', async () => {
    // As POST /v1/jobs stores it when the job sets no limit of its own: JOB_MAX_WALL_TIME_SECONDS x 1000.
    const body = jobBody({ training: { epochs: 200, batchSize: 16, learningRate: 0.01, seed: 5 }, dataset: { id: 'mnist', limit: 600 } });
    const row = await createJob(t.app.services.db, {
      tenantId: t.tenant,
      name: 'slow',
      ...storedJobFields(body.model, body.training, body.dataset),
      queueName: t.config.QUEUE_NAME,
      maxWallTimeMs: 1000,
    });
    await enqueueTraining(t.app.services.queue, { jobId: row.id, tenantId: t.tenant });
    const job = await waitForJob(t.http, row.id, { timeoutMs: 100_000 });
    expect(job.status).toBe('failed');
    expect(job.error.code).toBe('timeout');
    expect(job.error.message).toMatch(/wall-time limit of 1 s/);
    expect(job.progress.epoch).toBeLessThan(200);
  });
});

describe('tenant isolation across the whole API', () => {
  it("answers 404 to another tenant on every route of the OpenAPI document that names one of this tenant's resources", async () => {
    const { readFile } = await import('node:fs/promises');
    const { parse } = await import('yaml');
    const doc = parse(await readFile(new URL('../../openapi.yaml', import.meta.url), 'utf8'));
    const [{ body: jobs }, { body: models }] = await Promise.all([t.http.get('/v1/jobs'), t.http.get('/v1/models')]);
    const job = jobs.items.find((j: { modelId: string | null }) => j.modelId);
    expect(job, 'a trained job of this tenant').toBeDefined();
    const other = await t.otherTenant();
    let checked = 0;
    // A registered model, version and alias of this tenant for the registry's routes.
    expect((await t.http.post('/v1/registered-models/walk/versions').send({ modelId: job.modelId })).status).toBe(201);
    expect((await t.http.put('/v1/registered-models/walk/aliases/production').send({ version: 1 })).status).toBe(200);
    // A webhook endpoint of this tenant (a public address literal: nothing is resolved or sent here).
    const hook = await t.http.post('/v1/webhooks').send({ url: 'https://93.184.216.34/hooks/trainyard', events: ['job.succeeded'] });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    const params: Record<string, string> = { name: 'walk', version: '1', alias: 'production' };
    const bodies: Record<string, object> = {
      'post /v1/registered-models/{name}/versions': { modelId: job.modelId },
      'put /v1/registered-models/{name}/aliases/{alias}': { version: 1 },
    };
    const zeros = Array(784).fill(0);
    const bodyFor = (method: string, path: string) =>
      bodies[`${method} ${path}`] ??
      (path.endsWith(':predict') ? { instances: [zeros] } : path.endsWith('/infer') ? { inputs: [{ name: 'input', shape: [1, 784], datatype: 'FP32', data: zeros }] } : undefined);
    // The serving protocols' model routes act for a tenant too; their health and server metadata are open.
    const protectedPath = (path: string) =>
      (path.startsWith('/v1/') && !path.startsWith('/v1/admin/') && !path.startsWith('/v1/datasets')) || path.startsWith('/tfserving/') || path.startsWith('/v2/models');
    for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      if (!protectedPath(path)) continue;
      for (const method of Object.keys(operations)) {
        if (path.includes('{id}')) {
          const id = path.startsWith('/v1/jobs') ? job.id : path.startsWith('/v1/webhooks') ? hook.body.id : job.modelId;
          // A delivery id that exists nowhere: the endpoint's id is what must not leak.
          const url = path.replace('{id}', id).replace('{deliveryId}', randomUUID());
          const body = method === 'post' ? (path.endsWith('/predict') ? { instances: [Array(784).fill(0)] } : {}) : method === 'patch' ? { events: ['job.failed'] } : undefined;
          const res = await (other.http as any)[method](url).send(body);
          expect(res.status, `${method.toUpperCase()} ${url} as another tenant`).toBe(404);
          checked++;
        } else if (path.includes('{')) {
          const url = path.replace(/\{(\w+)\}/g, (_, p: string) => params[p] ?? `{${p}}`);
          const res = await (other.http as any)[method](url).send(bodyFor(method, path));
          expect(res.status, `${method.toUpperCase()} ${url} as another tenant`).toBe(404);
          checked++;
        } else if (method === 'get') {
          const res = await other.http.get(path);
          expect(res.status, `GET ${path} as another tenant`).toBe(200);
          // Workers are shared by all tenants, but never show another tenant's job ids.
          if (path === '/v1/workers') for (const w of res.body.items) expect(w.activeJobIds).toEqual([]);
          else expect(res.body.items, `GET ${path} as another tenant`).toEqual([]);
          checked++;
        }
      }
    }
    // 11 routes of jobs and models, 8 of the registry, 9 of TF Serving, 6 of KServe.
    expect(checked).toBeGreaterThanOrEqual(34);
    expect(models.items.length).toBeGreaterThan(0);
  });
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

    const job = await waitForJob(t.http, submitted.body.id, { timeoutMs: 100_000 });
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
