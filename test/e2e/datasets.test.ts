import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { createTestApp, quietLog } from '../helpers/app.js';
import { useTestApp } from '../helpers/use-app.js';
import { waitForJob } from '../helpers/wait-for-job.js';
import { startTrainingWorker, type TrainingWorker } from '../../src/worker/worker.js';
import { concatBytes, greyToRgba, gzip, idxFile, mnistBytes, npyFile, packValues, pngFile, solidRgba } from '../data/fixtures.js';

const t = useTestApp();

const u32be = (n: number) => new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
async function mnistIdx(limit: number) {
  const { x, y } = await mnistBytes(limit);
  return {
    images: Buffer.from(gzip(idxFile(0x08, [limit, 28, 28], x))),
    labels: Buffer.from(idxFile(0x08, [limit], y)),
  };
}

function uploadIdx(files: { images: Buffer; labels: Buffer }, name = 'digits') {
  return t.http.post('/v1/datasets').field('format', 'idx').field('name', name).attach('images', files.images, 'images.idx.gz').attach('labels', files.labels, 'labels.idx');
}

const CNN = {
  input: { shape: [28, 28, 1] },
  layers: [
    { type: 'conv2d', filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' },
    { type: 'flatten' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
};

describe('IDX upload, training and predict with images', () => {
  let datasetId: string;
  let worker: TrainingWorker;
  beforeAll(async () => {
    worker = await startTrainingWorker(t.config, quietLog);
  });
  afterAll(async () => {
    await worker.close();
  });

  it('answers 201 with the dataset and its statistics, and 200 with the same dataset for the same content', async () => {
    const files = await mnistIdx(600);
    const res = await uploadIdx(files);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ format: 'idx', name: 'digits', examples: 600, inputShape: [28, 28, 1], numClasses: 10, dtype: 'uint8', valueRange: [0, 255], builtin: false });
    expect(res.body.perClassCounts.reduce((a: number, b: number) => a + b, 0)).toBe(600);
    expect(res.body.mean[0]).toBeGreaterThan(20);
    expect(res.body.contentHash).toMatch(/^[0-9a-f]{64}$/);
    datasetId = res.body.id;
    const again = await uploadIdx(files, 'same again');
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(datasetId);
  });

  it('lists it and describes it with thumbnails', async () => {
    const list = await t.http.get('/v1/datasets');
    expect(list.body.items.map((d: { id: string }) => d.id)).toEqual(['mnist', datasetId]);
    const one = await t.http.get(`/v1/datasets/${datasetId}`);
    expect(one.body.preview.thumbnails).toHaveLength(8);
    expect(one.body.preview.thumbnails[0].dataUrl).toMatch(/^data:image\/png;base64,/);
    const mnist = await t.http.get('/v1/datasets/mnist');
    expect(mnist.body.preview.thumbnails).toHaveLength(8);
  });

  it('trains on it, normalised, and predicts PNG images like training saw them', async () => {
    const submitted = await t.http.post('/v1/jobs').send({ model: CNN, training: { epochs: 3, batchSize: 32, learningRate: 0.01 }, dataset: { id: datasetId } });
    expect(submitted.status).toBe(202);
    const job = await waitForJob(t.http, submitted.body.id, { timeoutMs: 100_000 });
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    const model = (await t.http.get(`/v1/models/${job.modelId}`)).body;
    expect(model.preprocessing.normalization).toEqual({ kind: 'scale', offset: [0], scale: [1 / 255] });

    const { x, y } = await mnistBytes(1000);
    const rows = [900, 901, 902, 903, 904, 905, 906, 907, 908, 909];
    const raw = rows.map((r) => Array.from(x.subarray(r * 784, (r + 1) * 784)));
    const pngs = rows.map((r) => ({ b64: Buffer.from(pngFile(28, 28, greyToRgba(x.subarray(r * 784, (r + 1) * 784)))).toString('base64') }));
    const byValues = await t.http.post(`/v1/models/${job.modelId}/predict`).send({ instances: raw });
    const byImages = await t.http.post(`/v1/models/${job.modelId}/predict`).send({ instances: pngs });
    expect(byValues.status).toBe(200);
    expect(byImages.status).toBe(200);
    expect(byImages.body.classes).toEqual(byValues.body.classes);
    byImages.body.predictions.forEach((p: number[], i: number) => p.forEach((v, k) => expect(v).toBeCloseTo(byValues.body.predictions[i][k], 4)));
    const correct = byValues.body.classes.filter((c: number, i: number) => c === y[rows[i]]).length;
    expect(correct).toBeGreaterThanOrEqual(5);

    const bad = await t.http.post(`/v1/models/${job.modelId}/predict`).send({ instances: [{ b64: Buffer.from('GIF89a').toString('base64') }] });
    expect(bad.status).toBe(400);
    expect(bad.body.detail).toBe('instances[0].b64 is not a PNG or JPEG image');
  });

  it('refuses to delete a dataset a queued job uses, then deletes it', async () => {
    await worker.close();
    const job = (await t.http.post('/v1/jobs').send({ model: CNN, training: { epochs: 1 }, dataset: { id: datasetId } })).body;
    const refused = await t.http.delete(`/v1/datasets/${datasetId}`);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'dataset-in-use', jobIds: [job.id] });
    await t.http.post(`/v1/jobs/${job.id}/cancel`);
    expect((await t.http.delete(`/v1/datasets/${datasetId}`)).status).toBe(204);
    expect((await t.http.get(`/v1/datasets/${datasetId}`)).status).toBe(404);
    expect((await t.http.delete('/v1/datasets/mnist')).status).toBe(409);
    worker = await startTrainingWorker(t.config, quietLog);
  });
});

describe('other formats', () => {
  it('takes a CSV table with string labels, and checks jobs against it', async () => {
    const species = ['setosa', 'versicolor', 'virginica'];
    const lines = ['sepal_length,sepal_width,petal_length,petal_width,species'];
    for (let i = 0; i < 60; i++) lines.push(`${5 + (i % 7) / 10},${3 + (i % 5) / 10},${1 + (i % 3) * 2},${(i % 3) * 0.8 + 0.2},${species[i % 3]}`);
    const res = await t.http
      .post('/v1/datasets')
      .field('format', 'csv')
      .attach('file', Buffer.from(`${lines.join('\n')}\n`), 'iris.csv');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ inputShape: [4], numClasses: 3, classNames: species, examples: 60 });
    const mlp = (units: number) => ({
      input: { shape: [4] },
      layers: [
        { type: 'dense', units: 8, activation: 'relu' },
        { type: 'dense', units, activation: 'softmax' },
      ],
    });
    const wrong = await t.http.post('/v1/jobs').send({ model: mlp(10), training: { normalization: 'standardize' }, dataset: { id: res.body.id } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.detail).toMatch(/the model outputs \[10\] per example but dataset '.*' has 3 classes/);
    const right = await t.http.post('/v1/jobs').send({ model: mlp(3), training: { normalization: 'standardize' }, dataset: { id: res.body.id } });
    expect(right.status).toBe(202);
  });

  it('takes NPY arrays', async () => {
    const x = npyFile(
      '<f4',
      [40, 6],
      packValues(
        Array.from({ length: 240 }, (_, i) => (i % 13) / 13),
        'float',
        4,
        true,
      ),
    );
    const y = npyFile(
      '|u1',
      [40],
      Uint8Array.from({ length: 40 }, (_, i) => i % 2),
    );
    const res = await t.http.post('/v1/datasets').field('format', 'npy').attach('x', Buffer.from(x), 'x.npy').attach('y', Buffer.from(y), 'y.npy');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ inputShape: [6], numClasses: 2, dtype: 'float32', examples: 40 });
  });

  it('takes a zip of PNG images in class folders', async () => {
    const entries: Record<string, Uint8Array> = {};
    for (let i = 0; i < 6; i++) {
      entries[`shapes/dark/${i}.png`] = pngFile(12, 10, solidRgba(12, 10, [10 * i, 10, 10]));
      entries[`shapes/light/${i}.png`] = pngFile(12, 10, solidRgba(12, 10, [250 - i, 240, 230]));
    }
    const res = await t.http
      .post('/v1/datasets')
      .field('format', 'images')
      .field('width', '8')
      .field('height', '8')
      .field('channels', '3')
      .attach('file', Buffer.from(zipSync(entries)), 'shapes.zip');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ inputShape: [8, 8, 3], numClasses: 2, classNames: ['dark', 'light'], examples: 12, image: { width: 8, height: 8, channels: 3 } });
  });
});

describe('broken uploads', () => {
  it.each([
    [
      'a labels file one short',
      async () => {
        const { x, y } = await mnistBytes(50);
        return t.http
          .post('/v1/datasets')
          .field('format', 'idx')
          .attach('images', Buffer.from(idxFile(0x08, [50, 28, 28], x)), 'i')
          .attach('labels', Buffer.from(idxFile(0x08, [49], y.subarray(0, 49))), 'l');
      },
      'invalid-dataset',
      /labels file has 49 items, images file 50/,
    ],
    [
      'a CSV cell that is not a number',
      async () => t.http.post('/v1/datasets').field('format', 'csv').attach('file', Buffer.from('a,b,label\n1,2,x\n3,abc,y\n'), 'f.csv'),
      'invalid-dataset',
      /row 3: column 'b' is not a number/,
    ],
    [
      'an unknown format',
      async () => t.http.post('/v1/datasets').field('format', 'parquet').attach('file', Buffer.from('x'), 'f'),
      'invalid-request',
      /form field 'format' must be one of idx, csv, npy, images, got "parquet"/,
    ],
    [
      'a missing part',
      async () => t.http.post('/v1/datasets').field('format', 'npy').attach('x', Buffer.from('x'), 'x.npy'),
      'invalid-request',
      /format 'npy' needs the file part 'y'/,
    ],
    [
      'a part of another format',
      async () => t.http.post('/v1/datasets').field('format', 'csv').attach('file', Buffer.from('a,b\n1,2\n'), 'f').attach('images', Buffer.from('x'), 'i'),
      'invalid-request',
      /file part 'images' is not used by format 'csv'; it takes 'file'/,
    ],
    [
      'missing image size',
      async () =>
        t.http
          .post('/v1/datasets')
          .field('format', 'images')
          .attach('file', Buffer.from(zipSync({})), 'z.zip'),
      'invalid-request',
      /form field 'width' is required for this format/,
    ],
    ['JSON instead of a form', async () => t.http.post('/v1/datasets').send({ format: 'csv' }), 'unsupported-media-type', /upload datasets as multipart\/form-data/],
  ])('rejects %s and stores nothing', async (_what, send, code, detail) => {
    const before = await t.app.services.db.dataset.count({ where: { tenantId: t.tenant } });
    const res = await send();
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.body.code).toBe(code);
    expect(res.body.detail).toMatch(detail);
    expect(await t.app.services.db.dataset.count({ where: { tenantId: t.tenant } })).toBe(before);
  });

  it('answers 413 for a file over the upload limit', async () => {
    const small = await createTestApp({ DATASET_MAX_BYTES: 4096 });
    try {
      const res = await small.http.post('/v1/datasets').field('format', 'csv').attach('file', Buffer.alloc(10_000, 49), 'big.csv');
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('payload-too-large');
    } finally {
      await small.close();
    }
  });

  it("hides another tenant's datasets", async () => {
    const { images, labels } = await mnistIdx(30);
    const mine = await uploadIdx({ images, labels }, 'private');
    const other = await t.otherTenant();
    expect((await other.http.get(`/v1/datasets/${mine.body.id}`)).status).toBe(404);
    expect((await other.http.delete(`/v1/datasets/${mine.body.id}`)).status).toBe(404);
    const job = await other.http.post('/v1/jobs').send({ model: CNN, dataset: { id: mine.body.id } });
    expect(job.status).toBe(400);
    expect(job.body.code).toBe('unknown-dataset');
  });
});
void concatBytes;
void u32be;

describe('uploads that are large or strange', () => {
  it('refuses a CSV of 100,000 columns at once with a 400 naming the limit, storing nothing', async () => {
    const header = Array.from({ length: 100_000 }, (_, i) => (i === 99_999 ? 'label' : `f${i}`)).join(',');
    const rows = Array.from({ length: 20 }, (_, r) => Array.from({ length: 100_000 }, (_, i) => (i === 99_999 ? r % 2 : (r + i) % 7)).join(','));
    const csv = Buffer.from([header, ...rows].join('\n'));
    const before = (await t.http.get('/v1/datasets')).body.items.length;
    const res = await t.http.post('/v1/datasets').field('format', 'csv').attach('file', csv, 'wide.csv');
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.code).toBe('invalid-dataset');
    expect(res.body.detail).toBe('the header has 100,000 columns (99,999 features and a label); at most 65,536 feature columns are allowed');
    expect(res.body.errors[0].field).toBe('file');
    expect((await t.http.get('/v1/datasets')).body.items.length).toBe(before);
    expect((await t.http.get('/healthz')).status).toBe(200);
  });

  it('stores 60,000 digits uploaded as IDX, as large as MNIST', async () => {
    const n = 60_000;
    const x = new Uint8Array(n * 784);
    for (let i = 0; i < x.length; i++) x[i] = (i * 2654435761) >>> 24;
    const y = Uint8Array.from({ length: n }, (_, i) => i % 10);
    const res = await uploadIdx({ images: Buffer.from(idxFile(0x08, [n, 28, 28], x)), labels: Buffer.from(idxFile(0x08, [n], y)) }, 'sixty-thousand');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ examples: n, inputShape: [28, 28, 1], numClasses: 10, sizeBytes: n * 784 + n });
    expect(res.body.perClassCounts).toEqual(Array(10).fill(n / 10));
    const described = await t.http.get(`/v1/datasets/${res.body.id}`);
    expect(described.body.preview.thumbnails).toHaveLength(8);
    expect((await t.http.delete(`/v1/datasets/${res.body.id}`)).status).toBe(204);
  });
});
