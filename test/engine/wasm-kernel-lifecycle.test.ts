import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { selectEngine } from '../../src/engine/select-engine.js';
import { registeredWasmTrainingKernels, registerWasmTrainingKernels, unregisterWasmTrainingKernels, WASM_TRAINING_KERNELS } from '../../src/engine/wasm-training-kernels.js';
import { randomFloats } from './engine-test-helpers.js';
import { explicitPads, type ExplicitPads } from './kernel-cases.js';

type Pad = 'same' | 'valid' | ExplicitPads;

beforeAll(async () => {
  await selectEngine('wasm');
});

describe('memory', () => {
  it('frees every intermediate our kernels allocate', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as unknown as { numDataIds(): number };
    const runAll = (): void =>
      tf.tidy(() => {
        // Every route: direct, phased (stride 2), cropped, im2col, spread, and both matmul forms.
        const x = tf.tensor4d(randomFloats(3 * 10 * 10 * 3, 9), [3, 10, 10, 3]);
        const filter = tf.tensor4d(randomFloats(3 * 3 * 3 * 4, 10), [3, 3, 3, 4]);
        const gray = tf.tensor4d(randomFloats(3 * 10 * 10, 14), [3, 10, 10, 1]);
        const wide = tf.tensor4d(randomFloats(3 * 3 * 16, 15), [3, 3, 1, 16]);
        const cases: [tf.Tensor4D, tf.Tensor4D, number, Pad][] = [
          [x, filter, 1, 'valid'],
          [x, filter, 2, 'valid'],
          [gray, wide, 1, 'same'],
          [x, filter, 1, explicitPads([4, 0], [0, 4])],
        ];
        for (const [input, weights, strides, pad] of cases) {
          const dy = tf.conv2d(input, weights, strides, pad);
          const attrs = { strides, pad, dataFormat: 'NHWC' };
          tf.engine().runKernel('Conv2DBackpropFilter', { x: input, dy }, { ...attrs, filterShape: weights.shape });
          tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: weights }, { ...attrs, inputShape: input.shape });
        }
        const a = tf.tensor2d(randomFloats(40 * 30, 11), [40, 30]);
        tf.matMul(a, a, true, false);
        tf.matMul(a, tf.ones([2, 30]), false, true);
        const pooled = tf.maxPool(x, 2, 2, 'same');
        tf.engine().runKernel('MaxPoolGrad', { dy: pooled, input: x, output: pooled }, { filterSize: 2, strides: 2, pad: 'same' });
        tf.engine().runKernel('AvgPoolGrad', { dy: pooled, input: x }, { filterSize: 2, strides: 2, pad: 'same' });
        tf.sum(x, [0, 1, 2]);
        tf.mean(x, [0, 1]);
        tf.tile(pooled, [1, 2, 1, 3]);
      });
    runAll();
    const buffers = backend.numDataIds();
    const tensors = tf.memory().numTensors;
    runAll();
    expect(backend.numDataIds()).toBe(buffers);
    expect(tf.memory().numTensors).toBe(tensors);
  });
});

describe('registration', () => {
  it('is idempotent and quiet', () => {
    const warn = vi.spyOn(console, 'warn');
    try {
      expect(registerWasmTrainingKernels()).toEqual([...WASM_TRAINING_KERNELS]);
      expect(registerWasmTrainingKernels()).toEqual([...WASM_TRAINING_KERNELS]);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('can go back to the stock kernels and return', async () => {
    await tf.setBackend('wasm');
    try {
      unregisterWasmTrainingKernels();
      expect(registeredWasmTrainingKernels()).toEqual([]);
      expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
      expect(tf.getKernel('BatchMatMul', 'wasm')).toBeDefined();
      expect(registerWasmTrainingKernels(['Conv2DBackpropFilter'])).toEqual(['Conv2DBackpropFilter']);
    } finally {
      registerWasmTrainingKernels();
    }
    expect(registeredWasmTrainingKernels()).toEqual([...WASM_TRAINING_KERNELS]);
    // The restored stock kernels still work after the round trip.
    const product = tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([2, 3]), false, true).dataSync());
    expect(Array.from(product)).toEqual([3, 3, 3, 3]);
  });
});
