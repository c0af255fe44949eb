import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACTIVATIONS,
  INCEPTION_EXAMPLE_MODEL,
  INITIALIZERS,
  SEED_MNIST_MODEL,
  TINY_CNN_MODEL,
  buildModel,
  planModel,
  type LayerPlan,
  type LayerSpec,
  type ModelSpec,
} from '../../src/model-spec/index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const built: tf.LayersModel[] = [];
afterAll(() => built.forEach((m) => m.dispose()));

function build(spec: ModelSpec, seed?: number): tf.LayersModel {
  const model = buildModel(spec, { seed });
  built.push(model);
  return model;
}

function weightCount(weights: tf.LayerVariable[]): number {
  return weights.reduce((sum, w) => sum + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);
}

function allLayerPlans(plans: LayerPlan[]): LayerPlan[] {
  return plans.flatMap((p) => [p, ...(p.branches ?? []).flat().flatMap((inner) => allLayerPlans([inner]))]);
}

const KITCHEN_SINK: ModelSpec = {
  input: { shape: [17, 13, 3] },
  layers: [
    { type: 'conv2d', filters: 6, kernelSize: [3, 5], strides: [2, 1], padding: [1, 0, 2, 2], useBias: false },
    { type: 'batchNorm', momentum: 0.9, epsilon: 0.01 },
    { type: 'activation', activation: 'elu' },
    { type: 'avgPool2d', poolSize: [2, 3], strides: [1, 2], padding: 'same' },
    { type: 'conv2d', filters: 10, kernelSize: 1, activation: 'relu6', name: 'squeeze' },
    { type: 'maxPool2d', poolSize: 3, strides: 1, padding: 'valid' },
    {
      type: 'inception',
      branches: [
        [{ type: 'conv2d', filters: 3, kernelSize: 1 }, { type: 'batchNorm' }, { type: 'activation', activation: 'swish' }],
        [
          { type: 'conv2d', filters: 4, kernelSize: 3, padding: 1 },
          { type: 'dropout', rate: 0.5 },
        ],
        [
          { type: 'avgPool2d', poolSize: 3, strides: 1, padding: 'same' },
          { type: 'conv2d', filters: 2, kernelSize: [1, 3], padding: 'same' },
        ],
        [
          { type: 'conv2d', filters: 5, kernelSize: [2, 3], padding: [0, 1, 1, 1] },
          { type: 'conv2d', filters: 5, kernelSize: 1 },
          { type: 'activation', activation: 'tanh' },
        ],
      ],
    },
    { type: 'conv2d', filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'mish' },
    { type: 'globalAvgPool2d' },
    { type: 'dense', units: 7, activation: 'softmax' },
  ],
};

const CASES: [string, ModelSpec][] = [
  ['the MNIST network', SEED_MNIST_MODEL],
  ['the inception example', INCEPTION_EXAMPLE_MODEL],
  ['the tiny CNN', TINY_CNN_MODEL],
  ['every layer type, odd sizes and explicit padding', KITCHEN_SINK],
  ['the lesson conv with P = 1', { input: { shape: [32, 32, 3] }, layers: [{ type: 'conv2d', filters: 20, kernelSize: 8, strides: 2, padding: 1 }] }],
  [
    'a flat input',
    {
      input: { shape: [20] },
      layers: [
        { type: 'dense', units: 12, activation: 'selu', useBias: false },
        { type: 'batchNorm' },
        { type: 'dropout', rate: 0.1 },
        { type: 'activation', activation: 'sigmoid' },
        { type: 'dense', units: 3 },
      ],
    },
  ],
];

describe('buildModel agrees with planModel', () => {
  it.each(CASES)('%s: shapes and parameter counts per layer', (_name, spec) => {
    const plan = planModel(spec);
    const model = build(spec, 1);
    for (const layerPlan of allLayerPlans(plan.layers)) {
      const layer = model.getLayer(layerPlan.name);
      expect(layer.outputShape, layerPlan.name).toEqual([null, ...layerPlan.outputShape]);
      if (layerPlan.type === 'inception') continue; // its tf layer is the concatenation; branches are checked one by one
      expect(layer.countParams(), layerPlan.name).toBe(layerPlan.params);
      expect(weightCount(layer.trainableWeights), layerPlan.name).toBe(layerPlan.trainableParams);
      expect(weightCount(layer.nonTrainableWeights), layerPlan.name).toBe(layerPlan.nonTrainableParams);
    }
    expect(model.countParams()).toBe(plan.totalParams);
    expect(model.outputs[0].shape).toEqual([null, ...plan.outputShape]);
  });

  it.each(CASES.filter(([name]) => name !== 'the MNIST network'))('%s: a forward pass has the planned shape', (_name, spec) => {
    const plan = planModel(spec);
    const model = build(spec, 2);
    const shape = tf.tidy(() => (model.predict(tf.ones([2, ...plan.inputShape])) as tf.Tensor).shape);
    expect(shape).toEqual([2, ...plan.outputShape]);
  });
});

describe('buildModel naming', () => {
  it('gives tfjs layers the plan names', () => {
    const model = build(SEED_MNIST_MODEL);
    const names = model.layers.map((l) => l.name);
    expect(names).toEqual(['input', ...planModel(SEED_MNIST_MODEL).layers.map((l) => l.name)]);
  });

  it('adds a zero-padding layer only for non-zero explicit padding, with a name no spec layer uses', () => {
    const spec: ModelSpec = {
      input: { shape: [8, 8, 1] },
      layers: [
        { type: 'conv2d', filters: 2, kernelSize: 3, padding: 1 },
        { type: 'conv2d', filters: 2, kernelSize: 3, padding: 0 },
        { type: 'activation', activation: 'relu', name: 'conv2d_1_pad' },
        { type: 'activation', activation: 'relu', name: 'input' },
      ],
    };
    const names = build(spec).layers.map((l) => l.name);
    expect(names).toEqual(['input_2', 'conv2d_1_pad_2', 'conv2d_1', 'conv2d_2', 'conv2d_1_pad', 'input']);
  });
});

describe('buildModel seeding', () => {
  const weightsOf = (model: tf.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));

  it('gives the same initial weights for the same seed and different ones for another', () => {
    const a = weightsOf(build(INCEPTION_EXAMPLE_MODEL, 42));
    const b = weightsOf(build(INCEPTION_EXAMPLE_MODEL, 42));
    const c = weightsOf(build(INCEPTION_EXAMPLE_MODEL, 43));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('does not give same-shaped kernels identical values', () => {
    const model = build(INCEPTION_EXAMPLE_MODEL, 42);
    // branches 0 and 1 both open with a 1x1 convolution from 16 to 8 channels
    const first = model.getLayer('conv2d_1').getWeights()[0];
    const second = model.getLayer('conv2d_2').getWeights()[0];
    expect(first.shape).toEqual(second.shape);
    expect(Array.from(first.dataSync())).not.toEqual(Array.from(second.dataSync()));
  });
});

describe('tfjs accepts every option the schema offers', () => {
  it.each(ACTIVATIONS)('activation %s', (activation) => {
    const model = build({ input: { shape: [4] }, layers: [{ type: 'dense', units: 3, activation }] });
    const out = tf.tidy(() => Array.from((model.predict(tf.ones([1, 4])) as tf.Tensor).dataSync()));
    expect(out.every(Number.isFinite)).toBe(true);
  });

  it.each(INITIALIZERS)('initializer %s', (initializer) => {
    const layer: LayerSpec = { type: 'conv2d', filters: 2, kernelSize: 2, kernelInitializer: initializer, biasInitializer: initializer };
    const model = build({ input: { shape: [3, 3, 1] }, layers: [layer] }, 5);
    const [kernel, bias] = model.getLayer('conv2d_1').getWeights();
    expect(kernel.shape).toEqual([2, 2, 1, 2]);
    expect(bias.shape).toEqual([2]);
  });
});
