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
import { failure } from '../helpers/spec-error.js';

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

describe('learningRateSchedule', () => {
  it.each([
    ['step', { type: 'step' }, { type: 'step', stepEpochs: 3, factor: 0.5 }],
    ['exponential', { type: 'exponential', factor: 0.8 }, { type: 'exponential', factor: 0.8 }],
    ['cosine with a warm-up', { type: 'cosine', warmupEpochs: 1 }, { type: 'cosine', warmupEpochs: 1, minLearningRate: 0 }],
    [
      'reduceOnPlateau',
      { type: 'reduceOnPlateau', monitor: 'val_accuracy', patience: 0 },
      { type: 'reduceOnPlateau', monitor: 'val_accuracy', factor: 0.1, patience: 0, minDelta: 0.0001, cooldown: 0, minLearningRate: 0 },
    ],
  ] as const)('fills the defaults of %s', (_what, schedule, normalized) => {
    expect(normalizeTrainingSpec({ epochs: 8, learningRateSchedule: schedule }).learningRateSchedule).toEqual(normalized);
  });

  it('is absent unless asked for', () => {
    expect(normalizeTrainingSpec({}).learningRateSchedule).toBeUndefined();
  });

  it.each([
    ['not an object', 'cosine', "learningRateSchedule must be an object with a type (step, exponential, cosine, reduceOnPlateau), got 'cosine'", 'learningRateSchedule'],
    ['no type', {}, 'learningRateSchedule.type is required; allowed: step, exponential, cosine, reduceOnPlateau', 'learningRateSchedule.type'],
    [
      'an unknown type',
      { type: 'linear' },
      "learningRateSchedule.type 'linear' is not a known type; allowed: step, exponential, cosine, reduceOnPlateau",
      'learningRateSchedule.type',
    ],
    [
      "another type's field",
      { type: 'step', warmupEpochs: 1 },
      'learningRateSchedule: warmupEpochs is not an allowed field; allowed fields: type, stepEpochs, factor',
      'learningRateSchedule.warmupEpochs',
    ],
    ['a factor of 1', { type: 'exponential', factor: 1 }, 'learningRateSchedule: factor must be a number > 0 and < 1, got 1', 'learningRateSchedule.factor'],
    [
      'a warm-up as long as training',
      { type: 'cosine', warmupEpochs: 5 },
      'learningRateSchedule.warmupEpochs must be below epochs (5), to leave epochs after the warm-up; got 5',
      'learningRateSchedule.warmupEpochs',
    ],
    [
      'a floor above the rate',
      { type: 'cosine', minLearningRate: 0.001 },
      'learningRateSchedule.minLearningRate must be below learningRate (0.001); got 0.001',
      'learningRateSchedule.minLearningRate',
    ],
  ])('refuses %s, naming the field', (_what, schedule, message, field) => {
    const err = failure(() => normalizeTrainingSpec({ learningRateSchedule: schedule }));
    expect(err.message).toBe(message);
    expect(err.field).toBe(field);
  });

  it('refuses to monitor a validation metric without a validation set', () => {
    expect(() => normalizeTrainingSpec({ validationSplit: 0, learningRateSchedule: { type: 'reduceOnPlateau' } })).toThrow(
      "learningRateSchedule.monitor 'val_loss' needs a validation set, but validationSplit is 0; monitor 'loss' or set validationSplit",
    );
    expect(normalizeTrainingSpec({ validationSplit: 0, learningRateSchedule: { type: 'reduceOnPlateau', monitor: 'loss' } }).learningRateSchedule).toMatchObject({
      monitor: 'loss',
    });
  });
});

describe('augmentation', () => {
  it('fills the defaults: every change off, flips too', () => {
    expect(normalizeTrainingSpec({ augmentation: { shift: 0.1, rotation: 10 } }).augmentation).toEqual({ shift: 0.1, rotation: 10, zoom: 0, flipHorizontal: false });
    expect(normalizeTrainingSpec({}).augmentation).toBeUndefined();
  });

  it.each([
    ['a shift past half the image', { shift: 0.6 }, 'augmentation.shift must be a number from 0 to 0.5, got 0.6'],
    ['a negative rotation', { rotation: -5 }, 'augmentation.rotation must be a number from 0 to 180, got -5'],
    ['an unknown change', { flipVertical: true }, 'augmentation.flipVertical is not an allowed field; allowed fields: shift, rotation, zoom, flipHorizontal'],
  ])('refuses %s', (_what, augmentation, message) => {
    expect(() => normalizeTrainingSpec({ augmentation })).toThrow(message);
  });
});
