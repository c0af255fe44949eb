import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  SEED_MNIST_MODEL,
  TRAINING_DEFAULTS,
  buildOptimizer,
  defaultLossFor,
  finalActivation,
  normalizeModelSpec,
  normalizeTrainingSpec,
  type LayerSpec,
  type ModelSpec,
  type OptimizerName,
} from '../../src/model-spec/index.js';

const ending = (...layers: LayerSpec[]): ModelSpec => ({ input: { shape: [4] }, layers });

describe('normalizeTrainingSpec', () => {
  it('fills every default', () => {
    expect(normalizeTrainingSpec({})).toEqual(TRAINING_DEFAULTS);
    expect(normalizeTrainingSpec(undefined)).toEqual(TRAINING_DEFAULTS);
  });

  it('keeps what the user set', () => {
    const raw = {
      optimizer: 'momentum',
      learningRate: 0.5,
      momentum: 0.5,
      epochs: 1,
      batchSize: 8,
      validationSplit: 0,
      testSplit: 0.5,
      seed: 0,
      normalization: 'standardize',
      loss: 'meanSquaredError',
    } as const;
    expect(normalizeTrainingSpec(raw, SEED_MNIST_MODEL)).toEqual(raw);
  });

  it('takes the default loss from the model only when its output decides it', () => {
    expect(normalizeTrainingSpec({}, SEED_MNIST_MODEL).loss).toBe('categoricalCrossentropy');
    expect(normalizeTrainingSpec({}, ending({ type: 'dense', units: 1, activation: 'sigmoid' })).loss).toBe('binaryCrossentropy');
    expect('loss' in normalizeTrainingSpec({}, ending({ type: 'dense', units: 10 }))).toBe(false);
  });
});

describe('finalActivation and defaultLossFor', () => {
  it.each([
    ['softmax dense', ending({ type: 'dense', units: 3, activation: 'softmax' }), 'softmax', 'categoricalCrossentropy'],
    ['softmax then dropout', ending({ type: 'dense', units: 3, activation: 'softmax' }, { type: 'dropout', rate: 0.1 }), 'softmax', 'categoricalCrossentropy'],
    ['linear dense then softmax layer', ending({ type: 'dense', units: 3 }, { type: 'activation', activation: 'softmax' }), 'softmax', 'categoricalCrossentropy'],
    ['sigmoid', ending({ type: 'dense', units: 1, activation: 'sigmoid' }), 'sigmoid', 'binaryCrossentropy'],
    ['logits, as in the lesson', ending({ type: 'dense', units: 10 }), 'linear', undefined],
    ['batch norm last', ending({ type: 'dense', units: 10, activation: 'softmax' }, { type: 'batchNorm' }), 'linear', undefined],
  ] as const)('%s', (_what, model, activation, loss) => {
    expect(finalActivation(model)).toBe(activation);
    expect(finalActivation(normalizeModelSpec(model))).toBe(activation);
    expect(defaultLossFor(model)).toBe(loss);
  });
});

describe('buildOptimizer', () => {
  it.each([
    ['sgd', 'SGD', {}],
    ['momentum', 'Momentum', { momentum: 0.8 }],
    ['adam', 'Adam', {}],
    ['rmsprop', 'RMSProp', {}],
  ] as const)('%s', (optimizer: OptimizerName, className, config) => {
    const training = normalizeTrainingSpec({ optimizer, learningRate: 0.25, momentum: 0.8 });
    for (const built of [buildOptimizer(tf, training), buildOptimizer(training)]) {
      expect(built.getClassName()).toBe(className);
      expect(built.getConfig()).toMatchObject({ learningRate: 0.25, ...config });
      built.dispose();
    }
  });
});

describe('earlyStopping and maxWallTimeSeconds', () => {
  it('fills early-stopping defaults and keeps the wall-time limit', () => {
    const t = normalizeTrainingSpec({ earlyStopping: {}, maxWallTimeSeconds: 60 });
    expect(t.earlyStopping).toEqual({ monitor: 'val_loss', patience: 2, minDelta: 0 });
    expect(t.maxWallTimeSeconds).toBe(60);
    expect(normalizeTrainingSpec({}).earlyStopping).toBeUndefined();
  });

  it('refuses to monitor a validation metric without a validation set', () => {
    expect(() => normalizeTrainingSpec({ validationSplit: 0, earlyStopping: { monitor: 'val_accuracy' } })).toThrow(
      "earlyStopping.monitor 'val_accuracy' needs a validation set, but validationSplit is 0; monitor 'loss' or set validationSplit",
    );
  });
});
