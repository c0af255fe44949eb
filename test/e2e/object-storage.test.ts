import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, jobBody, type TestApp } from '../helpers/app.js';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process.js';
import { waitForJob } from '../helpers/wait-for-job.js';
import { waitFor } from '../helpers/wait-for.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import { storeModel } from '../helpers/served-model.js';
import { binaryBody } from '../helpers/response-body.js';
import { gzip, idxFile, mnistBytes } from '../data/fixtures.js';
import { artifactStoreFor } from '../../src/storage/artifact-store.js';
import { modelArtifactKey } from '../../src/storage/model-artifacts.js';

/**
 * Several hosts sharing nothing but PostgreSQL, Redis and an object store:
 * the worker runs as its own process without ARTIFACT_DIR, the API keeps
 * nothing on its disk, and the store is a real S3-protocol server.
 */
const PREFIX = 'trainyard';

async function mnistIdx(limit: number) {
  const { x, y } = await mnistBytes(limit);
  return { images: Buffer.from(gzip(idxFile(0x08, [limit, 28, 28], x))), labels: Buffer.from(idxFile(0x08, [limit], y)) };
}

function uploadIdx(t: TestApp, files: { images: Buffer; labels: Buffer }) {
  return t.http.post('/v1/datasets').field('format', 'idx').field('name', 'digits').attach('images', files.images, 'images.idx.gz').attach('labels', files.labels, 'labels.idx');
}

/** A fresh S3-protocol server with a bucket, and an app that keeps its artifacts and datasets there. */
async function appOnObjectStore() {
  const s3 = await startS3Server();
  const bucket = await s3.createBucket();
  const t = await createTestApp({ ...s3.storageConfig(bucket, PREFIX), COMPUTE_THREADS: 1 });
  return { s3, bucket, t };
}

/** No ARTIFACT_DIR at all: whatever the worker reads or writes must come from the bucket. */
const workerOnAnotherHost = (t: TestApp) => spawnWorker(t.config, { without: ['ARTIFACT_DIR'] });

describe('a worker on another host, with only the object store in common', () => {
  let s3: S3TestServer;
  let bucket: string;
  let t: TestApp;
  let worker: WorkerProcess;

  beforeAll(async () => {
    ({ s3, bucket, t } = await appOnObjectStore());
    worker = await workerOnAnotherHost(t);
  });
  afterAll(async () => {
    await worker?.stop();
    await t?.close();
    await s3?.close();
  });

  it('says at start which store it uses', () => {
    expect(worker.output()).toContain(`"storage":"s3://${bucket}/${PREFIX}/ at ${s3.endpoint}"`);
  });

  it('trains a job; the API serves predictions and the download from what the worker stored', async () => {
    const submitted = await t.http.post('/v1/jobs').send(jobBody({ training: { epochs: 2, batchSize: 32, learningRate: 0.01, seed: 3 }, dataset: { id: 'mnist', limit: 300 } }));
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
    const job = await waitForJob(t.http, submitted.body.id);
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');

    const keys = await s3.keys(bucket, `${PREFIX}/`);
    const model = `${PREFIX}/${modelArtifactKey(job.modelId)}/`;
    expect(keys).toContain(`${model}.manifest.json`);
    expect(keys.filter((k) => k.startsWith(model)).map((k) => k.split('/').pop())).toEqual(expect.arrayContaining(['model.json', 'weights.bin']));
    // Checkpoints were written each epoch and are removed once the model is
    // committed: just after the job reads 'succeeded', not before (a crash in
    // between must still find them).
    await waitFor(
      async () => (await s3.keys(bucket, `${PREFIX}/checkpoints/`)).length,
      (n) => n === 0,
      { timeoutMs: 30_000, what: 'checkpoints removed after the model was stored' },
    );

    const predicted = await t.http.post(`/v1/models/${job.modelId}/predict`).send({ instances: [Array(784).fill(0)] });
    expect(predicted.status, JSON.stringify(predicted.body)).toBe(200);
    expect(predicted.body.predictions[0]).toHaveLength(10);

    const weights = await t.http.get(`/v1/models/${job.modelId}/artifact/weights.bin`).buffer(true).parse(binaryBody);
    expect(weights.status).toBe(200);
    const stored = await artifactStoreFor(t.config).get(modelArtifactKey(job.modelId), 'weights.bin');
    expect((weights.body as Buffer).equals(stored!)).toBe(true);
  });

  it('stores an uploaded dataset in the bucket; the worker trains on it and the API previews it from there', async () => {
    const upload = await uploadIdx(t, await mnistIdx(400));
    expect(upload.status, JSON.stringify(upload.body)).toBe(201);
    const datasetId = upload.body.id as string;
    const files = (await s3.keys(bucket, `${PREFIX}/datasets/${datasetId}/`)).map((k) => k.split('/').pop());
    expect(files).toEqual(expect.arrayContaining(['.manifest.json', 'x.bin', 'y.bin']));

    const described = await t.http.get(`/v1/datasets/${datasetId}`);
    expect(described.status).toBe(200);
    expect(described.body.preview.thumbnails).toHaveLength(8);

    const submitted = await t.http.post('/v1/jobs').send(jobBody({ training: { epochs: 2, batchSize: 32, learningRate: 0.01, seed: 4 }, dataset: { id: datasetId, limit: 300 } }));
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
    const job = await waitForJob(t.http, submitted.body.id);
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.split.train + job.split.validation + job.split.test).toBe(300);
    const predicted = await t.http.post(`/v1/models/${job.modelId}/predict`).send({ instances: [Array(784).fill(128)] });
    expect(predicted.status, JSON.stringify(predicted.body)).toBe(200);
  });

  it("left nothing in the API's ARTIFACT_DIR", () => {
    expect(readdirSync(t.config.ARTIFACT_DIR)).toEqual([]);
  });
});

describe('the object store going away', () => {
  let s3: S3TestServer;
  let bucket: string;
  let t: TestApp;
  let modelId: string;
  let datasetId: string;

  beforeAll(async () => {
    ({ s3, bucket, t } = await appOnObjectStore());
    ({ id: modelId } = await storeModel(t, { seed: 7 }));
    const upload = await uploadIdx(t, await mnistIdx(50));
    expect(upload.status, JSON.stringify(upload.body)).toBe(201);
    datasetId = upload.body.id;
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
  });

  function expectOutage(res: { status: number; headers: Record<string, string>; body: Record<string, unknown> }, what: string) {
    expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(503);
    expect(res.headers['retry-after'], what).toBe('5');
    expect(res.body, what).toMatchObject({ code: 'service-unavailable', dependency: 'object store', detail: 'object store is unreachable right now; retry in a few seconds' });
  }

  it('in the middle of a download: 503 naming the object store, with Retry-After; the same request works once it is back', async () => {
    const stopped = s3.stopOnNextRequest();
    const res = await t.http.get(`/v1/models/${modelId}/artifact/model.json`);
    await stopped;
    expectOutage(res, 'download');
    await s3.restart();
    expect((await t.http.get(`/v1/models/${modelId}/artifact/model.json`)).status).toBe(200);
  });

  it('in the middle of a predict that loads the model on a compute thread, and of a dataset preview', async () => {
    const stopped = s3.stopOnNextRequest();
    const predicted = await t.http.post(`/v1/models/${modelId}/predict`).send({ instances: [Array(784).fill(0.5)] });
    await stopped;
    expectOutage(predicted, 'predict');
    // And so is every request that needs the store while it is away.
    expectOutage(await t.http.post(`/v1/models/${modelId}/predict`).send({ instances: [Array(784).fill(0.5)] }), 'predict again');
    expectOutage(await t.http.get(`/v1/datasets/${datasetId}`), 'dataset preview');
    await s3.restart();
    expect((await t.http.post(`/v1/models/${modelId}/predict`).send({ instances: [Array(784).fill(0.5)] })).status).toBe(200);
    expect((await t.http.get(`/v1/datasets/${datasetId}`)).status).toBe(200);
  });

  it('while a dataset upload is stored: 503, and nothing is left of it', async () => {
    const before = await t.http.get('/v1/datasets');
    const stopped = s3.stopOnNextRequest();
    const res = await uploadIdx(t, await mnistIdx(60));
    await stopped;
    expectOutage(res, 'upload');
    await s3.restart();
    expect((await t.http.get('/v1/datasets')).body.items).toEqual(before.body.items);
  });

  it('readiness says the store is unreachable, without naming the bucket, and is ready again when it is back', async () => {
    await s3.stop();
    const down = await t.http.get('/readyz');
    expect(down.status).toBe(503);
    expect(down.body.checks.postgres.ok).toBe(true);
    expect(down.body.checks.storage).toMatchObject({ ok: false, kind: 's3' });
    expect(down.body.checks.storage.error).toMatch(/ECONNREFUSED/);
    expect(down.body.checks.storage.error).not.toContain(bucket);
    await s3.restart();
    expect((await t.http.get('/readyz')).status).toBe(200);
  });

  it('the bucket deleted: 503 naming the object store on every route that needs it, and readiness says the bucket is gone', async () => {
    await s3.deleteBucket(bucket);
    expectOutage(await t.http.get(`/v1/models/${modelId}/artifact/weights.bin`), 'download');
    expectOutage(await t.http.get(`/v1/datasets/${datasetId}`), 'dataset preview');
    expectOutage(await uploadIdx(t, await mnistIdx(70)), 'upload');
    const ready = await t.http.get('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.storage.error).toMatch(/the bucket does not exist/);
    // Reads that need only PostgreSQL still work.
    expect((await t.http.get(`/v1/models/${modelId}`)).status).toBe(200);
  });
});

describe('the object store away while a worker trains', () => {
  let s3: S3TestServer;
  let t: TestApp;
  let worker: WorkerProcess;

  beforeAll(async () => {
    ({ s3, t } = await appOnObjectStore());
    worker = await workerOnAnotherHost(t);
  });
  afterAll(async () => {
    await worker?.stop();
    await t?.close();
    await s3?.close();
  });

  it('the worker waits for the store, then hands the job back: it resumes and succeeds, and its history says why', async () => {
    const submitted = await t.http.post('/v1/jobs').send(jobBody({ training: { epochs: 4, batchSize: 16, learningRate: 0.01, seed: 6 }, dataset: { id: 'mnist', limit: 600 } }));
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(202);
    const id = submitted.body.id as string;
    await waitForJob(t.http, id, { until: (job) => job.status === 'running', what: 'running' });

    // Every request fails from here: the next checkpoint (or the model) cannot be written.
    const outage = s3.answer503();
    // A HEAD of the bucket is the sandbox asking whether the store is back: it is waiting, not failing the job.
    await waitFor(
      async () => [...outage.requests],
      (seen) => seen.some((r) => r.startsWith('HEAD ')),
      { timeoutMs: 60_000, what: 'the worker waiting for the store' },
    );
    expect(outage.requests.some((r) => r.startsWith('PUT '))).toBe(true);
    expect((await t.http.get(`/v1/jobs/${id}`)).body.status).toBe('running');
    outage.end();

    const job = await waitForJob(t.http, id);
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    const history = await t.app.services.db.jobEvent.findMany({ where: { jobId: id, type: 'state' }, orderBy: { id: 'asc' } });
    const states = history.map((e) => e.data as { status: string; reason?: string });
    expect(states.map((h) => h.status)).toEqual(['queued', 'running', 'queued', 'running', 'succeeded']);
    expect(states[2].reason).toMatch(/^the object store was unreachable \(.+\); the job resumes from its last checkpoint$/);
  });
});
