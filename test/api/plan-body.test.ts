import { describe, expect, it } from 'vitest';
import { useFreshTestApp } from '../helpers/use-app.js';
import { SEED_MNIST_MODEL } from '../../src/model-spec/index.js';

const t = useFreshTestApp();

const KERNEL_SIZE = 'layer 0 (conv2d): kernelSize must be an integer from 1 to 4096 or [height, width], got "5"';
const withKernel = (kernelSize: unknown) => ({ input: { shape: [28, 28, 1] }, layers: [{ type: 'conv2d', filters: 2, kernelSize }, { type: 'flatten' }] });

describe('POST /v1/plan takes the model bare or as { model } like POST /v1/jobs', () => {
  it('plans both forms the same', async () => {
    const bare = await t.http.post('/v1/plan').send(SEED_MNIST_MODEL);
    const wrapped = await t.http.post('/v1/plan').send({ model: SEED_MNIST_MODEL });
    expect(bare.status).toBe(200);
    expect(wrapped.status).toBe(200);
    expect(wrapped.body).toEqual(bare.body);
    expect(wrapped.body.totalParams).toBe(3_274_634);
  });

  it('takes the body of a job submission minus its training fields, Keras form included', async () => {
    const keras = {
      class_name: 'Sequential',
      config: {
        name: 's',
        layers: [
          { class_name: 'InputLayer', config: { name: 'in', batch_input_shape: [null, 4] } },
          { class_name: 'Dense', config: { name: 'd', units: 3 } },
        ],
      },
    };
    const res = await t.http.post('/v1/plan').send({ model: { keras } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ inputShape: [4], outputShape: [3], totalParams: 15 });
  });

  it('locates a schema mistake in the form it was sent in', async () => {
    const bare = await t.http.post('/v1/plan').send(withKernel('5'));
    expect(bare.status).toBe(400);
    expect(bare.body).toMatchObject({ code: 'invalid-request', detail: KERNEL_SIZE, errors: [{ field: 'layers[0].kernelSize', message: KERNEL_SIZE }] });
    const wrapped = await t.http.post('/v1/plan').send({ model: withKernel('5') });
    expect(wrapped.status).toBe(400);
    expect(wrapped.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(wrapped.body).toMatchObject({ code: 'invalid-request', detail: KERNEL_SIZE, errors: [{ field: 'model.layers[0].kernelSize', message: KERNEL_SIZE }] });
  });

  it('locates a model that does not plan under `model`, as POST /v1/jobs does', async () => {
    const model = { input: { shape: [4, 4, 1] }, layers: [{ type: 'conv2d', filters: 2, kernelSize: 5, padding: 'valid' }] };
    const res = await t.http.post('/v1/plan').send({ model });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'invalid-spec', detail: "layer 0 (conv2d): kernel 5x5 with padding 'valid' does not fit a 4x4 input" });
    expect(res.body.errors[0].field).toBe('model.layers[0].kernelSize');
  });

  it('says which fields the wrapped form allows', async () => {
    const res = await t.http.post('/v1/plan').send({ model: SEED_MNIST_MODEL, training: { epochs: 1 } });
    expect(res.status).toBe(400);
    expect(res.body.detail).toBe('training is not an allowed field; allowed fields: model');
  });
});
