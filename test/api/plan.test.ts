import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { INCEPTION_EXAMPLE_MODEL, SEED_MNIST_MODEL } from '../../src/model-spec/index.js';

let t: TestApp;
beforeEach(async () => {
  t = await createTestApp();
});
afterEach(async () => {
  await t.close();
});

describe('POST /v1/plan', () => {
  it("plans the lesson's MNIST network layer by layer", async () => {
    const res = await t.http.post('/v1/plan').send(SEED_MNIST_MODEL);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ inputShape: [28, 28, 1], outputShape: [10], totalParams: 3_274_634, trainableParams: 3_274_634, weightBytes: 3_274_634 * 4 });
    expect(res.body.layers.map((l: { outputShape: number[] }) => l.outputShape)).toEqual([[28, 28, 32], [14, 14, 32], [14, 14, 64], [7, 7, 64], [3136], [1024], [1024], [10]]);
    expect(res.body.layers.map((l: { params: number }) => l.params)).toEqual([832, 0, 51_264, 0, 0, 3_212_288, 0, 10_250]);
    expect(res.body.layers[0].paramsWithoutSharing).toBe(26 * 28 * 28 * 32);
    expect(res.body.limits.exceeded).toEqual([]);
  });

  it("reproduces the lesson's worked example: 32x32x3, 20 filters 8x8, stride 2", async () => {
    const plan = async (padding: unknown) =>
      (await t.http.post('/v1/plan').send({ input: { shape: [32, 32, 3] }, layers: [{ type: 'conv2d', filters: 20, kernelSize: 8, strides: 2, padding }] })).body;
    expect((await plan('same')).outputShape).toEqual([16, 16, 20]);
    expect((await plan('valid')).outputShape).toEqual([13, 13, 20]);
    const explicit = await plan(1);
    expect(explicit.outputShape).toEqual([14, 14, 20]);
    expect(explicit.totalParams).toBe(3860);
    expect(explicit.layers[0].paramsWithoutSharing).toBe(756_560);
  });

  it('plans inception branches', async () => {
    const res = await t.http.post('/v1/plan').send(INCEPTION_EXAMPLE_MODEL);
    expect(res.status).toBe(200);
    const inception = res.body.layers.find((l: { type: string }) => l.type === 'inception');
    expect(inception.branches.length).toBeGreaterThanOrEqual(4);
  });

  it('names the layer and the problem when a spec does not plan', async () => {
    const res = await t.http.post('/v1/plan').send({ input: { shape: [4, 4, 1] }, layers: [{ type: 'conv2d', filters: 2, kernelSize: 5, padding: 'valid' }] });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid-spec', detail: "layer 0 (conv2d): kernel 5x5 with padding 'valid' does not fit a 4x4 input" });
    expect(res.body.errors[0].field).toBe('layers[0].kernelSize');
  });

  it('still plans a model over the limits, and says so', async () => {
    await t.close();
    t = await createTestApp({ MAX_MODEL_PARAMS: 1000 });
    const res = await t.http.post('/v1/plan').send(SEED_MNIST_MODEL);
    expect(res.status).toBe(200);
    expect(res.body.limits.exceeded).toEqual(['3,274,634 parameters exceed the limit of 1,000']);
  });
});

describe('POST /v1/plan with a Keras / tfjs document', () => {
  it('plans a tfjs toJSON() document like the compact spec it came from', async () => {
    const tf = await import('@tensorflow/tfjs');
    const { buildModel } = await import('../../src/model-spec/index.js');
    await tf.setBackend('cpu');
    const built = buildModel(SEED_MNIST_MODEL, { seed: 1 });
    const keras = built.toJSON(null, false);
    built.dispose();
    const res = await t.http.post('/v1/plan').send({ keras });
    expect(res.status).toBe(200);
    expect(res.body.totalParams).toBe(3_274_634);
    expect(res.body.layers.map((l: { outputShape: number[] }) => l.outputShape)).toEqual([[28, 28, 32], [14, 14, 32], [14, 14, 64], [7, 7, 64], [3136], [1024], [1024], [10]]);
  });

  it('names the Keras layer it cannot take', async () => {
    const keras = {
      class_name: 'Sequential',
      config: {
        name: 's',
        layers: [
          { class_name: 'InputLayer', config: { name: 'in', batch_input_shape: [null, 8, 8, 1] } },
          { class_name: 'Conv3D', config: { name: 'c3', filters: 2, kernel_size: [3, 3, 3] } },
        ],
      },
    };
    const res = await t.http.post('/v1/plan').send({ keras });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('invalid-spec');
    expect(res.body.detail).toMatch(/keras layer 1 \(Conv3D "c3"\): class Conv3D is not supported; supported: /);
  });

  it('rejects unknown fields next to "keras"', async () => {
    const res = await t.http.post('/v1/plan').send({ keras: {}, layers: [] });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/layers is not an allowed field; allowed fields: keras/);
  });
});
