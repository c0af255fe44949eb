import { describe, expect, it } from 'vitest';
import { useTestApp } from '../helpers/use-app.js';

const t = useTestApp();

describe('POST /v1/plan: the formula of each window', () => {
  it("answers each convolution's and pooling layer's formula with its numbers, per axis", async () => {
    const res = await t.http.post('/v1/plan').send({
      model: {
        input: { shape: [32, 32, 3] },
        layers: [
          {
            type: 'conv2d',
            filters: 16,
            kernelSize: 8,
            strides: 2,
            activation: 'relu',
          },
          { type: 'maxPool2d', poolSize: 2, padding: 'same' },
          { type: 'flatten' },
          { type: 'dense', units: 10 },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.layers[0].window).toEqual({
      padding: 'valid',
      rows: {
        input: 32,
        window: 8,
        stride: 2,
        padBefore: 0,
        padAfter: 0,
        output: 13,
        formula: '(32 − 8 + 2·0)/2 + 1 = 13',
      },
      cols: {
        input: 32,
        window: 8,
        stride: 2,
        padBefore: 0,
        padAfter: 0,
        output: 13,
        formula: '(32 − 8 + 2·0)/2 + 1 = 13',
      },
    });
    expect(res.body.layers[1].window.rows).toEqual({
      input: 13,
      window: 2,
      stride: 2,
      padBefore: 0,
      padAfter: 1,
      output: 7,
      formula: '⌈13/2⌉ = 7',
    });
    expect(res.body.layers[2].window).toBeUndefined();
    expect(res.body.layers[3].window).toBeUndefined();
  });

  it('locates a kernel that does not fit at its layer and field', async () => {
    const res = await t.http.post('/v1/plan').send({
      model: {
        input: { shape: [28, 28, 1] },
        layers: [{ type: 'conv2d', filters: 4, kernelSize: 40 }, { type: 'flatten' }, { type: 'dense', units: 10 }],
      },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      code: 'invalid-spec',
      errors: [{ field: 'model.layers[0].kernelSize' }],
      layer: { index: 0, type: 'conv2d' },
    });
    expect(res.body.errors[0].message).toMatch(/kernel 40x40 with padding 'valid' does not fit a 28x28 input/);
  });
});
