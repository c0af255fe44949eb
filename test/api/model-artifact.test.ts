import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { storeModel } from '../helpers/served-model.js';
import { binaryBody } from '../helpers/response-body.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';
import type { AppConfig } from '../../src/config/config.js';
import { artifactStoreFor } from '../../src/storage/artifact-store.js';
import { modelArtifactKey } from '../../src/storage/model-artifacts.js';

/**
 * Model downloads stream from the artifact store and answer one byte range
 * (206), on disk and from an object store alike.
 */
let s3: S3TestServer;
beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  await s3?.close();
});

const STORES: [string, () => Promise<Partial<AppConfig>>][] = [
  ['disk', async () => ({})],
  ['s3', async () => s3.storageConfig(await s3.createBucket())],
];

describe.each(STORES)('model artifact downloads (%s store)', (kind, storage) => {
  let t: TestApp;
  let id: string;
  let weights: Buffer;

  beforeAll(async () => {
    t = await createTestApp({ ...(await storage()), COMPUTE_THREADS: 1 });
    ({ id } = await storeModel(t, { seed: 5 }));
    weights = (await artifactStoreFor(t.config).get(modelArtifactKey(id), 'weights.bin'))!;
    expect(weights.length).toBeGreaterThan(1000);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('readiness names the store and finds it reachable', async () => {
    const ready = await t.http.get('/readyz');
    expect(ready.status, JSON.stringify(ready.body)).toBe(200);
    expect(ready.body.checks.storage).toMatchObject({ ok: true, kind });
  });

  it('sends a whole file with its length, saying that ranges are accepted', async () => {
    const json = await t.http.get(`/v1/models/${id}/artifact/model.json`);
    expect(json.status).toBe(200);
    expect(json.headers['accept-ranges']).toBe('bytes');
    expect(JSON.parse(json.text).weightsManifest[0].paths).toEqual(['weights.bin']);
    const res = await t.http.get(`/v1/models/${id}/artifact/weights.bin`).buffer(true).parse(binaryBody);
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(weights.length));
    expect((res.body as Buffer).equals(weights)).toBe(true);
  });

  it('answers HEAD with the length and no body', async () => {
    const res = await t.http.head(`/v1/models/${id}/artifact/weights.bin`);
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(weights.length));
    const part = await t.http.head(`/v1/models/${id}/artifact/weights.bin`).set('range', 'bytes=0-9');
    expect(part.status).toBe(206);
    expect(part.headers['content-length']).toBe('10');
  });

  it('answers one byte range with 206 and Content-Range: from-to, open-ended, the last N bytes, cut at the end', async () => {
    const size = weights.length;
    for (const [range, start, end] of [
      ['bytes=0-99', 0, 99],
      ['bytes=1000-', 1000, size - 1],
      ['bytes=-16', size - 16, size - 1],
      [`bytes=${size - 10}-${size + 500}`, size - 10, size - 1],
    ] as const) {
      const res = await t.http.get(`/v1/models/${id}/artifact/weights.bin`).set('range', range).buffer(true).parse(binaryBody);
      expect(res.status, range).toBe(206);
      expect(res.headers['content-range'], range).toBe(`bytes ${start}-${end}/${size}`);
      expect(res.headers['content-length'], range).toBe(String(end - start + 1));
      expect((res.body as Buffer).equals(weights.subarray(start, end + 1)), range).toBe(true);
    }
  });

  it('answers 416 with the size for a range past the end, and the whole file for ranges it does not serve', async () => {
    const size = weights.length;
    const past = await t.http.get(`/v1/models/${id}/artifact/weights.bin`).set('range', `bytes=${size}-`);
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${size}`);
    expect(past.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(past.body).toMatchObject({ code: 'range-not-satisfiable', size });
    // Several ranges, a reversed one, another unit: ignored, as RFC 9110 allows.
    for (const range of ['bytes=0-1,5-6', 'bytes=50-10', 'items=0-1']) {
      const res = await t.http.get(`/v1/models/${id}/artifact/weights.bin`).set('range', range).buffer(true).parse(binaryBody);
      expect(res.status, range).toBe(200);
      expect((res.body as Buffer).length, range).toBe(size);
    }
  });

  it('serves predictions from the stored model through the compute threads', async () => {
    const res = await t.http.post(`/v1/models/${id}/predict`).send({ instances: [Array(784).fill(0.5)] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.predictions[0]).toHaveLength(10);
  });
});
