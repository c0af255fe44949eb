import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTestApp, SMALL_CNN, type TestApp } from '../helpers/app.js';
import { localPredict, MLP, storeModel } from '../helpers/served-model.js';
import { greyToRgba, pngFile } from '../data/fixtures.js';
import { loadMnist } from '../../src/data/mnist.dataset.js';

/**
 * Predictions through the compute threads and the batcher, on the /v1 API,
 * TF Serving's REST API and KServe v2, against what the model itself
 * answers in this process.
 */
let t: TestApp;
let mlp: Awaited<ReturnType<typeof storeModel>>;
let other: Awaited<ReturnType<typeof storeModel>>;
let digits: number[][];

beforeAll(async () => {
  // A long batch timeout, so that concurrent requests surely meet in one batch.
  t = await createTestApp({ COMPUTE_THREADS: 2, PREDICT_MAX_BATCH_SIZE: 16, PREDICT_BATCH_TIMEOUT_MICROS: 300_000, RATE_LIMIT_PREDICT: 100_000 });
  mlp = await storeModel(t, { spec: MLP, seed: 3 });
  other = await storeModel(t, { spec: SMALL_CNN, seed: 4 });
  const mnist = await loadMnist(40);
  digits = Array.from({ length: 40 }, (_, i) => Array.from(mnist.x.subarray(i * 784, (i + 1) * 784)));
  for (const [name, id] of [
    ['digits', mlp.id],
    ['digits', other.id],
    ['cnn', other.id],
  ] as const) {
    const res = await t.http.post(`/v1/registered-models/${name}/versions`).send({ modelId: id });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  expect((await t.http.put('/v1/registered-models/digits/aliases/production').send({ version: 1 })).status).toBe(200);
});
afterAll(async () => {
  mlp?.model.dispose();
  other?.model.dispose();
  await t?.close();
});

const tensor = (over: Record<string, unknown>) => ({ inputs: [{ name: 'input', shape: [1, 784], datatype: 'FP32', data: Array(784).fill(0), ...over }] });

const expectRowsClose = (actual: number[][], expected: number[][]) => {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i][j], 6)));
};

describe('dynamic batching', () => {
  // Equal to float32 rounding, not bit for bit: the native engine's matrix products block a batch
  // differently from a single row (differences near 1e-8), as TF Serving's batching does too.
  it('merges concurrent requests into batches, with results equal to one request at a time', async () => {
    const alone: number[][] = [];
    for (const d of digits.slice(0, 20)) {
      const res = await t.http.post(`/v1/models/${mlp.id}/predict`).send({ instances: [d] });
      expect(res.status).toBe(200);
      alone.push(res.body.predictions[0]);
    }
    const before = t.app.services.serving.stats();
    const together = await Promise.all(digits.slice(0, 20).map((d) => t.http.post(`/v1/models/${mlp.id}/predict`).send({ instances: [d] })));
    const after = t.app.services.serving.stats();
    for (const [i, res] of together.entries()) {
      expect(res.status).toBe(200);
      expectRowsClose([res.body.predictions[0]], [alone[i]]);
    }
    expect(after.requests - before.requests).toBe(20);
    expect(after.instances - before.instances).toBe(20);
    // 20 instances at most 16 a batch: at least 2 batches, far fewer than 20.
    expect(after.batches - before.batches).toBeGreaterThanOrEqual(2);
    expect(after.batches - before.batches).toBeLessThan(10);
    expect(after.maxBatch).toBeLessThanOrEqual(16);
    expect(after.maxBatch).toBeGreaterThan(1);
    expectRowsClose(alone, localPredict(mlp.model, digits.slice(0, 20), [28, 28, 1]));
  });

  it("never mixes models: concurrent requests for two models each get their own model's answer", async () => {
    const sent = digits.slice(0, 12).map((d, i) => ({ id: i % 2 ? mlp.id : other.id, d }));
    const answers = await Promise.all(sent.map(({ id, d }) => t.http.post(`/v1/models/${id}/predict`).send({ instances: [d] })));
    for (const [i, res] of answers.entries()) {
      const model = sent[i].id === mlp.id ? mlp.model : other.model;
      expectRowsClose(res.body.predictions, localPredict(model, [sent[i].d], [28, 28, 1]));
    }
  });

  it('decodes PNG instances on the compute threads like the training images', async () => {
    const grey = Uint8Array.from(digits[0], (v) => Math.round(v * 255));
    const b64 = Buffer.from(pngFile(28, 28, greyToRgba(grey))).toString('base64');
    const res = await t.http.post(`/v1/models/${mlp.id}/predict`).send({ instances: [{ b64 }, digits[1]] });
    expect(res.status).toBe(200);
    expectRowsClose(res.body.predictions, localPredict(mlp.model, [Array.from(grey, (v) => v / 255), digits[1]], [28, 28, 1]));
    const broken = await t.http.post(`/v1/models/${mlp.id}/predict`).send({ instances: [digits[0], { b64: Buffer.from('not an image').toString('base64') }] });
    expect(broken.status).toBe(400);
    expect(broken.body.errors[0].field).toBe('instances[1].b64');
    expect(broken.body.detail).toMatch(/not a PNG or JPEG image/);
  });

  it('refuses pixel values outside the range an image model was trained on, naming the range', async () => {
    const res = await t.http.post(`/v1/models/${mlp.id}/predict`).send({ instances: [digits[0].map((v) => v * 255)] });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(
      /instances\[0\] has the value [\d.]+ at position \d+, outside 0\.\.1: this image model was trained on pixel values in 0\.\.1.*divide 0\.\.255 pixel values by 255/,
    );
    expect(res.body.errors[0].field).toBe('instances[0]');
  });

  it('accepts tabular features outside the training range', async () => {
    const tabular = await storeModel(t, {
      spec: { input: { shape: [3] }, layers: [{ type: 'dense', units: 2, activation: 'softmax' }] },
      preprocessing: { inputShape: [3], valueRange: [0, 1], outputs: 'probabilities', image: null },
      classNames: ['no', 'yes'],
    });
    const res = await t.http.post(`/v1/models/${tabular.id}/predict`).send({ instances: [[5, -3, 100]] });
    expect(res.status).toBe(200);
    expectRowsClose(res.body.predictions, localPredict(tabular.model, [[5, -3, 100]], [3]));
    tabular.model.dispose();
  });
});

describe('TF Serving REST API under /tfserving', () => {
  const base = '/tfserving/v1/models/digits';

  it('predicts in the row format, with or without the input name, by latest, version and label', async () => {
    const expected = localPredict(other.model, digits.slice(0, 3), [28, 28, 1]);
    const latest = await t.http.post(`${base}:predict`).send({ instances: digits.slice(0, 3) });
    expect(latest.status).toBe(200);
    expect(Object.keys(latest.body)).toEqual(['predictions']);
    expectRowsClose(latest.body.predictions, expected);
    const named = await t.http.post(`${base}:predict`).send({ signature_name: 'serving_default', instances: digits.slice(0, 3).map((d) => ({ input: d })) });
    expectRowsClose(named.body.predictions, expected);
    const v1 = await t.http.post(`${base}/versions/1:predict`).send({ instances: [digits[0]] });
    expectRowsClose(v1.body.predictions, localPredict(mlp.model, [digits[0]], [28, 28, 1]));
    const labelled = await t.http.post(`${base}/labels/production:predict`).send({ instances: [digits[0]] });
    expect(labelled.body.predictions).toEqual(v1.body.predictions);
  });

  it('takes {"b64": ...} images in the row format, named or not', async () => {
    const grey = Uint8Array.from(digits[2], (v) => Math.round(v * 255));
    const b64 = Buffer.from(pngFile(28, 28, greyToRgba(grey))).toString('base64');
    const res = await t.http.post(`${base}/versions/1:predict`).send({ instances: [{ b64 }, { input: { b64 } }] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const expected = localPredict(mlp.model, [Array.from(grey, (v) => v / 255)], [28, 28, 1])[0];
    expectRowsClose(res.body.predictions, [expected, expected]);
  });

  it('predicts in the columnar format, answering "outputs"', async () => {
    const expected = localPredict(other.model, digits.slice(0, 2), [28, 28, 1]);
    const plain = await t.http.post(`${base}:predict`).send({ inputs: digits.slice(0, 2) });
    expect(plain.status).toBe(200);
    expect(Object.keys(plain.body)).toEqual(['outputs']);
    expectRowsClose(plain.body.outputs, expected);
    const named = await t.http.post(`${base}:predict`).send({ inputs: { input: digits.slice(0, 2) } });
    expectRowsClose(named.body.outputs, expected);
  });

  it('reports model status and metadata as TF Serving does', async () => {
    const status = await t.http.get(base);
    expect(status.status).toBe(200);
    expect(status.body).toEqual({
      model_version_status: [
        { version: '2', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
        { version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } },
      ],
    });
    expect((await t.http.get(`${base}/versions/1`)).body.model_version_status).toHaveLength(1);
    expect((await t.http.get(`${base}/labels/production`)).body.model_version_status[0].version).toBe('1');
    const meta = await t.http.get(`${base}/metadata`);
    expect(meta.status).toBe(200);
    expect(meta.body.model_spec).toEqual({ name: 'digits', signature_name: '', version: '2' });
    const sig = meta.body.metadata.signature_def.signature_def.serving_default;
    expect(sig.method_name).toBe('tensorflow/serving/predict');
    expect(sig.inputs.input.dtype).toBe('DT_FLOAT');
    expect(sig.inputs.input.tensor_shape.dim.map((d: { size: string }) => d.size)).toEqual(['-1', '28', '28', '1']);
    expect(sig.outputs.probabilities.tensor_shape.dim.map((d: { size: string }) => d.size)).toEqual(['-1', '10']);
    expect((await t.http.get(`${base}/versions/1/metadata`)).body.model_spec.version).toBe('1');
  });

  it.each([
    [
      'a wrong shape, naming the input and both shapes',
      `${base}:predict`,
      { instances: [[1, 2, 3]] },
      400,
      /instances\[0\] must have the input shape \[28, 28, 1\] or be a flat list of 784 numbers, got a list of 3/,
    ],
    ['both formats at once', `${base}:predict`, { instances: [digits?.[0]], inputs: [] }, 400, /exactly one of "instances" \(row format\) and "inputs" \(columnar format\)/],
    ['an unknown signature', `${base}:predict`, { signature_name: 'classify', instances: [[0]] }, 400, /Serving signature name: "classify" not found/],
    ['another input name', `${base}:predict`, { instances: [{ pixels: [0] }] }, 400, /instances\[0\] names the inputs 'pixels'; this model has one input, 'input'/],
    ['an unknown model', '/tfserving/v1/models/nope:predict', { instances: [[0]] }, 404, /model 'nope' \(latest version\) is not registered/],
    ['an unknown version', `${base}/versions/9:predict`, { instances: [[0]] }, 404, /model 'digits' version 9 is not registered/],
    ['a version that is not a number', `${base}/versions/abc:predict`, { instances: [[0]] }, 400, /Failed to convert version: abc to numeric/],
    ['an unknown label', `${base}/labels/staging:predict`, { instances: [[0]] }, 404, /model 'digits' with alias 'staging' is not registered/],
    ['an unknown verb', `${base}:classify`, { instances: [[0]] }, 404, /no route POST/],
  ])('answers %s with {"error"}', async (_what, url, body, status, message) => {
    const res = await t.http.post(url).send(body);
    expect(res.status).toBe(status);
    expect(Object.keys(res.body)).toEqual(['error']);
    expect(res.body.error).toMatch(message);
  });

  it('needs an API key, and answers without one in its own error shape', async () => {
    const res = await request(t.app.server)
      .post(`${base}:predict`)
      .send({ instances: [digits[0]] });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: expect.stringMatching(/missing API key/) });
  });
});

describe('KServe v2 / Open Inference Protocol under /v2', () => {
  it('answers health and server metadata without a key', async () => {
    const open = request(t.app.server);
    expect((await open.get('/v2/health/live')).body).toEqual({ live: true });
    const ready = await open.get('/v2/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ ready: true });
    expect((await open.get('/v2')).body).toMatchObject({ name: 'trainyard', version: expect.any(String), extensions: [] });
    expect((await open.get('/v2/models/digits')).status).toBe(401);
  });

  it('describes models and versions, and says they are ready', async () => {
    const meta = await t.http.get('/v2/models/digits');
    expect(meta.status).toBe(200);
    expect(meta.body).toEqual({
      name: 'digits',
      versions: ['1', '2'],
      platform: 'tensorflowjs_layers',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 28, 28, 1] }],
      outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 10] }],
    });
    expect((await t.http.get('/v2/models/digits/versions/1')).body.versions).toEqual(['1']);
    expect((await t.http.get('/v2/models/digits/ready')).body).toEqual({ name: 'digits', ready: true });
    expect((await t.http.get('/v2/models/digits/versions/2/ready')).body).toEqual({ name: 'digits', ready: true });
    expect((await t.http.get('/v2/models/digits/versions/7/ready')).status).toBe(404);
  });

  it('infers a multi-instance batch, flat or nested', async () => {
    const batch = digits.slice(0, 3);
    const res = await t.http.post('/v2/models/digits/versions/1/infer').send({ id: 'req-1', inputs: [{ name: 'input', shape: [3, 784], datatype: 'FP32', data: batch.flat() }] });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ model_name: 'digits', model_version: '1', id: 'req-1' });
    expect(res.body.outputs).toHaveLength(1);
    const [out] = res.body.outputs;
    expect(out).toMatchObject({ name: 'probabilities', shape: [3, 10], datatype: 'FP32' });
    const expected = localPredict(mlp.model, batch, [28, 28, 1]);
    expectRowsClose(
      [0, 1, 2].map((i) => out.data.slice(i * 10, (i + 1) * 10)),
      expected,
    );
    const nested = batch.slice(0, 2).map((d) => Array.from({ length: 28 }, (_, r) => d.slice(r * 28, (r + 1) * 28).map((v) => [v])));
    const again = await t.http
      .post('/v2/models/digits/infer')
      .send({ inputs: [{ name: 'input', shape: [2, 28, 28, 1], datatype: 'FP32', data: nested }], outputs: [{ name: 'probabilities' }] });
    expect(again.status).toBe(200);
    expect(again.body.model_version).toBe('2');
    expect(again.body.outputs[0].shape).toEqual([2, 10]);
    expect(again.body).not.toHaveProperty('id');
  });

  it.each([
    ['a wrong shape', tensor({ shape: [1, 28, 28, 3] }), 400, /input 'input' has shape \[1, 28, 28, 3\]; model 'digits' takes \[-1, 28, 28, 1\] \(or \[-1, 784\]\)/],
    ['data that does not fill the shape', tensor({ shape: [2, 784] }), 400, /input 'input' has 784 values in data; its shape \[2, 784\] needs 1568/],
    ['another input name', tensor({ name: 'x' }), 400, /unexpected inference input 'x' for model 'digits'; its one input is 'input'/],
    ['BYTES data', tensor({ datatype: 'BYTES' }), 400, /datatype BYTES; this model takes numbers/],
    ['a non-numeric value', tensor({ data: ['a', ...Array(783).fill(0)] }), 400, /inputs\[0\]\.data\[0\]\[0\] must be a finite number/],
    ['0..255 pixels', tensor({ data: Array(784).fill(200) }), 400, /outside 0\.\.1: this image model was trained on pixel values in 0\.\.1/],
    ['an unknown datatype', tensor({ datatype: 'FP8' }), 400, /datatype/],
    ['an unknown output', { ...tensor({}), outputs: [{ name: 'logits' }] }, 400, /unexpected inference output 'logits'/],
  ])('answers %s with a 400 {"error"} naming it', async (_what, body, status, message) => {
    const res = await t.http.post('/v2/models/digits/infer').send(body);
    expect(res.status).toBe(status);
    expect(Object.keys(res.body)).toEqual(['error']);
    expect(res.body.error).toMatch(message);
  });

  it('answers an unknown model with a 404 {"error"}', async () => {
    const res = await t.http.post('/v2/models/nope/infer').send(tensor({}));
    expect(res.status).toBe(404);
    expect(res.body.error).toMatch(/model 'nope' \(latest version\) is not registered/);
  });
});

describe('tenant isolation on the serving routes', () => {
  it("never shows or serves another tenant's registered models", async () => {
    const stranger = await t.otherTenant();
    const probes: [string, string, object?][] = [
      ['post', '/tfserving/v1/models/digits:predict', { instances: [digits[0]] }],
      ['post', '/tfserving/v1/models/digits/versions/1:predict', { instances: [digits[0]] }],
      ['post', '/tfserving/v1/models/digits/labels/production:predict', { instances: [digits[0]] }],
      ['get', '/tfserving/v1/models/digits'],
      ['get', '/tfserving/v1/models/digits/versions/1'],
      ['get', '/tfserving/v1/models/digits/metadata'],
      ['get', '/v2/models/digits'],
      ['get', '/v2/models/digits/versions/1'],
      ['get', '/v2/models/digits/ready'],
      ['post', '/v2/models/digits/infer', tensor({})],
      ['post', '/v2/models/digits/versions/1/infer', tensor({})],
      ['post', `/v1/models/${mlp.id}/predict`, { instances: [digits[0]] }],
    ];
    for (const [method, url, body] of probes) {
      const res = await (stranger.http as any)[method](url).send(body);
      expect(res.status, `${method.toUpperCase()} ${url} as another tenant`).toBe(404);
    }
  });
});

describe('registry changes reach serving', () => {
  it('serves the version an alias was just moved to, and stops serving a deleted alias, from the next request on', async () => {
    const predictBy = (label: string) => t.http.post(`/tfserving/v1/models/cnn2/labels/${label}:predict`).send({ instances: [digits[0]] });
    for (const id of [mlp.id, other.id]) expect((await t.http.post('/v1/registered-models/cnn2/versions').send({ modelId: id })).status).toBe(201);
    expect((await t.http.put('/v1/registered-models/cnn2/aliases/live').send({ version: 1 })).status).toBe(200);
    expectRowsClose((await predictBy('live')).body.predictions, localPredict(mlp.model, [digits[0]], [28, 28, 1]));
    expect((await t.http.put('/v1/registered-models/cnn2/aliases/live').send({ version: 2 })).status).toBe(200);
    expectRowsClose((await predictBy('live')).body.predictions, localPredict(other.model, [digits[0]], [28, 28, 1]));
    expect((await t.http.delete('/v1/registered-models/cnn2/aliases/live')).status).toBe(204);
    expect((await predictBy('live')).status).toBe(404);
  });
});
