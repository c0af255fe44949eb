import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PLAN_LIMITS,
  INCEPTION_EXAMPLE_MODEL,
  SEED_MNIST_MODEL,
  TINY_CNN_MODEL,
  normalizeModelSpec,
  planModel,
  windowOutputLength,
  type LayerSpec,
  type ModelSpec,
} from '../../src/model-spec/index.js';

const model = (shape: ModelSpec['input']['shape'], ...layers: LayerSpec[]): ModelSpec => ({ input: { shape }, layers });

describe('windowOutputLength (TensorFlow rules)', () => {
  it.each([
    // in, F, S, padding, out
    [32, 8, 2, 'same', 16], // ceil(32 / 2)
    [32, 8, 2, 'valid', 13], // ceil((32 - 8 + 1) / 2)
    [32, 8, 2, [1, 1], 14], // floor((32 + 2 - 8) / 2) + 1, the lesson's formula
    [28, 5, 1, 'same', 28],
    [28, 2, 2, 'same', 14],
    [7, 2, 2, 'same', 4], // SAME rounds up where VALID rounds down
    [7, 2, 2, 'valid', 3],
    [5, 3, 2, [0, 1], 2], // uneven explicit padding
    [4, 5, 1, 'valid', 0], // does not fit
    [1, 1, 1, 'valid', 1],
  ] as const)('in=%i F=%i S=%i padding=%j → %i', (inLength, f, s, padding, out) => {
    expect(windowOutputLength(inLength, f, s, padding)).toBe(out);
  });
});

describe("planModel: the lesson's worked examples", () => {
  // 32x32x3 input, 20 filters of 8x8, stride 2.
  const conv = (padding: 'same' | 'valid' | number): LayerSpec => ({ type: 'conv2d', filters: 20, kernelSize: 8, strides: 2, padding });

  it.each([
    ['same', [16, 16, 20]],
    ['valid', [13, 13, 20]],
    [1, [14, 14, 20]],
  ] as const)('padding %j gives %j', (padding, shape) => {
    const plan = planModel(model([32, 32, 3], conv(padding)));
    expect(plan.outputShape).toEqual(shape);
    expect(plan.layers[0].params).toBe(3860); // (8 * 8 * 3 + 1) * 20, shared across space
  });

  it('counts 756,560 parameters without sharing for P = 1', () => {
    const [layer] = planModel(model([32, 32, 3], conv(1))).layers;
    expect(layer.paramsWithoutSharing).toBe(756_560); // (8 * 8 * 3 + 1) * (14 * 14 * 20)
    expect(layer.macs).toBe(14 * 14 * 20 * 8 * 8 * 3);
  });
});

describe("planModel: the lesson's MNIST network", () => {
  const plan = planModel(SEED_MNIST_MODEL);

  it('has 3,274,634 parameters', () => {
    expect(plan.totalParams).toBe(3_274_634);
    expect(plan.trainableParams).toBe(3_274_634);
    expect(plan.nonTrainableParams).toBe(0);
    expect(plan.weightBytes).toBe(3_274_634 * 4);
    expect(plan.limits).toEqual({ ...DEFAULT_PLAN_LIMITS, exceeded: [] });
  });

  it.each([
    [0, 'conv2d_1', [28, 28, 1], [28, 28, 32], 5 * 5 * 1 * 32 + 32],
    [1, 'max_pool2d_1', [28, 28, 32], [14, 14, 32], 0],
    [2, 'conv2d_2', [14, 14, 32], [14, 14, 64], 5 * 5 * 32 * 64 + 64],
    [3, 'max_pool2d_2', [14, 14, 64], [7, 7, 64], 0],
    [4, 'flatten_1', [7, 7, 64], [3136], 0],
    [5, 'dense_1', [3136], [1024], 7 * 7 * 64 * 1024 + 1024],
    [6, 'dropout_1', [1024], [1024], 0],
    [7, 'dense_2', [1024], [10], 1024 * 10 + 10],
  ])('layer %i is %s: %j → %j with %i parameters', (index, name, inputShape, outputShape, params) => {
    expect(plan.layers[index]).toMatchObject({ index, name, inputShape, outputShape, params });
  });

  it('counts conv and dense multiply-accumulates only', () => {
    const expected = 28 * 28 * 32 * 25 + 14 * 14 * 64 * 25 * 32 + 3136 * 1024 + 1024 * 10;
    expect(plan.macs).toBe(expected);
    expect(plan.layers.filter((l) => l.type !== 'conv2d' && l.type !== 'dense').every((l) => l.macs === 0)).toBe(true);
  });
});

describe('planModel: other layers', () => {
  it('plans the tiny CNN', () => {
    const plan = planModel(TINY_CNN_MODEL);
    expect(plan.layers.map((l) => l.outputShape)).toEqual([[13, 13, 8], [6, 6, 8], [288], [10]]);
    expect(plan.totalParams).toBe(80 + 2890);
  });

  it('plans the inception example: branches agree and channels add up', () => {
    const plan = planModel(INCEPTION_EXAMPLE_MODEL);
    const inception = plan.layers[2];
    expect(inception.name).toBe('mixed');
    expect(inception.inputShape).toEqual([14, 14, 16]);
    expect(inception.outputShape).toEqual([14, 14, 8 + 12 + 6 + 6]);
    expect(inception.branches?.map((b) => b.map((l) => l.name))).toEqual([['conv2d_1'], ['conv2d_2', 'conv2d_3'], ['conv2d_4', 'conv2d_5'], ['max_pool2d_2', 'conv2d_6']]);
    const branchParams = [16 * 8 + 8, 16 * 8 + 8 + 9 * 8 * 12 + 12, 16 * 4 + 4 + 25 * 4 * 6 + 6, 16 * 6 + 6];
    expect(inception.params).toBe(branchParams.reduce((a, b) => a + b));
    expect(plan.outputShape).toEqual([10]);
  });

  it('splits batch norm parameters into trainable and moving statistics', () => {
    const plan = planModel(model([8, 8, 6], { type: 'batchNorm' }, { type: 'flatten' }, { type: 'batchNorm' }));
    expect(plan.layers[0]).toMatchObject({ params: 24, trainableParams: 12, nonTrainableParams: 12 });
    expect(plan.layers[2]).toMatchObject({ params: 4 * 384, trainableParams: 2 * 384, nonTrainableParams: 2 * 384 });
    expect(plan.nonTrainableParams).toBe(12 + 2 * 384);
  });

  it('handles non-square kernels, strides and uneven explicit padding', () => {
    const plan = planModel(
      model([10, 20, 3], {
        type: 'conv2d',
        filters: 4,
        kernelSize: [3, 5],
        strides: [1, 2],
        padding: [0, 2, 1, 1],
        useBias: false,
      }),
    );
    // rows: floor((10 + 0 + 2 - 3) / 1) + 1 = 10; cols: floor((20 + 1 + 1 - 5) / 2) + 1 = 9
    expect(plan.outputShape).toEqual([10, 9, 4]);
    expect(plan.totalParams).toBe(3 * 5 * 3 * 4);
    expect(plan.layers[0].paramsWithoutSharing).toBe(3 * 5 * 3 * 10 * 9 * 4);
  });

  it('accepts a flat input followed by dense layers', () => {
    const plan = planModel(model([784], { type: 'dense', units: 16, activation: 'relu' }, { type: 'dense', units: 10 }));
    expect(plan.inputShape).toEqual([784]);
    expect(plan.totalParams).toBe(784 * 16 + 16 + 16 * 10 + 10);
  });

  it('reports a non-flat output as it is, leaving the judgement to the caller', () => {
    expect(planModel(model([8, 8, 1], { type: 'conv2d', filters: 2, kernelSize: 3 })).outputShape).toEqual([6, 6, 2]);
  });
});

describe('planModel: names', () => {
  it('counts generated names per type and skips names the user took', () => {
    const plan = planModel(
      model(
        [8, 8, 1],
        { type: 'conv2d', filters: 1, kernelSize: 1, name: 'conv2d_1' },
        { type: 'conv2d', filters: 1, kernelSize: 1 },
        { type: 'batchNorm' },
        { type: 'conv2d', filters: 1, kernelSize: 1, name: 'head' },
        { type: 'globalAvgPool2d' },
        { type: 'dense', units: 2 },
      ),
    );
    expect(plan.layers.map((l) => l.name)).toEqual(['conv2d_1', 'conv2d_2', 'batch_norm_1', 'head', 'global_avg_pool2d_1', 'dense_1']);
  });

  it('names a layer object that a spec built in code reuses once per use', () => {
    const block: LayerSpec = { type: 'conv2d', filters: 2, kernelSize: 3, padding: 'same' };
    const plan = planModel(model([8, 8, 1], block, block, { type: 'inception', branches: [[block], [block]] }));
    expect(plan.layers.map((l) => l.name)).toEqual(['conv2d_1', 'conv2d_2', 'inception_1']);
    expect(plan.layers[2].branches?.flat().map((l) => l.name)).toEqual(['conv2d_3', 'conv2d_4']);
  });

  it('leaves the input untouched and normalizes idempotently', () => {
    const spec = structuredClone(INCEPTION_EXAMPLE_MODEL);
    const before = JSON.stringify(spec);
    const normalized = normalizeModelSpec(spec);
    expect(JSON.stringify(spec)).toBe(before);
    expect(normalizeModelSpec(normalized)).toEqual(normalized);
    expect(planModel(normalized)).toEqual(planModel(spec));
  });

  it('defaults pool strides to the pool size', () => {
    const normalized = normalizeModelSpec(model([9, 9, 1], { type: 'avgPool2d', poolSize: [3, 2] }));
    expect(normalized.layers[0]).toEqual({ type: 'avgPool2d', name: 'avg_pool2d_1', poolSize: [3, 2], strides: [3, 2], padding: 'valid' });
  });
});

describe('planModel: limits', () => {
  const huge = model([1024, 1024, 3], { type: 'flatten' }, { type: 'dense', units: 746 });

  it('still plans a model over the limits and says why', () => {
    const plan = planModel(huge);
    expect(plan.totalParams).toBe(1024 * 1024 * 3 * 746 + 746);
    expect(plan.limits.exceeded).toEqual(['2,346,713,834 parameters exceed the limit of 50,000,000']);
  });

  it('uses the limits it is given', () => {
    const plan = planModel(SEED_MNIST_MODEL, { maxParams: 1_000_000, maxMacs: 1_000 });
    expect(plan.limits.maxParams).toBe(1_000_000);
    expect(plan.limits.exceeded).toEqual([
      '3,274,634 parameters exceed the limit of 1,000,000',
      `${plan.macs.toLocaleString('en-US')} multiply-accumulates per example exceed the limit of 1,000`,
    ]);
  });
});
