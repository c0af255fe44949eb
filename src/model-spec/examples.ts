import type { ModelSpec } from './model-spec.schema.js';

// Shared by tests, Swagger examples and seed data, so they are frozen: a
// caller that fills defaults in place (ajv's useDefaults does) would
// otherwise change them for everyone else. structuredClone one to edit it.
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}

/**
 * The lesson's MNIST network: two 5x5 SAME convolutions (32 and 64 filters)
 * each followed by 2x2 max pooling, a 1024-unit dense layer with dropout
 * (keep_prob 0.75 → rate 0.25) and a 10-way softmax. 28x28x1 → 14x14x32 →
 * 7x7x64 → 3136 → 1024 → 10; 3,274,634 parameters.
 */
export const SEED_MNIST_MODEL: ModelSpec = deepFreeze({
  input: { shape: [28, 28, 1] },
  layers: [
    { type: 'conv2d', filters: 32, kernelSize: 5, strides: 1, padding: 'same', activation: 'relu' },
    { type: 'maxPool2d', poolSize: 2, strides: 2, padding: 'same' },
    { type: 'conv2d', filters: 64, kernelSize: 5, padding: 'same', activation: 'relu' },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 1024, activation: 'relu' },
    { type: 'dropout', rate: 0.25 },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
});

/**
 * A small GoogLeNet-style network for 28x28x1 digits. The inception module
 * runs a 1x1 convolution, 1x1 → 3x3, 1x1 → 5x5 and 3x3 max-pool (stride 1,
 * same) → 1x1 side by side on 14x14x16 and stacks them into 14x14x32; the
 * 1x1 convolutions keep the 3x3 and 5x5 ones cheap.
 */
export const INCEPTION_EXAMPLE_MODEL: ModelSpec = deepFreeze({
  input: { shape: [28, 28, 1] },
  layers: [
    { type: 'conv2d', filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', name: 'stem' },
    { type: 'maxPool2d', poolSize: 2 },
    {
      type: 'inception',
      name: 'mixed',
      branches: [
        [{ type: 'conv2d', filters: 8, kernelSize: 1, activation: 'relu' }],
        [
          { type: 'conv2d', filters: 8, kernelSize: 1, activation: 'relu' },
          { type: 'conv2d', filters: 12, kernelSize: 3, padding: 'same', activation: 'relu' },
        ],
        [
          { type: 'conv2d', filters: 4, kernelSize: 1, activation: 'relu' },
          { type: 'conv2d', filters: 6, kernelSize: 5, padding: 'same', activation: 'relu' },
        ],
        [
          { type: 'maxPool2d', poolSize: 3, strides: 1, padding: 'same' },
          { type: 'conv2d', filters: 6, kernelSize: 1, activation: 'relu' },
        ],
      ],
    },
    { type: 'globalAvgPool2d' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
});

/**
 * The smallest useful digit classifier, for smoke tests and demos: one 3x3
 * stride-2 convolution with 8 filters, 2x2 max pooling and a softmax.
 * 28x28x1 → 13x13x8 → 6x6x8 → 288 → 10; 2,970 parameters. Trains in seconds.
 */
export const TINY_CNN_MODEL: ModelSpec = deepFreeze({
  input: { shape: [28, 28, 1] },
  layers: [
    { type: 'conv2d', filters: 8, kernelSize: 3, strides: 2, activation: 'relu' },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 10, activation: 'softmax' },
  ],
});
