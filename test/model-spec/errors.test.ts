import { describe, expect, it } from 'vitest';
import { normalizeTrainingSpec, planModel } from '../../src/model-spec/index.js';
import { failure } from '../helpers/spec-error.js';

const planError = (spec: unknown) => failure(() => planModel(spec as never));
const image = (...layers: unknown[]) => ({ input: { shape: [28, 28, 1] }, layers });
const conv = (extra: object = {}) => ({ type: 'conv2d', filters: 4, kernelSize: 3, ...extra });

describe('SpecError', () => {
  it('is a named error with a stable code', () => {
    const err = planError(image({ type: 'dense', units: 2 }));
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('SpecError');
    expect(err.code).toBe('INVALID_SPEC');
    expect(err.statusCode).toBe(400);
    expect(JSON.parse(JSON.stringify(err))).toMatchObject({ code: 'INVALID_SPEC', message: err.message, layerIndex: 0 });
  });
});

describe('document-level errors', () => {
  it.each([
    ['not an object', [], 'the model spec must be a JSON object with "input" and "layers"', undefined],
    ['no input', { layers: [{ type: 'flatten' }] }, 'input is required', 'input'],
    [
      '2-D input',
      { input: { shape: [28, 28] }, layers: [{ type: 'flatten' }] },
      'input.shape must be [height, width, channels] or [features] of positive integers, got [28, 28]',
      'input.shape',
    ],
    [
      'zero-sized input',
      { input: { shape: [28, 0, 1] }, layers: [{ type: 'flatten' }] },
      'input.shape must be [height, width, channels] or [features] of positive integers, got [28, 0, 1]',
      'input.shape',
    ],
    ['no layers', image(), 'layers must have at least 1 item, got []', 'layers'],
    ['too many layers', image(...Array.from({ length: 201 }, () => ({ type: 'activation', activation: 'relu' }))), 'layers must have at most 200 items, got 201', 'layers'],
    ['layers not a list', { input: { shape: [4] }, layers: { type: 'dense' } }, 'layers must be a list, got {"type":"dense"}', 'layers'],
    ['version 2', { version: 2, ...image({ type: 'flatten' }) }, 'version must be 1, got 2', 'version'],
    ['unknown top-level field', { ...image({ type: 'flatten' }), optimizer: 'adam' }, 'optimizer is not an allowed field; allowed fields: version, input, layers', 'optimizer'],
  ])('%s', (_what, spec, message, field) => {
    const err = planError(spec);
    expect(err.message).toBe(message);
    expect(err.field).toBe(field);
    expect(err.layerIndex).toBeUndefined();
  });
});

describe('layer schema errors', () => {
  it.each([
    ['not an object', image('conv2d'), 'layer 0: must be an object with a "type" field', '/layers/0'],
    ['no type', image({ filters: 3 }), 'layer 0: "type" is required and must be a string', '/layers/0/type'],
    [
      'unknown type',
      image({ type: 'conv3d' }),
      'layer 0: type "conv3d" is not a known type; allowed: conv2d, maxPool2d, avgPool2d, globalAvgPool2d, flatten, dense, dropout, activation, batchNorm, inception',
      '/layers/0/type',
    ],
    ['missing filters', image({ type: 'conv2d', kernelSize: 3 }), 'layer 0 (conv2d): filters is required (an integer from 1 to 4096)', '/layers/0/filters'],
    [
      'kernelSize of one value',
      image(conv(), conv({ kernelSize: [3] })),
      'layer 1 (conv2d): kernelSize must be an integer from 1 to 4096 or [height, width], got [3]',
      '/layers/1/kernelSize',
    ],
    [
      'kernelSize of three values',
      image(conv({ kernelSize: [3, 3, 3] })),
      'layer 0 (conv2d): kernelSize must be an integer from 1 to 4096 or [height, width], got [3, 3, 3]',
      '/layers/0/kernelSize',
    ],
    ['kernelSize 0', image(conv({ kernelSize: 0 })), 'layer 0 (conv2d): kernelSize must be an integer from 1 to 4096 or [height, width], got 0', '/layers/0/kernelSize'],
    ['fractional filters', image(conv({ filters: 2.5 })), 'layer 0 (conv2d): filters must be an integer from 1 to 4096, got 2.5', '/layers/0/filters'],
    ['too many filters', image(conv({ filters: 5000 })), 'layer 0 (conv2d): filters must be an integer from 1 to 4096, got 5000', '/layers/0/filters'],
    [
      'bad padding',
      image(conv({ padding: 'full' })),
      'layer 0 (conv2d): padding must be "same", "valid", an integer from 0 to 4096 or [top, bottom, left, right], got "full"',
      '/layers/0/padding',
    ],
    ['pool padding', image({ type: 'maxPool2d', padding: 1 }), 'layer 0 (maxPool2d): padding must be one of "same", "valid", got 1', '/layers/0/padding'],
    [
      'unknown field',
      image(conv({ kernel_size: 3 })),
      'layer 0 (conv2d): kernel_size is not an allowed field; allowed fields: type, filters, kernelSize, strides, padding, ' +
        'activation, useBias, kernelInitializer, biasInitializer, name',
      '/layers/0/kernel_size',
    ],
    [
      'unknown activation',
      image({ type: 'flatten' }, { type: 'dense', units: 3, activation: 'leakyRelu' }),
      'layer 1 (dense): activation must be one of "linear", "relu", "relu6", "elu", "selu", "sigmoid", "hardSigmoid", ' +
        '"tanh", "softmax", "softplus", "softsign", "swish", "mish", "gelu", got "leakyRelu"',
      '/layers/1/activation',
    ],
    ['dropout rate 1', image({ type: 'dropout', rate: 1 }), 'layer 0 (dropout): rate must be a number ≥ 0 and < 1, got 1', '/layers/0/rate'],
    [
      'bad name',
      image({ type: 'flatten', name: 'my layer' }),
      "layer 0 (flatten \"my layer\"): name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, got \"my layer\"",
      '/layers/0/name',
    ],
    [
      'duplicate name',
      image(conv({ name: 'head' }), { type: 'flatten' }, { type: 'dense', units: 2, name: 'head' }),
      'layer 2 (dense "head"): name "head" is already used by layer 0; layer names must be unique',
      '/layers/2/name',
    ],
    [
      'one branch',
      image({ type: 'inception', branches: [[conv()]] }),
      'layer 0 (inception): branches must have at least 2 items, got [[{"type":"conv2d", "filters":4, "kernelSize":3}]]',
      '/layers/0/branches',
    ],
    [
      'empty branch',
      image({ type: 'inception', name: 'mixed', branches: [[conv()], []] }),
      'layer 0 (inception "mixed"): branches[1] must have at least 1 item, got []',
      '/layers/0/branches/1',
    ],
    [
      'dense in a branch',
      image({ type: 'inception', branches: [[conv()], [{ type: 'dense', units: 3 }]] }),
      'layer 0 (inception) branch 1 layer 0: type "dense" is not allowed inside an inception branch; ' + 'allowed: conv2d, maxPool2d, avgPool2d, batchNorm, activation, dropout',
      '/layers/0/branches/1/0/type',
    ],
    [
      'bad field in a branch',
      image({ type: 'inception', branches: [[conv()], [conv({ strides: -1 })]] }),
      'layer 0 (inception) branch 1 layer 0 (conv2d): strides must be an integer from 1 to 4096 or [height, width], got -1',
      '/layers/0/branches/1/0/strides',
    ],
    [
      'duplicate name in a branch',
      image(conv({ name: 'a' }), { type: 'inception', branches: [[conv()], [conv({ name: 'a' })]] }),
      'layer 1 (inception) branch 1 layer 0 (conv2d "a"): name "a" is already used by layer 0; layer names must be unique',
      '/layers/1/branches/1/0/name',
    ],
  ])('%s', (_what, spec, message, path) => {
    const err = planError(spec);
    expect(err.message).toBe(message);
    expect(err.path).toBe(path);
  });

  it('locates errors inside a branch by inception index, branch and position', () => {
    const err = planError(image(conv(), { type: 'inception', branches: [[conv()], [conv(), conv({ useBias: 'yes' })]] }));
    expect(err).toMatchObject({ layerIndex: 1, branch: 1, branchLayerIndex: 1, layerType: 'conv2d', field: 'useBias' });
    expect(err.message).toBe('layer 1 (inception) branch 1 layer 1 (conv2d): useBias must be true or false, got "yes"');
  });
});

describe('shape errors', () => {
  it.each([
    [
      "kernel larger than the input (the brief's example)",
      { input: { shape: [16, 16, 1] }, layers: [conv(), { type: 'maxPool2d', poolSize: 3 }, conv(), conv({ kernelSize: 5, name: 'conv2d_2' })] },
      'layer 3 (conv2d "conv2d_2"): kernel 5x5 with padding \'valid\' does not fit a 2x2 input',
      { layerIndex: 3, layerType: 'conv2d', layerName: 'conv2d_2', field: 'kernelSize' },
    ],
    [
      'kernel larger than the padded input',
      { input: { shape: [3, 3, 1] }, layers: [conv({ kernelSize: [6, 3], padding: [1, 1, 0, 0] })] },
      'layer 0 (conv2d): kernel 6x3 with padding [1, 1, 0, 0] does not fit a 3x3 input',
      { layerIndex: 0, layerName: 'conv2d_1', field: 'kernelSize' },
    ],
    [
      'pool larger than the input',
      { input: { shape: [4, 4, 2] }, layers: [{ type: 'avgPool2d', poolSize: [2, 5] }] },
      "layer 0 (avgPool2d): pool 2x5 with padding 'valid' does not fit a 4x4 input",
      { layerIndex: 0, layerType: 'avgPool2d', field: 'poolSize' },
    ],
    [
      'dense on an image',
      image(conv({ padding: 'same' }), { type: 'maxPool2d', poolSize: 2 }, conv({ filters: 64, padding: 'same' }), { type: 'maxPool2d' }, { type: 'dense', units: 10 }),
      'layer 4 (dense): expects a flat input, got [7, 7, 64]; add a flatten layer before it',
      { layerIndex: 4, layerType: 'dense', layerName: 'dense_1' },
    ],
    [
      'conv on a flat input',
      image({ type: 'flatten' }, { type: 'dense', units: 3136 }, conv()),
      'layer 2 (conv2d): expects a [height, width, channels] input, got [3136]',
      { layerIndex: 2, layerType: 'conv2d' },
    ],
    [
      'pool on a flat input',
      { input: { shape: [10] }, layers: [{ type: 'maxPool2d' }] },
      'layer 0 (maxPool2d): expects a [height, width, channels] input, got [10]',
      { layerIndex: 0 },
    ],
    [
      'global pool on a flat input',
      { input: { shape: [10] }, layers: [{ type: 'globalAvgPool2d' }] },
      'layer 0 (globalAvgPool2d): expects a [height, width, channels] input, got [10]',
      { layerIndex: 0 },
    ],
    [
      'flatten twice',
      image({ type: 'flatten' }, { type: 'flatten', name: 'again' }),
      'layer 1 (flatten "again"): expects a [height, width, channels] input, got [784]; the input is already flat, remove this layer',
      { layerIndex: 1, layerName: 'again' },
    ],
    [
      'inception on a flat input',
      { input: { shape: [10] }, layers: [{ type: 'inception', branches: [[conv()], [conv()]] }] },
      'layer 0 (inception): expects a [height, width, channels] input, got [10]',
      { layerIndex: 0, layerType: 'inception' },
    ],
    [
      "inception branches that disagree (the brief's example)",
      {
        input: { shape: [28, 28, 1] },
        layers: [
          conv({ padding: 'same' }),
          { type: 'maxPool2d' },
          { type: 'batchNorm' },
          { type: 'activation', activation: 'relu' },
          {
            type: 'inception',
            branches: [[conv({ kernelSize: 1 })], [conv({ padding: 'same' })], [conv({ kernelSize: 2 })]],
          },
        ],
      },
      'layer 4 (inception): branch 0 outputs 14x14 but branch 2 outputs 13x13; branches must agree in height and width',
      { layerIndex: 4, layerType: 'inception', layerName: 'inception_1', field: 'branches', path: '/layers/4/branches' },
    ],
    [
      'a layer inside a branch that does not fit',
      { input: { shape: [3, 3, 1] }, layers: [{ type: 'inception', name: 'mixed', branches: [[conv({ kernelSize: 1 })], [conv({ kernelSize: 1 }), conv({ kernelSize: 5 })]] }] },
      'layer 0 (inception "mixed") branch 1 layer 1 (conv2d): kernel 5x5 with padding \'valid\' does not fit a 3x3 input',
      { layerIndex: 0, branch: 1, branchLayerIndex: 1, layerType: 'conv2d', layerName: 'conv2d_3', path: '/layers/0/branches/1/1/kernelSize' },
    ],
  ])('%s', (_what, spec, message, fields) => {
    const err = planError(spec);
    expect(err.message).toBe(message);
    expect(err).toMatchObject(fields);
  });
});

describe('training spec errors', () => {
  it.each([
    ['not an object', 'adam', 'the training spec must be a JSON object', undefined],
    ['unknown optimizer', { optimizer: 'adagrad' }, 'optimizer must be one of "sgd", "momentum", "adam", "rmsprop", got "adagrad"', 'optimizer'],
    ['zero learning rate', { learningRate: 0 }, 'learningRate must be a number > 0 and ≤ 10, got 0', 'learningRate'],
    ['fractional epochs', { epochs: 2.5 }, 'epochs must be an integer from 1 to 1000, got 2.5', 'epochs'],
    [
      'splits leaving nothing',
      { validationSplit: 0.5, testSplit: 0.5 },
      'validationSplit + testSplit must be below 0.9, to leave at least 10% of the data for training; got 0.5 + 0.5',
      'testSplit',
    ],
    [
      'splits leaving too little',
      { validationSplit: 0.45, testSplit: 0.45 },
      'validationSplit + testSplit must be below 0.9, to leave at least 10% of the data for training; got 0.45 + 0.45',
      'testSplit',
    ],
    [
      'unknown field',
      { lr: 0.1 },
      'lr is not an allowed field; allowed fields: optimizer, learningRate, momentum, epochs, batchSize, validationSplit, testSplit, seed, earlyStopping, normalization, maxWallTimeSeconds, loss, learningRateSchedule, augmentation',
      'lr',
    ],
  ])('%s', (_what, raw, message, field) => {
    const err = failure(() => normalizeTrainingSpec(raw));
    expect(err.message).toBe(message);
    expect(err.field).toBe(field);
  });
});
